"""Issue 18 through the gateway with real services: what a cafe or shop owner
hits (seeds 003, 004). Action routes validate their bodies (item 4); refusals
name the channel (item 8); short order numbers per partner and day, unique
under concurrency, with the customer's name in store (item 9, R-ORD-1);
preparation minutes and the auto-complete hour as a setting (item 10, R-ORD-2);
couriers' tracking links, an invoice corrected alone, one message on delivery,
no "사유 없음" (items 8, 11, R-ORD-3, R-ORD-7); coupon messages name a live
coupon (item 5, R-NTF-3); inventory labels (item 8); the upcoming payout
(item 14, R-STL-2)."""

from __future__ import annotations

import datetime as dt
import uuid

import eventlet

from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import cafe, fashion_shop, order, stock_of


def test_r_ord_1_r_ord_2_cafe_numbers_preparation_minutes_and_bodies_validated(partner_center):
    pc = partner_center("catalog", "orders", service_config={"orders": {"AUTO_COMPLETE_MINUTES": 30}})
    shop = cafe(pc)
    staff = pc.staff(shop.partner, "member").client
    customer = pc.customer_session(name="김다온")

    # Item 9: short numbers per partner and day, unique under concurrency; in store, the customer's name.
    first = order(customer, shop, "dine_in", [shop.line("Americano")])
    pool = eventlet.GreenPool(8)
    racing = list(pool.imap(lambda _: order(customer, shop, "takeout", [shop.line("Latte")]), range(8)))
    numbers = sorted(o["number"] for o in [first, *racing])
    assert numbers == list(range(1, 10)) and first["number"] == 1
    listed = expect(staff.get(f"{shop.path}/orders", params={"channel": "dine_in,takeout"}), 200)["items"]
    assert {o["number"] for o in listed} == set(numbers) and {o["customer_name"] for o in listed} == {"김다온"}
    assert listed[0]["number_day"] == dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date().isoformat()
    other = cafe(pc)
    assert order(customer, other, "dine_in", [other.line("Latte")])["number"] == 1  # per partner

    # Item 10: the auto-complete is the setting's minutes after receipt (30 here, one hour by default).
    received = dt.datetime.fromisoformat(first["received_at"])
    assert dt.datetime.fromisoformat(first["auto_complete_at"]) - received == dt.timedelta(minutes=30)

    # Item 4: bodies are validated (unknown fields 422 naming them); start-preparing takes {minutes}.
    path = f"{shop.path}/orders/{first['order_id']}"
    refused = assert_error(staff.post(f"{path}/start-preparing", json={"minutes": 15, "status": "completed"}), 422)
    assert set(refused["details"]["fields"]) == {"status"}
    assert (
        "minutes" in assert_error(staff.post(f"{path}/start-preparing", json={"minutes": 0}), 422)["details"]["fields"]
    )
    started = expect(staff.post(f"{path}/start-preparing", json={"minutes": 15}), 200)
    assert started["preparation_minutes"] == 15
    assert dt.datetime.fromisoformat(started["ready_at"]) - dt.datetime.fromisoformat(
        started["preparing_at"]
    ) == dt.timedelta(minutes=15)
    assert expect(customer.client.get(f"/v1/shop/orders/{first['order_id']}"), 200)["ready_at"] == started["ready_at"]
    refused = assert_error(staff.post(f"{path}/complete", json={"amount": 1}), 422)
    assert set(refused["details"]["fields"]) == {"amount"}
    assert expect(staff.post(f"{path}/complete", json={}), 200)["status"] == "completed"

    # Item 4: a delivery's actions refuse bodies too, and change nothing when they do.
    delivery = order(customer, shop, "delivery", [shop.line("Latte")])
    delivery_path = f"{shop.path}/orders/{delivery['order_id']}"
    assert_error(staff.post(f"{delivery_path}/prepare-shipment", json={"status": "completed", "amount": 1}), 422)
    assert expect(staff.get(delivery_path), 200)["status"] == "received"
    # Item 8: an action of another channel's flow names the channel and the ways out.
    refused = assert_error(
        staff.post(f"{delivery_path}/start-preparing", headers={"Accept-Language": "en"}), 409, "invalid_state"
    )
    assert refused["details"]["channels"] == ["dine_in", "takeout"] and "not delivery" in refused["message"]
    assert refused["details"]["next"]["partner"] == ["prepare_shipment", "cancel"]
    korean = assert_error(staff.post(f"{delivery_path}/start-preparing"), 409, "invalid_state")["message"]
    assert "매장, 포장 주문의 단계" in korean and "배송 준비, 취소" in korean


