"""R-RSV-3 under real concurrency: two catalog processes on one database,
200 holds of 1 at once per round. Exactly the capacity is granted, the rest is
refused with capacity_exhausted / out_of_stock, nothing else happens (no
deadlock, no timeout), and the database agrees."""

import random

import psycopg
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from chassis.errors import DomainError
from chassis.testing import eventually
from chassis.tests.broker import rpc_consumers

from .helpers import ACCOUNTS_STANDIN, approved, booking_body, day, goods_body, partner

HOLDS_PER_ROUND = 200


def deadlocks(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


@pytest.fixture
def two_catalogs(service_process, make_database, amqp_uri, run_service):
    run_service(ACCOUNTS_STANDIN)
    url = make_database("catalog")
    for _ in range(2):  # 6 workers each: 12 transactions at once, and few connections on a shared server
        service_process("catalog", database_url=url, PC_LOG_LEVEL="WARNING", PC_MAX_WORKERS="6").start()
    eventually(
        lambda: rpc_consumers(amqp_uri, "rpc-catalog") == 2, timeout=60, message="two catalog processes consuming"
    )
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        yield rpc, url


def storm(rpc, partner_id: str, holds: list[tuple[str, list]]) -> tuple[list[str], dict[str, int]]:
    """All holds in flight at once; returns the granted hold ids and the refusal codes counted."""
    replies = [(hold_id, rpc.catalog.hold.call_async(hold_id, partner_id, lines)) for hold_id, lines in holds]
    granted: list[str] = []
    refusals: dict[str, int] = {}
    for hold_id, reply in replies:
        try:
            assert reply.result()["status"] == "held"
            granted.append(hold_id)
        except DomainError as error:  # anything else (a deadlock, a timeout) fails the test
            refusals[error.code] = refusals.get(error.code, 0) + 1
    return granted, refusals


def taken(url: str, product_id: str, bucket_key: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT taken FROM capacity_buckets WHERE product_id = %s AND bucket_key = %s", (product_id, bucket_key)
        ).fetchone()[0]


def test_r_rsv_3_concurrent_holds_never_exceed_slot_capacity_or_price_maximum(two_catalogs):
    rpc, url = two_catalogs
    pid = partner()
    product = approved(
        rpc,
        pid,
        booking_body(prices=[{"label": "adult", "amount": 1000}, {"label": "child", "amount": 500, "max_quantity": 7}]),
    )
    adult, child = (p["price_id"] for p in product["live"]["prices"])
    capacities = [1, 2, 17, 50]
    times = [f"{9 + i:02d}:00" for i in range(len(capacities) + 1)]
    rpc.catalog.set_inventory(
        pid,
        product["product_id"],
        {"slots": [{"date": day(), "time": t, "capacity": c} for t, c in zip(times, capacities + [40], strict=True)]},
    )
    deadlocks_before = deadlocks(url)

    for time, capacity in zip(times, capacities, strict=False):  # the last time is the spare slot
        line = {"product_id": product["product_id"], "price_id": adult, "date": day(), "time": time, "quantity": 1}
        granted, refusals = storm(rpc, pid, [(f"{time}-{i}", [line]) for i in range(HOLDS_PER_ROUND)])
        assert len(granted) == capacity, (time, capacity, refusals)
        assert refusals == {"capacity_exhausted": HOLDS_PER_ROUND - capacity}
        assert taken(url, product["product_id"], f"slot:{day()}T{time}") == capacity

    # R-CAT-2: a price maximum (7) smaller than the slot (40) holds under the same storm.
    last = times[-1]
    line = {"product_id": product["product_id"], "price_id": child, "date": day(), "time": last, "quantity": 1}
    granted, refusals = storm(rpc, pid, [(f"child-{i}", [line]) for i in range(HOLDS_PER_ROUND)])
    assert len(granted) == 7 and refusals == {"capacity_exhausted": HOLDS_PER_ROUND - 7}
    # Mixed: adults fill the rest of the slot; the maximum and the slot hold together.
    holds = [(f"mix-{i}", [{**line, "price_id": random.choice([adult, child])}]) for i in range(HOLDS_PER_ROUND)]
    granted, refusals = storm(rpc, pid, holds)
    assert len(granted) == 40 - 7 and refusals == {"capacity_exhausted": HOLDS_PER_ROUND - 33}
    assert taken(url, product["product_id"], f"slot:{day()}T{last}") == 40
    assert taken(url, product["product_id"], f"price:{child}") == 7
    assert deadlocks(url) == deadlocks_before


def test_r_rsv_3_concurrent_holds_across_products_in_any_line_order_never_deadlock_nor_oversell_stock(two_catalogs):
    """Every hold takes a slot of two products, listing them in random order;
    rows are locked in one fixed order, so no two holds wait on each other.
    Then goods stock (R-CAT-3) under the same storm."""
    rpc, url = two_catalogs
    pid = partner()
    first, second = (approved(rpc, pid, booking_body(name=n)) for n in ("first", "second"))
    for product, capacity in ((first, 10), (second, 25)):
        rpc.catalog.set_inventory(
            pid, product["product_id"], {"slots": [{"date": day(), "time": "10:00", "capacity": capacity}]}
        )
    lines = [
        {
            "product_id": p["product_id"],
            "price_id": p["live"]["prices"][0]["price_id"],
            "date": day(),
            "time": "10:00",
            "quantity": 1,
        }
        for p in (first, second)
    ]
    deadlocks_before = deadlocks(url)
    holds = [(f"pair-{i}", random.sample(lines, 2)) for i in range(HOLDS_PER_ROUND)]
    granted, refusals = storm(rpc, pid, holds)
    assert len(granted) == 10 and refusals == {"capacity_exhausted": HOLDS_PER_ROUND - 10}
    assert taken(url, first["product_id"], f"slot:{day()}T10:00") == 10
    assert taken(url, second["product_id"], f"slot:{day()}T10:00") == 10  # all or nothing per hold

    # Releases and holds racing each other: capacity comes back exactly once per release.
    holds = [(f"again-{i}", random.sample(lines, 2)) for i in range(HOLDS_PER_ROUND)]
    releases = [rpc.catalog.release.call_async(hold_id, pid) for hold_id in granted[:5]]
    granted_again, _ = storm(rpc, pid, holds)
    assert all(r.result()["status"] == "released" for r in releases)
    assert len(granted_again) <= 5
    assert taken(url, first["product_id"], f"slot:{day()}T10:00") == 10 - 5 + len(granted_again)
    assert deadlocks(url) == deadlocks_before

    # R-CAT-3: goods stock under the same storm.
    shirt = approved(rpc, pid, goods_body())
    option_ids = [o["option_id"] for o in shirt["live"]["options"]]
    for stock in (1, 23, 50):
        rpc.catalog.set_inventory(
            pid, shirt["product_id"], {"stock": [{"option_id": option_ids[0], "quantity": stock}]}
        )
        line = {"product_id": shirt["product_id"], "option_id": option_ids[0], "quantity": 1}
        granted, refusals = storm(rpc, pid, [(f"s{stock}-{i}", [line]) for i in range(HOLDS_PER_ROUND)])
        assert len(granted) == stock and refusals == {"out_of_stock": HOLDS_PER_ROUND - stock}
        with psycopg.connect(url) as conn:
            capacity, held = conn.execute(
                "SELECT capacity, taken FROM capacity_buckets WHERE bucket_key = %s", (f"option:{option_ids[0]}",)
            ).fetchone()
        assert held == capacity  # sold out: what was set is exactly what was sold
