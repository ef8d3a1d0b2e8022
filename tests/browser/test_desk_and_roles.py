"""Acceptance (issue 22, second and third stories), in a real browser.

desk: search by name and by the last four phone digits (R-RSV-8), the status
board (R-RSV-9), a rejection with its reason reaching the customer (R-RSV-2,
R-NTF-1), a chat requested from a reservation and answered (R-RSV-11);
screenshots of the main screens at desktop and phone widths (reports/console/).

roles: a member sees no product editing or settlement and is refused them
(R-ACC-11, api.md Roles) but confirms and rejects; the reservation actions in
keyboard order; a crawl of every link the console renders (no 5xx) with a
label on every form field, for an admin, a member and the operator.
"""

from __future__ import annotations

import pytest

from browser.support import staff_logins
from reservations.tests.helpers import booked, day, live_product


def booked_partner(pc):
    """A verified salon with a live timed product and two requests: 김다온 (…5678) and 이서준 (…4321)."""
    partner = pc.create_partner(category="salon")
    product = live_product(pc, partner, name="디자인 컷")
    customers = [pc.customer_session(), pc.customer_session()]
    numbers = [
        booked(customers[0], product, booker={"name": "김다온", "phone": "010-1234-5678"})["number"],
        booked(customers[1], product, booker={"name": "이서준", "phone": "010-9876-4321"})["number"],
    ]
    return partner, product, customers, numbers


@pytest.mark.timeout(480)
def test_R_RSV_8_search_board_rejection_with_reason_and_a_chat(console):
    site = console("catalog", "reservations", "notifications")
    partner, product, customers, numbers = booked_partner(site.pc)
    site.play(
        "desk_story",
        partner_id=partner.partner_id,
        admin_login=partner.admin.login_id,
        numbers=numbers,
        customer_tokens=[c.token for c in customers],
        date=day(),
    )


@pytest.mark.timeout(480)
def test_R_ACC_11_a_member_cannot_edit_products_or_see_settlement_and_no_console_link_fails(console):
    site = console("catalog", "reservations", "notifications", "settlement", "insights")  # the nav links 통계, 고객
    pc = site.pc
    partner, product, customers, numbers = booked_partner(pc)
    site.play("roles_story", **staff_logins(pc, partner), numbers=numbers)