def test_r_ord_3_r_ord_7_r_ntf_3_r_stl_2_shop_tracking_messages_coupons_and_upcoming_payout(partner_center):
    pc = partner_center("catalog", "orders", "notifications", "settlement", "insights")
    shop = fashion_shop(pc)
    admin = shop.partner.admin.client
    customer = pc.customer_session()

    # Item 8: the inventory names each option's label beside its id.
    product_id = shop.products["Linen shirt"]["product_id"]
    inventory = expect(admin.get(f"{shop.path}/products/{product_id}/inventory"), 200)
    assert {s["label"] for s in inventory["stock"]} == {"White / M", "White / L", "Black / L"}

    # Item 11: the couriers the platform knows, each with its tracking page.
    couriers = {c["name"] for c in expect(admin.get(f"{shop.path}/couriers"), 200)["items"]}
    assert {"CJ대한통운", "한진택배", "롯데택배", "우체국택배", "로젠택배"} <= couriers
    placed = order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "White / M")])
    path = f"{shop.path}/orders/{placed['order_id']}"
    expect(admin.post(f"{path}/prepare-shipment"), 200)
    shipped = expect(admin.post(f"{path}/ship", json={"courier": "CJ", "invoice_number": "6543-2109"}), 200)
    assert shipped["tracking_url"] == "https://trace.cjlogistics.com/next/tracking.html?wblNo=6543-2109"
    # Item 8: the invoice corrected alone; the courier stays, the link follows.
    corrected = expect(admin.patch(f"{path}/shipment", json={"invoice_number": "6543-2110"}), 200)
    assert (corrected["courier"], corrected["tracking_url"]) == (
        "CJ",
        "https://trace.cjlogistics.com/next/tracking.html?wblNo=6543-2110",
    )
    assert (
        expect(customer.client.get(f"/v1/shop/orders/{placed['order_id']}"), 200)["tracking_url"]
        == corrected["tracking_url"]
    )
    assert_error(admin.post(f"{path}/deliver", json={"status": "cancelled"}), 422)
    expect(admin.post(f"{path}/deliver"), 200)

    # Item 4: an approval takes no amount.
    refund = expect(
        customer.client.post(f"/v1/shop/orders/{placed['order_id']}/refund-requests", json={"reason": "too small"}), 201
    )
    refused = assert_error(
        admin.post(f"{shop.path}/refund-requests/{refund['request_id']}/approve", json={"amount": 999999}), 422
    )
    assert set(refused["details"]["fields"]) == {"amount"}

    # Items 8, 9, 11 in messages: the short number, the tracking link, one message on delivery, no "사유 없음".
    unreasoned = order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "Black / L")])
    expect(admin.post(f"{shop.path}/orders/{unreasoned['order_id']}/cancel"), 200)

    def inbox():
        return expect(customer.client.get("/v1/shop/messages", params={"limit": 50}), 200)["items"]

    eventually(lambda: any(m["title"] == "주문 취소" for m in inbox()), timeout=30, message="cancellation told")
    messages = inbox()
    titles = [m["title"] for m in messages]
    assert titles.count("배송 완료") == 1 and "주문 완료" not in titles  # one message on delivery
    delivered = next(m for m in messages if m["title"] == "배송 완료")
    assert "write_review" in {a["kind"] for a in delivered["actions"]}
    tracking = next(m for m in messages if m["title"] == "송장 정보 변경")
    assert corrected["tracking_url"] in tracking["body"]
    cancelled = next(m for m in messages if m["title"] == "주문 취소")
    assert "사유" not in cancelled["body"] and f"{unreasoned['number']}번" in cancelled["body"]
    assert stock_of(shop, "Linen shirt")["Black / L"] == 10

    # Item 5: a coupon message names a live coupon of this partner, or is refused.
    sent = f"{shop.path}/channel-messages"
    for code in (None, "NOSUCHCODE"):
        refused = assert_error(
            admin.post(
                sent,
                json={
                    "audience": "all",
                    "kind": "coupon",
                    "body": "10% off",
                    **({"coupon_code": code} if code else {}),
                },
            ),
            422,
        )
        assert set(refused["details"]["fields"]) == {"coupon_code"}
    coupon = expect(
        admin.post(
            f"{shop.path}/coupons",
            json={
                "name": "Spring",
                "discount_type": "fixed",
                "amount": 1000,
                "distribution": "code",
                "code": f"S{uuid.uuid4().hex[:8]}",
            },
        ),
        201,
    )
    expect(admin.post(f"{shop.path}/coupons/{coupon['coupon_id']}/pause"), 200)
    assert_error(
        admin.post(sent, json={"audience": "all", "kind": "coupon", "body": "x", "coupon_code": coupon["code"]}), 422
    )
    expect(admin.post(f"{shop.path}/coupons/{coupon['coupon_id']}/resume"), 200)
    assert (
        expect(
            admin.post(
                sent,
                json={"audience": "all", "kind": "coupon", "body": "봄 할인", "coupon_code": coupon["code"].lower()},
            ),
            201,
        )["recipient_count"]
        == 1
    )

    # Item 14: /payouts shows the next payout's date and the amount it will carry.
    def payouts():
        return expect(admin.get(f"{shop.path}/payouts"), 200)

    eventually(lambda: payouts()["unsettled_balance"] > 0, timeout=30, message="the sale is in the ledger")
    body = payouts()
    upcoming = body["upcoming"]
    assert upcoming["amount"] == body["unsettled_balance"] and upcoming["status"] == "estimated"
    assert dt.date.fromisoformat(upcoming["pay_date"]) > dt.date.fromisoformat(upcoming["period_end"])
    assert dt.date.fromisoformat(upcoming["period_end"]).weekday() == 6  # weekly schedule: the week's Sunday


