"""Acceptance (issue 22, first story): an owner signs up, registers a partner,
an operator verifies it, the owner creates a timed product and submits it,
the operator approves, a customer books through the API, the booking appears
live on 예약관리 (no reload; the tab's title counts it), the owner confirms and
completes it, and the customer's messages say so.

R-ACC-7 (landing), R-CAT-5 (review before going live), R-RSV-1/R-RSV-2
(requested -> confirmed -> completed by the partner), R-NTF-1 (the partner's
notification feeds the live stream), R-NTF-3 (the customer's messages).
"""

from __future__ import annotations

import pytest


@pytest.mark.timeout(480)
def test_R_RSV_2_owner_runs_a_booking_from_sign_up_to_completion_in_the_console(console):
    console("catalog", "reservations", "notifications").play("booking_story")
