"""Stock under real concurrency (R-ORD-6, R-CAT-3): 200 orders at once through
the gateway for an option with stock S, served by two orders processes.
Exactly S succeed and the rest are 409 out_of_stock (no 5xx), the option then
shows sold out, and cancelling one order makes exactly one more possible."""

import uuid

import eventlet

from chassis.testing import eventually
from chassis.tests.broker import rpc_consumers
from support.api import assert_error, expect

from .helpers import ADDRESS, db_rows, fashion_shop, stock_of

STOCK = 37
STORM = 200


def test_r_ord_6_two_hundred_concurrent_orders_on_two_processes_take_exactly_the_stock(
    partner_center, service_process, make_database, amqp_uri
):
    url = make_database("orders")
    for _ in range(2):
        service_process(
            "orders", database_url=url, PC_LOG_LEVEL="WARNING", PC_RPC_TIMEOUT="60", PC_MAX_WORKERS="6"
        ).start()
    # Deadlines generous enough for 200 requests queued at once; pools kept small (a shared PostgreSQL).
    pc = partner_center(
        "catalog",
        gateway_config={"RPC_TIMEOUT": 60},
        service_config={"catalog": {"max_workers": 6}, "accounts": {"max_workers": 6}},
    )
    eventually(lambda: rpc_consumers(amqp_uri, "rpc-orders") == 2, timeout=60, message="two orders processes")
    shop = fashion_shop(pc, stock={"White / M": STOCK, "White / L": 5, "Black / L": 5})
    customers = [pc.customer_session() for _ in range(10)]
    body = {
        "partner_id": shop.partner.partner_id,
        "channel": "parcel",
        "shipping_address": ADDRESS,
        "lines": [shop.line("Linen shirt", 1, "White / M")],
    }

    def place(i: int):
        customer = customers[i % len(customers)]
        return customer.client.with_token(customer.token).post(
            "/v1/shop/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )

    answers = list(eventlet.GreenPool(STORM).imap(place, range(STORM)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * STOCK + [409] * (STORM - STOCK), statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"out_of_stock"}
    placed = [r.json() for r in answers if r.status_code == 201]
    assert stock_of(shop, "Linen shirt")["White / M"] == 0
    product = expect(pc.anonymous.get(f"/v1/shop/products/{shop.products['Linen shirt']['product_id']}"), 200)
    assert {o["label"]: o["sold_out"] for o in product["options"]} == {
        "White / M": True,
        "White / L": False,
        "Black / L": False,
    }
    assert db_rows(url, "SELECT count(*), count(DISTINCT hold_id), sum(total) FROM orders")[0] == (
        STOCK,
        STOCK,
        STOCK * 39000,
    )

    # Cancelling one gives exactly one unit back: of the next 20 at once, one succeeds.
    owner = next(
        c
        for c in customers
        if c.customer_id
        == expect(shop.partner.admin.client.get(f"{shop.path}/orders/{placed[0]['order_id']}"), 200)["customer_id"]
    )
    expect(owner.client.post(f"/v1/shop/orders/{placed[0]['order_id']}/cancel"), 200)
    assert stock_of(shop, "Linen shirt")["White / M"] == 1
    again = list(eventlet.GreenPool(20).imap(place, range(20)))
    assert sorted(r.status_code for r in again) == [201] + [409] * 19
    assert_error(place(0), 409, "out_of_stock")
    assert db_rows(url, "SELECT count(*) FILTER (WHERE status = 'received'), count(*) FROM orders")[0] == (
        STOCK,
        STOCK + 1,
    )
