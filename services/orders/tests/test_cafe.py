"""Cafe orders through the gateway (seed 004): channels and the board
(R-ORD-1), dine-in/takeout states and the one-hour auto-complete with an
injected clock (R-ORD-2), delivery with courier and invoice (R-ORD-3), no
change after receipt (R-ORD-4), and every cancellation refusal of R-ORD-5."""

import datetime as dt

from support.api import assert_error, expect

from .helpers import cafe, order, outbox


def test_r_ord_1_r_ord_2_board_newest_first_by_channel_and_one_hour_auto_complete(partner_center, rpc):
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    member = pc.staff(shop.partner, "member")
    customer = pc.customer_session()
    dine_in = order(customer, shop, "dine_in", [shop.line("Americano", 2)])
    takeout = order(customer, shop, "takeout", [shop.line("Latte")], note="less ice")
    delivery = order(customer, shop, "delivery", [shop.line("Latte", 3)])
    assert (dine_in["status"], dine_in["total"], dine_in["payment_status"]) == ("received", 9000, "paid")
    assert dine_in["lines"][0]["product_name"] == "Americano" and dine_in["lines"][0]["amount"] == 9000
    received = dt.datetime.fromisoformat(dine_in["received_at"])
    assert dt.datetime.fromisoformat(dine_in["auto_complete_at"]) == received + dt.timedelta(hours=1)
    assert delivery["auto_complete_at"] is None  # R-ORD-3: delivery completes on delivery only

    # R-ORD-1: newest first, the in-store tab apart from the delivery tab.
    board = expect(member.client.get(f"{shop.path}/orders"), 200)
    assert [o["order_id"] for o in board["items"]] == [delivery["order_id"], takeout["order_id"], dine_in["order_id"]]
    in_store = expect(member.client.get(f"{shop.path}/orders?channel=dine_in,takeout"), 200)["items"]
    assert [o["order_id"] for o in in_store] == [takeout["order_id"], dine_in["order_id"]]
    assert [o["channel"] for o in expect(member.client.get(f"{shop.path}/orders?channel=delivery"), 200)["items"]] == [
        "delivery"
    ]
    page = expect(member.client.get(f"{shop.path}/orders?limit=2"), 200)
    rest = expect(member.client.get(f"{shop.path}/orders?limit=2&cursor={page['next_cursor']}"), 200)
    assert [o["order_id"] for o in page["items"] + rest["items"]] == [o["order_id"] for o in board["items"]]
    assert rest["next_cursor"] is None
    assert_error(member.client.get(f"{shop.path}/orders?channel=drive_through"), 422)
    assert (
        "cursor"
        in assert_error(member.client.get(f"{shop.path}/orders?cursor=WyJ4IiwgInkiXQ"), 422)["details"]["fields"]
    )

    # R-ORD-2: start preparing, complete by hand; complete needs preparing first.
    assert_error(member.client.post(f"{shop.path}/orders/{takeout['order_id']}/complete"), 409, "invalid_state")
    assert (
        expect(member.client.post(f"{shop.path}/orders/{takeout['order_id']}/start-preparing"), 200)["status"]
        == "preparing"
    )
    assert_error(member.client.post(f"{shop.path}/orders/{takeout['order_id']}/prepare-shipment"), 409, "invalid_state")
    done = expect(member.client.post(f"{shop.path}/orders/{takeout['order_id']}/complete"), 200)
    assert (done["status"], done["completed_by"]) == ("completed", "partner")

    # R-ORD-2: the dine-in order, never completed by hand, completes one hour after receipt, not a second before.
    early = rpc.orders.run_timer_pass((received + dt.timedelta(minutes=59, seconds=59)).isoformat())
    assert early["completed"] == 0
    assert expect(customer.client.get(f"/v1/shop/orders/{dine_in['order_id']}"), 200)["status"] == "received"
    due = rpc.orders.run_timer_pass((received + dt.timedelta(hours=1)).isoformat())
    assert (
        due["completed"] == 1
        and rpc.orders.run_timer_pass((received + dt.timedelta(hours=3)).isoformat())["completed"] == 0
    )
    auto = expect(customer.client.get(f"/v1/shop/orders/{dine_in['order_id']}"), 200)
    assert (auto["status"], auto["completed_by"]) == ("completed", "system")
    assert dt.datetime.fromisoformat(auto["completed_at"]) == received + dt.timedelta(hours=1)  # exact
    assert expect(customer.client.get(f"/v1/shop/orders/{delivery['order_id']}"), 200)["status"] == "received"

    events = outbox(pc.containers["orders"].config["DATABASE_URL"])
    completed = [e for e in events if e["type"] == "order.completed"]
    assert sorted((e["order_id"], e["actor"]) for e in completed) == sorted(
        [(takeout["order_id"], "partner"), (dine_in["order_id"], "system")]
    )
    received_event = next(e for e in events if e["type"] == "order.received" and e["order_id"] == dine_in["order_id"])
    assert received_event["lines"][0]["amount"] == 9000 and received_event["total"] == 9000
    assert received_event["customer_id"] == customer.customer_id and received_event["channel"] == "dine_in"


