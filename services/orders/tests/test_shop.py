"""Shop (parcel) orders through the gateway (seed 003): options, address,
payment and stock (R-ORD-6), shipping and tracking (R-ORD-7), refunds and
exchanges handled by the partner (R-ORD-8), inquiries and reviews (R-ORD-9),
with tenancy and roles enforced."""

from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import ADDRESS, ask_exchange, ask_refund, fashion_shop, order, outbox, stock_of


def test_r_ord_6_to_r_ord_9_a_parcel_from_order_to_review(partner_center, rpc):
    pc = partner_center("catalog", "orders", "insights")  # insights lists the partner's reviews (issue #11)
    shop = fashion_shop(pc, stock={"White / M": 5, "White / L": 1, "Black / L": 3})
    staff = pc.staff(shop.partner, "member").client
    customer, stranger = pc.customer_session(), pc.customer_session()
    other_shop = fashion_shop(pc)
    orders_db = pc.containers["orders"].config["DATABASE_URL"]

    # R-ORD-6: options, address and payment state; stock taken at order time.
    error = assert_error(
        customer.client.post(
            "/v1/shop/orders",
            headers={"Idempotency-Key": "k-no-option"},
            json={
                "partner_id": shop.partner.partner_id,
                "channel": "parcel",
                "shipping_address": ADDRESS,
                "lines": [shop.line("Linen shirt", 1)],
            },
        ),
        422,
    )
    assert "lines.0.option_id" in error["details"]["fields"]  # three options: the customer must pick one
    placed = order(
        customer, shop, "parcel", [shop.line("Linen shirt", 2, "White / M"), shop.line("Linen shirt", 1, "Black / L")]
    )
    assert (placed["status"], placed["total"], placed["payment_status"]) == ("received", 119000, "paid")
    assert [(line["option_label"], line["quantity"], line["amount"]) for line in placed["lines"]] == [
        ("White / M", 2, 78000),
        ("Black / L", 1, 41000),
    ]
    assert placed["shipping_address"] == {**ADDRESS, "memo": None}
    assert stock_of(shop, "Linen shirt") == {"White / M": 3, "White / L": 1, "Black / L": 2}
    white_m, black_l = (line["line_id"] for line in placed["lines"])
    order_path, my_order = f"{shop.path}/orders/{placed['order_id']}", f"/v1/shop/orders/{placed['order_id']}"

    # Tenancy: another customer or another partner's staff see nothing; customers never reach partner routes.
    assert_error(stranger.client.get(my_order), 404, "order_not_found")
    assert_error(stranger.client.post(f"{my_order}/cancel"), 404, "order_not_found")
    assert_error(
        other_shop.partner.admin.client.get(f"{other_shop.path}/orders/{placed['order_id']}"), 404, "order_not_found"
    )
    assert_error(
        other_shop.partner.admin.client.post(f"{other_shop.path}/orders/{placed['order_id']}/cancel"),
        404,
        "order_not_found",
    )
    assert_error(customer.client.get(f"{shop.path}/orders"), 403, "forbidden")
    assert expect(stranger.client.get("/v1/shop/orders"), 200)["items"] == []

    # R-ORD-8 before shipment: a partial refund returns its stock; refunding everything left is a cancellation.
    refund = expect(ask_refund(customer, placed["order_id"], "ordered one too many", (white_m, 1)), 201)
    assert (refund["status"], refund["amount"]) == ("requested", 39000)
    assert_error(ask_refund(customer, placed["order_id"], "x", (white_m, 2)), 409, "quantity_exceeds_order")
    assert_error(staff.post(f"{shop.path}/refund-requests/{refund['request_id']}/reject", json={}), 422)
    assert_error(
        other_shop.partner.admin.client.post(f"{other_shop.path}/refund-requests/{refund['request_id']}/approve"),
        404,
        "refund_request_not_found",
    )
    approved = expect(staff.post(f"{shop.path}/refund-requests/{refund['request_id']}/approve"), 200)
    assert approved["status"] == "approved"
    assert_error(staff.post(f"{shop.path}/refund-requests/{refund['request_id']}/approve"), 409, "invalid_state")
    assert stock_of(shop, "Linen shirt") == {"White / M": 4, "White / L": 1, "Black / L": 2}
    after_refund = expect(customer.client.get(my_order), 200)
    assert (after_refund["payment_status"], after_refund["refunded_amount"]) == ("partially_refunded", 39000)
    assert_error(
        customer.client.post(f"{my_order}/refund-requests", json={"reason": "all of it"}), 409, "cancel_instead"
    )
    # (the partner may still cancel it, the rest refunded: test_shop_money.py, issue 18)
    assert_error(
        ask_exchange(customer, shop, placed["order_id"], "size", white_m, "Linen shirt", "White / L"),
        409,
        "invalid_state",
    )  # R-ORD-4: not before it is shipped

    # R-ORD-7: shipping with courier and tracking number, seen by the customer.
    expect(staff.post(f"{order_path}/prepare-shipment"), 200)
    shipped = expect(
        staff.post(f"{order_path}/ship", json={"courier": "CJ대한통운", "invoice_number": "6543-2109"}), 200
    )
    tracking = expect(customer.client.get(my_order), 200)
    assert (tracking["status"], tracking["courier"], tracking["invoice_number"]) == (
        "shipped",
        "CJ대한통운",
        "6543-2109",
    ) and shipped["shipped_at"]

    # R-ORD-8 after shipment: a refund returns no stock (the goods are with the customer); a rejection has a reason.
    late = expect(ask_refund(customer, placed["order_id"], "colour differs", (black_l, 1)), 201)
    rejected = expect(
        staff.post(f"{shop.path}/refund-requests/{late['request_id']}/reject", json={"reason": "worn"}), 200
    )
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "worn")
    again = expect(ask_refund(customer, placed["order_id"], "colour differs, unworn", (black_l, 1)), 201)
    expect(staff.post(f"{shop.path}/refund-requests/{again['request_id']}/approve"), 200)
    assert stock_of(shop, "Linen shirt") == {"White / M": 4, "White / L": 1, "Black / L": 2}

    # Exchanges: another option at the same price; the new option is held before the old one returns.
    error = assert_error(
        ask_exchange(customer, shop, placed["order_id"], "size", white_m, "Linen shirt", "Black / L"), 409
    )
    assert error["code"] == "exchange_price_differs"
    swap = expect(
        ask_exchange(customer, shop, placed["order_id"], "too small", white_m, "Linen shirt", "White / L"), 201
    )
    expect(staff.post(f"{shop.path}/exchange-requests/{swap['request_id']}/approve"), 200)
    assert stock_of(shop, "Linen shirt") == {"White / M": 4, "White / L": 0, "Black / L": 2}  # not returned yet
    expect(staff.post(f"{shop.path}/exchange-requests/{swap['request_id']}/receive"), 200)  # issue 18 item 7
    assert stock_of(shop, "Linen shirt") == {"White / M": 5, "White / L": 0, "Black / L": 2}
    white_l = expect(customer.client.get(my_order), 200)["lines"][2]["line_id"]
    shirt = shop.products["Linen shirt"]["product_id"]
    expect(
        shop.partner.admin.client.put(
            f"{shop.path}/products/{shirt}/inventory",
            json={"stock": [{"option_id": shop.option("Linen shirt", "White / M"), "quantity": 0}]},
        ),
        200,
    )
    sold_out = expect(
        ask_exchange(customer, shop, placed["order_id"], "back to M", white_l, "Linen shirt", "White / M"), 201
    )
    assert_error(
        staff.post(f"{shop.path}/exchange-requests/{sold_out['request_id']}/approve"), 409, "out_of_stock"
    )  # the new option is held first: nothing changed
    expect(
        staff.post(f"{shop.path}/exchange-requests/{sold_out['request_id']}/reject", json={"reason": "sold out"}), 200
    )
    exchanged = expect(staff.get(order_path), 200)
    assert [(line["option_label"], line["quantity"], line["refunded_quantity"]) for line in exchanged["lines"]] == [
        ("White / M", 1, 1),
        ("Black / L", 1, 1),
        ("White / L", 1, 0),
    ]
    assert exchanged["lines"][2]["replaces_line_id"] == white_m and exchanged["total"] == 119000

    # R-ORD-9: inquiries answered once; reviews only on a completed order, one per line, replied once.
    ask = {"Idempotency-Key": "ask-1"}  # api.md: accepted on every POST
    inquiry = expect(
        customer.client.post(f"{my_order}/inquiries", json={"body": "When does it arrive?"}, headers=ask), 201
    )
    assert (
        expect(customer.client.post(f"{my_order}/inquiries", json={"body": "When does it arrive?"}, headers=ask), 201)
        == inquiry
    )
    assert_error(
        customer.client.post(f"{my_order}/inquiries", json={"body": "Where is it?"}, headers=ask),
        409,
        "idempotency_key_reused",
    )
    assert [i["inquiry_id"] for i in expect(staff.get(f"{shop.path}/inquiries?answered=false"), 200)["items"]] == [
        inquiry["inquiry_id"]
    ]
    answered = expect(
        staff.post(f"{shop.path}/inquiries/{inquiry['inquiry_id']}/answer", json={"body": "Tomorrow"}), 200
    )
    assert answered["answer"] == "Tomorrow"
    assert_error(
        staff.post(f"{shop.path}/inquiries/{inquiry['inquiry_id']}/answer", json={"body": "again"}),
        409,
        "already_answered",
    )
    assert_error(
        customer.client.post(f"{my_order}/reviews", json={"line_id": white_m, "rating": 5, "body": "ok"}),
        409,
        "review_not_allowed",
    )
    delivered = expect(staff.post(f"{order_path}/deliver"), 200)
    assert delivered["status"] == "completed"
    review = expect(
        customer.client.post(f"{my_order}/reviews", json={"line_id": white_m, "rating": 5, "body": "Fits well"}), 201
    )
    assert_error(
        customer.client.post(f"{my_order}/reviews", json={"line_id": white_m, "rating": 1, "body": "x"}),
        409,
        "review_exists",
    )
    assert_error(customer.client.post(f"{my_order}/reviews", json={"line_id": white_m, "rating": 6, "body": "x"}), 422)
    second = expect(
        customer.client.post(f"{my_order}/reviews", json={"line_id": black_l, "rating": 3, "body": "fine"}), 201
    )
    reply = expect(staff.post(f"{shop.path}/reviews/{review['review_id']}/reply", json={"body": "Thank you!"}), 200)
    assert reply["reply"] == "Thank you!"
    assert_error(
        staff.post(f"{shop.path}/reviews/{review['review_id']}/reply", json={"body": "x"}), 409, "already_replied"
    )
    # The partner's review list is insights' read model, fed by the review events: it follows shortly.
    eventually(
        lambda: (
            [r["review_id"] for r in expect(staff.get(f"{shop.path}/reviews?replied=false"), 200)["items"]]
            == [second["review_id"]]
        ),
        message="the unreplied review listed",
    )
    assert [r["status"] for r in expect(staff.get(f"{shop.path}/refund-requests"), 200)["items"]] == [
        "approved",
        "rejected",
        "approved",
    ]
    assert len(expect(staff.get(f"{shop.path}/exchange-requests?status=returned"), 200)["items"]) == 1

    # Events carry what notifications and settlement need: amounts per line, refunds and their lines.
    events = outbox(orders_db)
    refunds = [e for e in events if e["type"] == "order.refund_approved"]
    assert [(e["refund_amount"], e["refunded_line_ids"], e["request_id"]) for e in refunds] == [
        (39000, [white_m], refund["request_id"]),
        (41000, [black_l], again["request_id"]),
    ]
    assert {line["line_id"]: line["amount"] for line in refunds[0]["lines"]} == {white_m: 78000, black_l: 41000}
    assert [e["type"] for e in events][-8:] == [
        "order.exchange_rejected",
        "order.inquiry_posted",
        "order.inquiry_answered",
        "order.delivered",
        "order.completed",
        "order.review_posted",
        "order.review_posted",
        "order.review_replied",
    ]
    assert rpc.orders.settlement_totals(shop.partner.partner_id, "2000-01-01", "2999-12-31") == {
        shop.partner.partner_id: {"sales": 119000, "sales_count": 1, "fees": 0, "refunds": 80000}
    }
