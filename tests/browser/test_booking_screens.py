"""Issue 22's booking-side screens in a real browser (see booking_screens_stories.py):
the phone reveal recorded in the history (R-RSV-12), an edit in review shown beside
the live version while customers keep the live one (R-CAT-5), booking settings
saved and shown, a block on the inventory calendar refusing bookings through the
API (R-CAT-2), 회원탈퇴 refused for the last admin with the reason (R-ACC-4), the
operators' partner queue with what to check (R-ACC-8, R-ACC-15), and the crawl of
the new pages (no 5xx, a label on every field).
"""

from __future__ import annotations

import pytest

from browser.support import staff_logins
from reservations.tests.helpers import booked, live_product


@pytest.mark.timeout(480)
def test_R_RSV_12_R_CAT_5_R_CAT_2_R_ACC_4_booking_side_screens_reveal_edit_settings_calendar_withdraw_queue(console):
    site = console("catalog", "reservations", "notifications", "settlement", "insights")  # the nav links 통계, 고객
    pc = site.pc
    partner = pc.create_partner(category="salon")
    product = live_product(pc, partner, name="디자인 컷")
    customer = pc.customer_session()
    number = booked(customer, product, booker={"name": "김다온", "phone": "010-1234-5678"})["number"]
    waiting = pc.create_partner(category="studio", verified=False, name="하늘 스튜디오")
    site.play(
        "booking_screens_story",
        **staff_logins(pc, partner),
        number=number,
        product_id=product["product_id"],
        customer_token=customer.token,
        pending_partner_id=waiting.partner_id,
    )