def test_r_ord_3_to_r_ord_5_delivery_no_change_after_receipt_and_every_cancel_refusal(partner_center):
    """R-ORD-3: delivery ships with courier and invoice, corrected while shipped, and delivery completes it.
    R-ORD-4: nothing changes after receipt; a cancellation and its refusal through the gateway (R-ORD-5)."""
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    staff = pc.staff(shop.partner, "member").client
    customer = pc.customer_session()
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    placed = order(customer, shop, "delivery", [shop.line("Latte", 2)])
    path = f"{shop.path}/orders/{placed['order_id']}"
    assert_error(staff.post(f"{path}/start-preparing"), 409, "invalid_state")  # that is dine-in/takeout
    assert_error(
        staff.post(f"{path}/ship", json={"courier": "CJ", "invoice_number": "123456789"}), 409, "invalid_state"
    )
    assert expect(staff.post(f"{path}/prepare-shipment"), 200)["status"] == "preparing_shipment"
    assert_error(
        staff.patch(f"{path}/shipment", json={"courier": "CJ", "invoice_number": "1234"}), 409, "invalid_state"
    )  # not shipped yet
    error = assert_error(staff.post(f"{path}/ship", json={"courier": "CJ"}), 422)
    assert "invoice_number" in error["details"]["fields"]
    shipped = expect(staff.post(f"{path}/ship", json={"courier": "CJ대한통운", "invoice_number": "5512-3456"}), 200)
    assert (shipped["status"], shipped["courier"], shipped["invoice_number"]) == ("shipped", "CJ대한통운", "5512-3456")
    corrected = expect(staff.patch(f"{path}/shipment", json={"courier": "한진", "invoice_number": "9988776655"}), 200)
    assert (corrected["courier"], corrected["invoice_number"]) == ("한진", "9988776655")
    delivered = expect(staff.post(f"{path}/deliver"), 200)
    assert delivered["status"] == "completed" and delivered["delivered_at"] and delivered["completed_at"]
    assert_error(
        staff.patch(f"{path}/shipment", json={"courier": "CJ", "invoice_number": "1234"}), 409, "invalid_state"
    )  # not after delivery
    types = [(e["type"], e.get("invoice_number")) for e in outbox(orders_db) if e["order_id"] == placed["order_id"]]
    assert types == [
        ("order.received", None),
        ("order.shipment_prepared", None),
        ("order.shipped", "5512-3456"),
        ("order.shipment_corrected", "9988776655"),
        ("order.delivered", "9988776655"),
        ("order.completed", "9988776655"),
    ]
    # The customer sees their own phone; the partner sees it masked.
    assert (
        expect(customer.client.get(f"/v1/shop/orders/{placed['order_id']}"), 200)["shipping_address"]["phone"]
        == "010-1234-5678"
    )
    assert expect(staff.get(path), 200)["shipping_address"]["phone"] == "010-****-5678"

    def place(channel):
        return order(customer, shop, channel, [shop.line("Americano")])["order_id"]

    # R-ORD-4: no change after receipt, on either side (R-ORD-5's refusals per state and who cancels are
    # domain.py's, test_domain; a cancellation's orchestration is test_use_cases').
    first = place("dine_in")
    assert_error(customer.client.patch(f"/v1/shop/orders/{first}", json={"lines": []}), 409, "order_not_changeable")
    assert_error(staff.patch(f"{shop.path}/orders/{first}", json={"lines": []}), 409, "order_not_changeable")
    cancelled = expect(customer.client.post(f"/v1/shop/orders/{first}/cancel"), 200)
    assert (cancelled["status"], cancelled["cancelled_by"], cancelled["payment_status"]) == (
        "cancelled",
        "customer",
        "refunded",
    )
    refusal = assert_error(staff.post(f"{shop.path}/orders/{first}/cancel"), 409, "cancel_not_allowed")
    assert refusal["details"]["reason"] == "already_cancelled"
    assert [(e["actor"], e["refund_amount"]) for e in outbox(orders_db, "order.cancelled")] == [("customer", 4500)]
