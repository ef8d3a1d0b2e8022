"""R-ACC-14 for orders, through the gateway (issue 17 item 11): closing a partner
with ``open_bookings: cancel`` cancels each open order the partner may still cancel
(its EXITS: received, preparing, preparing_shipment) with a full refund of what is
left and its stock back; a shipped order cannot be cancelled and is left to finish
(the partner still marks it delivered); ``serve`` leaves every order to finish.
Until they are finished the partner's only admin may not withdraw (``orders_to_finish``).
New orders are refused. A redelivered ``partner.closed`` changes nothing (inbox)."""

from chassis.envelope import Envelope
from chassis.testing import eventually
from chassis.tests.broker import publish_envelope
from support.api import assert_error, expect

from .helpers import cafe, db_rows, fashion_shop, order, outbox, stock_of

CLOSE_AND_CANCEL = {"open_bookings": "cancel", "confirm": True}


def test_r_acc_14_closing_cancels_open_orders_with_a_full_refund_leaves_shipped_ones_and_serves(partner_center):
    pc = partner_center("catalog", "orders")
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    accounts_db = pc.containers["accounts"].config["DATABASE_URL"]
    amqp = pc.containers["orders"].config["AMQP_URI"]
    shop, serving, marker = fashion_shop(pc), cafe(pc), fashion_shop(pc)
    customer = pc.customer_session()
    admin = shop.partner.admin.client

    received = order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "White / M")])
    partly_refunded = order(customer, shop, "parcel", [shop.line("Linen shirt", 2, "White / M")])
    refund = expect(
        customer.client.post(
            f"/v1/shop/orders/{partly_refunded['order_id']}/refund-requests",
            json={
                "reason": "one is enough",
                "lines": [{"line_id": partly_refunded["lines"][0]["line_id"], "quantity": 1}],
            },
        ),
        201,
    )
    expect(admin.post(f"{shop.path}/refund-requests/{refund['request_id']}/approve"), 200)
    expect(admin.post(f"{shop.path}/orders/{partly_refunded['order_id']}/prepare-shipment"), 200)
    shipped = order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "Black / L")])
    expect(admin.post(f"{shop.path}/orders/{shipped['order_id']}/prepare-shipment"), 200)
    expect(
        admin.post(
            f"{shop.path}/orders/{shipped['order_id']}/ship",
            json={"courier": "CJ대한통운", "invoice_number": "1111-2222"},
        ),
        200,
    )
    kept = order(customer, serving, "takeout", [serving.line("Latte")])
    eventually(
        lambda: stock_of(shop, "Linen shirt") == {"White / M": 8, "White / L": 10, "Black / L": 9},
        message="stock taken (the refunded unit back)",
    )

    expect(admin.post(f"{shop.path}/close", json=CLOSE_AND_CANCEL), 200)
    expect(
        serving.partner.admin.client.post(f"{serving.path}/close", json={"open_bookings": "serve", "confirm": True}),
        200,
    )

    def seen(placed):
        return expect(customer.client.get(f"/v1/shop/orders/{placed['order_id']}"), 200)

    for placed in (received, partly_refunded):
        cancelled = eventually(
            lambda: (lambda o: o if o["status"] == "cancelled" else None)(seen(placed)), message="open orders cancelled"
        )
        assert (cancelled["refunded_amount"], cancelled["payment_status"]) == (placed["total"], "refunded")
        assert cancelled["cancelled_by"] == "partner" and "운영 종료" in cancelled["cancel_reason"]
    # Every unit not shipped is back in stock; the shipped shirt is on the road.
    eventually(
        lambda: stock_of(shop, "Linen shirt") == {"White / M": 10, "White / L": 10, "Black / L": 9},
        message="stock returned",
    )
    refunds = {o["order_id"]: o["refund_amount"] for o in outbox(orders_db, "order.cancelled")}
    assert refunds == {
        received["order_id"]: received["total"],
        partly_refunded["order_id"]: partly_refunded["total"] - 39000,
    }  # the rest of the money
    # The shipped order is left to finish, so its only admin stays until it is delivered (R-ACC-4 gives way
    # to R-ACC-14 only then); delivering it completes it, and the admin may go.
    assert seen(shipped)["status"] == "shipped"
    held = assert_error(admin.post("/v1/me/withdraw", json={"confirm": True}), 409, "orders_to_finish")
    assert held["details"]["open_orders"] == {shop.partner.partner_id: 1} and shop.partner.name in held["message"]
    assert expect(admin.post(f"{shop.path}/orders/{shipped['order_id']}/deliver"), 200)["status"] == "completed"
    # "serve": the cafe's order stays open and is served to the end, its admin with it.
    assert seen(kept)["status"] == "received"
    cafe_admin = serving.partner.admin.client
    assert_error(cafe_admin.post("/v1/me/withdraw", json={"confirm": True}), 409, "orders_to_finish")
    expect(cafe_admin.post(f"{serving.path}/orders/{kept['order_id']}/start-preparing", json={}), 200)
    expect(cafe_admin.post(f"{serving.path}/orders/{kept['order_id']}/complete"), 200)
    expect(cafe_admin.post("/v1/me/withdraw", json={"confirm": True}), 204)
    # New orders are refused, in the closed partner's words.
    assert_error(
        order(customer, shop, "parcel", [shop.line("Linen shirt", 1, "White / L")], expect_status=None),
        409,
        "partner_not_open",
    )

    # Redelivery: the same partner.closed again, then a fresh closing of another shop behind it on the
    # same queue; once that one has cancelled its order, the duplicate was consumed and did nothing.
    (closed_body,) = [
        row[0]
        for row in db_rows(
            accounts_db,
            "SELECT body FROM outbox WHERE event_type = 'partner.closed' AND body->'payload'->>'partner_id' = %s",
            (shop.partner.partner_id,),
        )
    ]
    last_order = order(customer, marker, "parcel", [marker.line("Linen shirt", 1, "White / M")])
    publish_envelope(amqp, Envelope.from_json(closed_body))
    expect(marker.partner.admin.client.post(f"{marker.path}/close", json=CLOSE_AND_CANCEL), 200)
    eventually(lambda: seen(last_order)["status"] == "cancelled", message="the later closing handled")
    assert sorted(o["order_id"] for o in outbox(orders_db, "order.cancelled")) == sorted(
        [received["order_id"], partly_refunded["order_id"], last_order["order_id"]]
    )
    assert stock_of(shop, "Linen shirt") == {"White / M": 10, "White / L": 10, "Black / L": 9}
    assert db_rows(orders_db, "SELECT count(*) FROM inbox WHERE event_id = %s", (closed_body["event_id"],)) == [(1,)]
    expect(admin.post("/v1/me/withdraw", json={"confirm": True}), 204)  # nothing left to finish
