"""Crashes and outages, for real: an orders process killed (-9) between its
catalog hold and its order; the customer's retry with the same
Idempotency-Key reuses that hold (stock taken once), and a creation nobody
retries is swept by the timer, which gives its stock back. A cancellation
while the catalog is down still cancels; its stock returns once the catalog
is back (the release is kept in the database and retried)."""

from chassis.testing import eventually, rabbitmqctl, wait_until_serving
from support.api import assert_error, expect

from .helpers import ADDRESS, db_rows, fashion_shop, stock_of


def test_a_crash_after_the_hold_is_retried_or_swept_and_releases_survive_a_catalog_outage(
    partner_center, service_process, make_database, rpc, run_service, amqp_uri
):
    url = make_database("orders")
    pc = partner_center("catalog", gateway_config={"RPC_TIMEOUT": 4})
    shop = fashion_shop(pc, stock={"White / M": 5, "White / L": 5, "Black / L": 5})
    customer = pc.customer_session()
    body = {
        "partner_id": shop.partner.partner_id,
        "channel": "parcel",
        "shipping_address": ADDRESS,
        "lines": [shop.line("Linen shirt", 2, "White / M")],
    }

    def post(key):
        return customer.client.post("/v1/shop/orders", json=body, headers={"Idempotency-Key": key})

    # Two creations die right after their hold: the gateway answers 503, the stock is held.
    for key in ("retried", "abandoned"):
        crashing = service_process("orders", database_url=url, PC_FAULT_INJECT="orders_kill_after_hold").start()
        wait_until_serving(rpc, "orders")
        assert_error(post(key), 503, "service_unavailable")
        assert crashing.wait_exit() == -9
        # nameko would hand the unacknowledged request to the next orders process; drop it, so that
        # only the customer's own retry (or nobody) asks again.
        rabbitmqctl("purge_queue", "-p", amqp_uri.rsplit("/", 1)[1], "rpc-orders")
    assert stock_of(shop, "Linen shirt")["White / M"] == 1
    assert db_rows(url, "SELECT count(*), count(order_id) FROM creation_keys")[0] == (2, 0)

    service_process(
        "orders",
        database_url=url,
        PC_RPC_TIMEOUT="2",
        PC_ORDERS_TIMER_INTERVAL="0",
        PC_ORDERS_PENDING_CREATION_SECONDS="3",
        PC_ORDERS_RELEASE_RETRY_SECONDS="0",
    ).start()
    wait_until_serving(rpc, "orders")
    retried = expect(post("retried"), 201)  # the same hold: nothing taken twice
    assert stock_of(shop, "Linen shirt")["White / M"] == 1
    eventually(
        lambda: rpc.orders.run_timer_pass()["creations_swept"] == 1,
        timeout=20,
        interval=0.5,
        message="the abandoned creation swept",
    )
    assert stock_of(shop, "Linen shirt")["White / M"] == 3  # its two units are back
    assert db_rows(url, "SELECT count(*) FROM creation_keys WHERE order_id IS NULL")[0][0] == 0
    assert expect(post("abandoned"), 201)["order_id"] != retried["order_id"]  # evaluated again
    assert stock_of(shop, "Linen shirt")["White / M"] == 1

    # The catalog goes down: the cancellation still happens, its stock waits in the database.
    catalog_url = pc.containers["catalog"].config["DATABASE_URL"]
    pc.containers["catalog"].stop()
    cancelled = expect(customer.client.post(f"/v1/shop/orders/{retried['order_id']}/cancel"), 200)
    assert cancelled["status"] == "cancelled"
    assert db_rows(url, "SELECT count(*), max(attempts) FROM stock_releases WHERE released_at IS NULL")[0] == (1, 1)
    assert rpc.orders.run_timer_pass()["releases_sent"] == 0  # still down
    run_service("catalog", DATABASE_URL=catalog_url)
    assert rpc.orders.run_timer_pass()["releases_sent"] == 1
    assert stock_of(shop, "Linen shirt")["White / M"] == 3
    assert db_rows(url, "SELECT count(*) FROM stock_releases WHERE released_at IS NULL")[0][0] == 0
