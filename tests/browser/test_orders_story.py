"""Acceptance (issue 23), in a real browser: the cafe's order board (seed 004).

A takeout order placed through the API arrives live on 주문현황 with the tab's
count and goes through 준비시작 (from the list, with its minutes) to 처리완료
(R-ORD-1, R-ORD-2, the one-hour auto-complete shown with the time left); a
refusal shows the gateway's words (R-ORD-5); a delivery is shipped with
courier and invoice number and the invoice corrected (R-ORD-3, R-ORD-7).
"""
from __future__ import annotations

import pytest

from orders.tests.helpers import cafe


@pytest.mark.timeout(480)
def test_R_ORD_2_takeout_arrives_live_and_goes_through_preparation_and_a_delivery_invoice_is_corrected(console):
    site = console("catalog", "orders", "notifications")
    store = cafe(site.pc)
    site.play("commerce_stories.cafe_story", partner_id=store.partner.partner_id,
              admin_login=store.partner.admin.login_id,
              americano=store.products["Americano"]["product_id"], latte=store.products["Latte"]["product_id"])
