"""Acceptance (issue 23), in a real browser: the cafe's order board (seed 004).

A takeout order placed through the API arrives live on 주문현황 with the tab's
count and goes through 준비시작 (from the list, with its minutes) to 처리완료
(R-ORD-1, R-ORD-2, the one-hour auto-complete shown with the time left); a
refusal shows the gateway's words (R-ORD-5); a delivery is shipped with
courier and invoice number and the invoice corrected (R-ORD-3, R-ORD-7).
"""

from __future__ import annotations

import uuid

import pytest

from orders.tests.helpers import cafe, fashion_shop, shop_item
from support.api import expect


@pytest.mark.timeout(480)
def test_R_ORD_2_takeout_arrives_live_and_goes_through_preparation_and_a_delivery_invoice_is_corrected(console):
    site = console("catalog", "orders", "notifications")
    store = cafe(site.pc)
    site.play(
        "commerce_stories.cafe_story",
        partner_id=store.partner.partner_id,
        admin_login=store.partner.admin.login_id,
        americano=store.products["Americano"]["product_id"],
        latte=store.products["Latte"]["product_id"],
    )


@pytest.mark.timeout(480)
def test_R_ORD_8_a_shop_order_with_a_coupon_shipped_then_a_refund_of_one_line_approved(console):
    """Seed 003: the shop's order with a coupon shipped with tracking, one line's refund approved on the
    order (R-ORD-3, R-ORD-7, R-ORD-8), the other line exchanged through its steps (issue 18 item 7), an
    inquiry answered (R-ORD-9), sold-out goods shown; the crawl over the shop's pages."""
    site = console("catalog", "orders", "notifications", "insights", "settlement", "reservations")
    store = fashion_shop(site.pc, stock={"White / M": 10, "White / L": 10, "Black / L": 0})
    store.add(shop_item("Bucket hat", [("Free", 15000)]), stock={"Free": 5})
    coupon = expect(
        store.partner.admin.client.post(
            f"{store.path}/coupons",
            json={
                "name": "오픈 기념",
                "discount_type": "fixed",
                "amount": 5000,
                "distribution": "code",
                "code": f"OPEN{uuid.uuid4().hex[:6]}",
            },
        ),
        201,
    )
    site.play(
        "commerce_stories.shop_story",
        partner_id=store.partner.partner_id,
        admin_login=store.partner.admin.login_id,
        coupon_code=coupon["code"],
        shirt=store.products["Linen shirt"]["product_id"],
        white_m=store.option("Linen shirt", "White / M"),
        black_l=store.option("Linen shirt", "Black / L"),
        white_l=store.option("Linen shirt", "White / L"),
        hat=store.products["Bucket hat"]["product_id"],
        hat_free=store.option("Bucket hat", "Free"),
    )


@pytest.mark.timeout(480)
def test_coupon_created_redeemed_limited_paused_and_resumed_in_the_console(console):
    """Coupons (issue #11, issue 23 item 5), the crawl over the cafe's new pages with no 5xx, and the new
    screens in English after the header's switch."""
    site = console("catalog", "orders", "notifications", "insights", "settlement", "reservations")
    store = cafe(site.pc)
    site.play(
        "commerce_stories.coupon_story",
        partner_id=store.partner.partner_id,
        admin_login=store.partner.admin.login_id,
        code=f"FIRST{uuid.uuid4().hex[:6]}".upper(),
        latte=store.products["Latte"]["product_id"],
    )
