"""Order creation through the gateway: the Idempotency-Key (api.md), bad input
as 422 naming the field with nothing written, who may sell what (R-ACC-8,
R-ORD-1, R-ORD-6), and out_of_stock (R-CAT-3)."""

import uuid

import eventlet

from support.api import assert_error, expect

from .helpers import ADDRESS, cafe, db_rows, fashion_shop, order, stock_of


def test_idempotency_key_bad_input_and_who_sells_what(partner_center):
    """The Idempotency-Key replays, refuses reuse with another body and makes racing requests one order;
    bad input is a 422 naming the field with nothing written; only verified partners sell, each on the
    channels of its category (R-ACC-8, R-ORD-1, R-ORD-6); out_of_stock takes nothing (R-CAT-3)."""
    pc = partner_center("catalog", "orders")
    shop = fashion_shop(pc, stock={"White / M": 3, "White / L": 3, "Black / L": 3})
    customer, other = pc.customer_session(), pc.customer_session()
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    body = {
        "partner_id": shop.partner.partner_id,
        "channel": "parcel",
        "shipping_address": ADDRESS,
        "lines": [shop.line("Linen shirt", 1, "White / M")],
    }

    def post(client, payload, key):
        headers = {"Idempotency-Key": key} if key is not None else {}
        return client.post("/v1/shop/orders", json=payload, headers=headers)

    error = assert_error(post(customer.client, body, None), 422, "idempotency_key_required")
    assert "Idempotency-Key" in error["details"]["fields"]
    first = expect(post(customer.client, body, "key-1"), 201)
    replayed = expect(post(customer.client, {**body, "lines": [dict(body["lines"][0])]}, "key-1"), 201)
    assert replayed == first  # the first response, nothing taken twice
    assert_error(post(customer.client, {**body, "note": "gift wrap"}, "key-1"), 409, "idempotency_key_reused")
    assert expect(post(other.client, body, "key-1"), 201)["order_id"] != first["order_id"]  # keys are per customer
    assert stock_of(shop, "Linen shirt")["White / M"] == 1

    # Ten requests racing with one key make one order and take stock once.
    racing_body = {**body, "lines": [shop.line("Linen shirt", 1, "Black / L")]}
    answers = list(
        eventlet.GreenPool(10).imap(
            lambda _: post(customer.client.with_token(customer.token), racing_body, "key-race"), range(10)
        )
    )
    assert [r.status_code for r in answers] == [201] * 10
    assert len({r.json()["order_id"] for r in answers}) == 1
    assert stock_of(shop, "Linen shirt")["Black / L"] == 2

    # A refusal is the key's answer (api.md): after the stock comes back, the same key and body replay
    # it; a new key is evaluated again.
    big = {**body, "lines": [shop.line("Linen shirt", 3, "White / L"), shop.line("Linen shirt", 2, "White / M")]}
    error = assert_error(post(customer.client, big, "key-big"), 409, "out_of_stock")
    assert error["details"]["line"] == 1 and error["details"]["remaining"] == 1
    assert stock_of(shop, "Linen shirt") == {"White / M": 1, "White / L": 3, "Black / L": 2}  # all or nothing
    expect(customer.client.post(f"/v1/shop/orders/{first['order_id']}/cancel"), 200)
    assert assert_error(post(customer.client, big, "key-big"), 409, "out_of_stock") == error
    assert expect(post(customer.client, big, "key-big-2"), 201)["total"] == 5 * 39000
    assert stock_of(shop, "Linen shirt") == {"White / M": 0, "White / L": 0, "Black / L": 2}
    keys = db_rows(
        orders_db, "SELECT state, count(*), count(order_id) FROM creation_keys GROUP BY state ORDER BY state"
    )
    assert keys == [("done", 4, 4), ("failed", 1, 0)]  # key-1 twice (two customers), key-race, key-big(-2)

    # Bad input: a 422 naming the field, nothing written.
    coffee = cafe(pc)
    written = (
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox), "
        "(SELECT count(*) FROM creation_keys WHERE state <> 'failed')"
    )
    orders_before = db_rows(orders_db, written)[0]
    line = coffee.line("Americano")

    def refused(body, status=422, code=None):
        response = customer.client.post("/v1/shop/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        return assert_error(response, status, code)

    base = {"partner_id": coffee.partner.partner_id, "channel": "takeout", "lines": [line]}
    for mass_assigned in ({"status": "completed"}, {"total": 1}, {"customer_id": "someone-else"}):
        assert set(refused({**base, **mass_assigned})["details"]["fields"]) == set(mass_assigned)
    assert "lines.0.quantity" in refused({**base, "lines": [{**line, "quantity": 0}]})["details"]["fields"]
    assert "lines" in refused({**base, "lines": []})["details"]["fields"]
    assert "channel" in refused({**base, "channel": "drone"})["details"]["fields"]
    assert "lines.0.product_id" in refused({**base, "lines": [{"quantity": 1}]})["details"]["fields"]
    assert "shipping_address" in refused({**base, "channel": "delivery"})["details"]["fields"]
    assert "shipping_address" in refused({**base, "shipping_address": ADDRESS})["details"]["fields"]
    assert (
        "shipping_address.phone"
        in refused({**base, "channel": "delivery", "shipping_address": {**ADDRESS, "phone": "call me"}})["details"][
            "fields"
        ]
    )
    assert refused({**base, "note": "\x00"})["details"]["fields"]
    refused({**base, "lines": [{"product_id": str(uuid.uuid4()), "quantity": 1}]}, 404, "product_not_found")
    refused({**base, "partner_id": str(uuid.uuid4())}, 404, "partner_not_found")
    response = customer.client.post(
        "/v1/shop/orders", data=b"{not json", headers={"Idempotency-Key": "x", "Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_request")

    # R-ORD-1 / R-ORD-6: a cafe takes dine-in, takeout and delivery; parcels are for shops.
    assert (
        "channel"
        in refused({**base, "channel": "parcel", "shipping_address": ADDRESS}, 422, "channel_not_offered")["details"][
            "fields"
        ]
    )
    pending = pc.create_partner(category="cafe", verified=False)
    # R-ACC-8 is the catalog hold's check, made before it looks at the products of the lines.
    assert (
        refused(
            {**base, "partner_id": pending.partner_id, "lines": [coffee.line("Americano", 1, "regular")]},
            409,
            "partner_not_open",
        )["details"]["status"]
        == "pending_verification"
    )  # R-ACC-8
    assert (
        "channel"
        in refused(
            {
                **base,
                "partner_id": shop.partner.partner_id,
                "channel": "dine_in",
                "lines": [shop.line("Linen shirt", 1, "White / M")],
            },
            422,
            "channel_not_offered",
        )["details"]["fields"]
    )
    # Another partner's product is not this partner's: nothing to order.
    refused({**base, "lines": [shop.line("Linen shirt", 1, "White / M")]}, 404, "product_not_found")
    assert db_rows(orders_db, written)[0] == orders_before  # nothing half-written: only refusals kept for replay
    assert order(customer, coffee, "takeout", [line])["status"] == "received"