def test_r_ord_8_an_exchange_is_its_own_flow_return_receipt_replacement_delivered(partner_center):
    """Issue 18 item 7: approval holds the replacement and names the return pickup;
    the old unit goes back to stock only when it is received; the replacement ships
    with its courier, invoice and tracking link, then is delivered; each step in
    order, and the customer is told of each."""
    pc = partner_center("catalog", "orders", "notifications")
    shop = fashion_shop(pc)
    admin = shop.partner.admin.client
    customer = pc.customer_session()
    placed = order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "White / M")])
    path = f"{shop.path}/orders/{placed['order_id']}"
    expect(admin.post(f"{path}/prepare-shipment"), 200)
    expect(admin.post(f"{path}/ship", json={"courier": "한진", "invoice_number": "1000-2000"}), 200)
    expect(admin.post(f"{path}/deliver"), 200)
    asked = expect(
        customer.client.post(
            f"/v1/shop/orders/{placed['order_id']}/exchange-requests",
            json={
                "reason": "too small",
                "lines": [
                    {
                        "line_id": placed["lines"][0]["line_id"],
                        "quantity": 1,
                        "option_id": shop.option("Linen shirt", "White / L"),
                    }
                ],
            },
        ),
        201,
    )
    exchange = f"{shop.path}/exchange-requests/{asked['request_id']}"
    assert_error(admin.post(f"{exchange}/receive"), 409, "invalid_state")  # not approved yet
    assert (
        "return_invoice_number"
        in assert_error(admin.post(f"{exchange}/approve", json={"return_courier": "로젠"}), 422)["details"]["fields"]
    )
    approved = expect(
        admin.post(f"{exchange}/approve", json={"return_courier": "로젠", "return_invoice_number": "7000-8000"}), 200
    )
    assert approved["status"] == "approved"
    assert approved["return"]["tracking_url"] == "https://www.ilogen.com/web/personal/trace/7000-8000"
    assert stock_of(shop, "Linen shirt") == {"White / M": 9, "White / L": 9, "Black / L": 10}  # held, not returned
    assert_error(
        admin.post(f"{exchange}/ship", json={"courier": "CJ", "invoice_number": "3000-4000"}), 409, "invalid_state"
    )  # the return comes first
    assert expect(admin.post(f"{exchange}/receive"), 200)["status"] == "returned"
    assert stock_of(shop, "Linen shirt") == {"White / M": 10, "White / L": 9, "Black / L": 10}
    assert_error(admin.post(f"{exchange}/receive"), 409, "invalid_state")  # once
    assert_error(admin.post(f"{exchange}/ship", json={"courier": "CJ"}), 422)
    shipped = expect(admin.post(f"{exchange}/ship", json={"courier": "우체국", "invoice_number": "3000-4000"}), 200)
    assert (shipped["status"], shipped["replacement"]["tracking_url"]) == (
        "reshipped",
        "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1=3000-4000",
    )
    done = expect(admin.post(f"{exchange}/deliver"), 200)
    assert done["status"] == "exchanged" and done["replacement"]["delivered_at"]
    lines = expect(customer.client.get(f"/v1/shop/orders/{placed['order_id']}"), 200)["lines"]
    assert [(line["option_label"], line["quantity"]) for line in lines] == [("White / M", 0), ("White / L", 1)]

    def titles():
        return [
            m["title"] for m in expect(customer.client.get("/v1/shop/messages", params={"limit": 50}), 200)["items"]
        ]

    eventually(lambda: "교환 완료" in titles(), timeout=30, message="the exchange's steps told")
    assert {"교환 승인", "반송 상품 도착", "교환 상품 발송", "교환 완료"} <= set(titles())
