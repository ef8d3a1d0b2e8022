"""Issue 18, through the gateway with the real catalog, orders, settlement and
insights: a partly refunded order always has a way out (R-ORD-5, R-ORD-8),
settlement never books a refund or commission without its sale (R-STL-1), and
the dashboard's figures from settlement and from insights agree to the won
for a scripted sequence with a coupon (R-STL-4: one allocation rule, one
definition of revenue)."""

from __future__ import annotations

import uuid

from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import fashion_shop, order, shop_item


def test_r_ord_5_r_ord_8_r_stl_1_r_stl_4_refunds_have_a_way_out_and_settlement_agrees_with_insights(partner_center):
    pc = partner_center("catalog", "orders", "settlement", "insights")
    shop = fashion_shop(pc)
    shop.add(shop_item("Bucket hat", [("Free", 15000)]), stock={"Free": 10})
    admin = shop.partner.admin.client
    coupon = expect(
        admin.post(
            f"{shop.path}/coupons",
            json={
                "name": "Opening",
                "discount_type": "fixed",
                "amount": 7777,
                "distribution": "code",
                "code": f"C{uuid.uuid4().hex[:8]}",
            },
        ),
        201,
    )
    first, second = pc.customer_session(), pc.customer_session()

    def approve_refund(customer, placed, lines):
        asked = expect(
            customer.client.post(
                f"/v1/shop/orders/{placed['order_id']}/refund-requests",
                json={"reason": "changed my mind", "lines": lines},
            ),
            201,
        )
        return expect(admin.post(f"{shop.path}/refund-requests/{asked['request_id']}/approve"), 200)

    def act(placed, action, **body):
        return expect(admin.post(f"{shop.path}/orders/{placed['order_id']}/{action}", json=body or None), 200)

    # Item 1: two units, shipment prepared, one refunded; the other cannot be refunded alone nor cancelled by
    # the customer, and each refusal says so truthfully; the partner can cancel (the rest is refunded).
    stuck = order(first, shop, "parcel", [shop.line("Linen shirt", 2, "White / M")], coupon_code=coupon["code"])
    act(stuck, "prepare-shipment")
    shirt_line = stuck["lines"][0]["line_id"]
    approve_refund(first, stuck, [{"line_id": shirt_line, "quantity": 1}])
    english = {"Accept-Language": "en"}
    refusal = assert_error(
        first.client.post(
            f"/v1/shop/orders/{stuck['order_id']}/refund-requests",
            json={"reason": "the other one too"},
            headers=english,
        ),
        409,
        "cancel_instead",
    )
    assert "ask the partner to cancel" in refusal["message"] and refusal["details"]["next"]["partner"] == [
        "ship",
        "cancel",
    ]
    refusal = assert_error(
        first.client.post(f"/v1/shop/orders/{stuck['order_id']}/cancel"), 409, "cancel_not_allowed"
    )  # in Korean by default
    assert refusal["details"]["reason"] == "shipment_started" and "판매자에게 주문 취소를 요청" in refusal["message"]
    cancelled = act(stuck, "cancel", reason="customer asked")
    assert (cancelled["status"], cancelled["payment_status"], cancelled["refunded_amount"]) == (
        "cancelled",
        "refunded",
        stuck["total"],
    )

    # A refund before completion (the hat), the order delivered, then a refund after completion (the shirt):
    # every unit of it paid back. And an order with the coupon, one of two shirts refunded after delivery.
    both = order(second, shop, "parcel", [shop.line("Linen shirt", 1, "Black / L"), shop.line("Bucket hat", 1)])
    act(both, "prepare-shipment")
    approve_refund(second, both, [{"line_id": both["lines"][1]["line_id"], "quantity": 1}])
    act(both, "ship", courier="CJ대한통운", invoice_number="1111-2222")
    act(both, "deliver")
    approve_refund(second, both, [{"line_id": both["lines"][0]["line_id"], "quantity": 1}])
    kept = order(
        second,
        shop,
        "parcel",
        [shop.line("Linen shirt", 2, "White / L"), shop.line("Bucket hat", 1)],
        coupon_code=coupon["code"],
    )
    act(kept, "prepare-shipment")
    act(kept, "ship", courier="한진", invoice_number="3333-4444")
    act(kept, "deliver")
    refund = approve_refund(second, kept, [{"line_id": kept["lines"][0]["line_id"], "quantity": 1}])

    paid = both["total"] + kept["total"]
    refunded = both["total"] + refund["amount"]

    def figures():
        dashboard = expect(admin.get(f"{shop.path}/dashboard"), 200)["sections"]
        statistics = expect(admin.get(f"{shop.path}/statistics"), 200)["revenue"]
        return (
            dashboard["settlement"]["sales"]["month_to_date"],
            dashboard["insights"]["month_to_date"]["revenue"],
            statistics,
        )

    eventually(
        lambda: figures()[0]["refunds"] == refunded and figures()[2]["refunds"] == refunded,
        timeout=30,
        message="settlement and insights saw every refund",
    )
    settled, insights_revenue, statistics = figures()
    assert (settled["sales"], settled["refunds"], settled["revenue"]) == (paid, refunded, paid - refunded)
    assert (statistics["sales"], statistics["refunds"], statistics["net"]) == (paid, refunded, paid - refunded)
    assert insights_revenue == settled["revenue"] == paid - refunded  # the dashboard's two figures agree
    assert settled["commission"] >= 0

    # By product, to the won: the summary of settlement and the statistics of insights (one allocation rule).
    summary = expect(admin.get(f"{shop.path}/sales-summary"), 200)
    by_settlement = {p["product_id"]: (p["sales"], p["refunds"], p["revenue"]) for p in summary["products"]}
    by_insights = {p["product_id"]: (p["sales"], p["refunds"], p["net"]) for p in statistics["by_product"]}
    assert by_settlement == by_insights
    assert sum(p[2] for p in by_settlement.values()) == paid - refunded

    # R-STL-1: the cancelled order left nothing in the ledger, and no order's commission is negative.
    ledger = expect(admin.get(f"{shop.path}/ledger", params={"limit": 100}), 200)["items"]
    assert not [t for t in ledger if t["source_ref"] == stuck["order_id"]]
    for order_id in (both["order_id"], kept["order_id"]):
        commission = sum(
            t["amount"] if t["kind"] == "commission" else -t["amount"]
            for t in ledger
            if t["source_ref"] == order_id and "commission" in t["kind"]
        )
        assert commission >= 0
