"""Orders (issue #6): orders created per second through the gateway, and the
R-ORD-2 auto-complete pass over 10,000 due orders with two instances.

Creation: 20 HTTP clients of one customer post dine-in orders (each with its
own Idempotency-Key) to one gateway, one accounts, one catalog and one orders
process. Each order costs the gateway ``accounts.authenticate`` and
``orders.create_order``; the order two transactions (its key, then the order
with its lines, key response and ``order.received`` outbox row) around
``catalog.hold`` (the partner's category is cached here, its verified status
in the catalog, R-ACC-8). Reported as
a ratio to the bare RPC echo of the same run.

Timer: 10,000 dine-in orders written straight into the database (setup
speed), all falling due at the same second, with two orders processes whose
timers tick every second. The figure is the wall time from the first claim
to the last commit of the passes that completed them (``timer_passes``), and
the bench checks each order completed exactly once (one ``order.completed``
outbox row per order).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import psycopg
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from bench import REPO, cpu_figure, cpu_per_unit, echo_near, http_rate, verified_partner
from benches.accounts import spawn_service, start_gateway
from gateway.devissuer import DEFAULT_KEY_FILE, DevIssuer

CLIENTS = 20
SECONDS = 5.0
DUE_ORDERS = 10_000


def run(ctx) -> list[dict]:
    created, cpu, near = creation_rate(ctx)
    seconds, instances = timer_pass(ctx)
    return [
        {
            "name": f"orders created through the gateway ({CLIENTS} HTTP clients, dine-in, 1 process each)",
            "value": created,
            "unit": "orders/s",
            "note": "gateway: authenticate + create_order; orders: 2 transactions around catalog.hold",
        },
        cpu_figure(
            "orders: CPU per cafe order (services + client; broker and database not counted)",
            cpu,
            ctx.echo_cpu_ms,
            near,
        ),
        {
            "name": f"auto-complete pass: {DUE_ORDERS:,} due orders, 2 instances (R-ORD-2)",
            "value": seconds,
            "unit": "s",
            "note": f"first claim to last commit; each order completed once; passes by {instances} "
            "instance(s), batches of 500 with one event each",
        },
        {
            "name": "auto-complete pass throughput",
            "value": DUE_ORDERS / seconds,
            "unit": "orders/s",
            "ratio_to_echo": None,
        },
    ]


# --- creation through the gateway -------------------------------------------------------


def creation_rate(ctx) -> tuple[float, dict[str, float], list[float]]:
    """Orders per second, CPU per order by process (issue 20), and the echo measured beside it."""
    accounts_url = ctx.start_service("accounts", {"PC_MAX_WORKERS": "20"})
    ctx.start_service("catalog", {"PC_MAX_WORKERS": "20"})
    ctx.start_service("orders", {"PC_MAX_WORKERS": "20", "PC_ORDERS_TIMER_INTERVAL": "0"})
    for service in ("accounts", "catalog", "orders"):
        ctx.rpc_ready(service)
    url = start_gateway(ctx)
    ctx.named["gateway"] = ctx.processes[-1]  # its CPU counts in the order's
    partner_id, product_id = cafe(url, ctx.amqp_uri, accounts_url)
    id_token = DevIssuer.from_file(REPO / DEFAULT_KEY_FILE).id_token("010-1111-2222", "Bench")
    customer = requests.post(f"{url}/v1/customer-sessions", json={"id_token": id_token}, timeout=30)
    customer.raise_for_status()
    body = {"partner_id": partner_id, "channel": "dine_in", "lines": [{"product_id": product_id, "quantity": 1}]}
    orders = f"{url}/v1/shop/orders"
    http_order_rate(orders, customer.json()["token"], body, clients=CLIENTS, seconds=1.0)  # warm caches and pools
    near = [echo_near(ctx)]
    before = ctx.cpu_seconds()
    rate, created = http_order_rate(orders, customer.json()["token"], body)
    cpu = cpu_per_unit(before, ctx.cpu_seconds(), created)
    return rate, cpu, [*near, echo_near(ctx)]


def cafe(url: str, amqp_uri: str, accounts_url: str) -> tuple[str, str]:
    """A verified cafe with one approved menu item (stock not tracked, as cafes sell)."""
    partner_id = verified_partner(url, accounts_url, "cafe")
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        product = rpc.catalog.create_product(
            partner_id,
            {"kind": "goods", "goods_type": "menu", "name": "Americano", "options": [{"label": "hot", "amount": 4500}]},
        )
        review = rpc.catalog.submit_product(partner_id, product["product_id"])
        rpc.catalog.approve_review(review["revision_id"], {}, "bench")
    return partner_id, product["product_id"]


def http_order_rate(
    url: str, token: str, body: dict, clients: int = CLIENTS, seconds: float = SECONDS
) -> tuple[float, int]:
    """Orders per second, and how many were created."""
    created = [0]

    def order(http):
        response = http.post(url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
        assert response.status_code == 201, response.text
        created[0] += 1

    return http_rate(token, order, clients, seconds), created[0]


# --- the auto-complete pass ----------------------------------------------------------------


def timer_pass(ctx) -> tuple[float, int]:
    from orders.tests.seed import insert_orders

    url = ctx.database("orders")
    due_in = 8.0
    due_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in)
    insert_orders(url, DUE_ORDERS, partner_id="bench-cafe", received_at=due_at - dt.timedelta(hours=1))
    for name in ("orders-a", "orders-b"):
        start_orders_on(ctx, url, name)
    deadline = time.monotonic() + due_in + 300
    while scalar(url, "SELECT count(*) FROM orders WHERE status = 'completed'") < DUE_ORDERS:
        if time.monotonic() > deadline:
            raise RuntimeError("the due orders were not completed")
        time.sleep(0.5)
    time.sleep(2)  # later ticks of both instances must find nothing more
    events, distinct = scalar(
        url,
        "SELECT count(*), count(DISTINCT body->'payload'->>'order_id') FROM outbox "
        "WHERE event_type = 'order.completed'",
        many=True,
    )
    assert events == distinct == DUE_ORDERS, (events, distinct)
    seconds, instances, completed = scalar(
        url,
        "SELECT extract(epoch FROM max(finished_at) - min(started_at)), count(DISTINCT instance), "
        "sum(completed) FROM timer_passes",
        many=True,
    )
    assert completed == DUE_ORDERS, completed
    return float(seconds), int(instances)


def start_orders_on(ctx, database_url: str, name: str) -> None:
    spawn_service(
        ctx,
        "orders",
        {
            "PC_ORDERS_DATABASE_URL": database_url,
            "PC_ORDERS_TIMER_INTERVAL": "1",
            "PC_ORDERS_INSTANCE_NAME": name,
            "PC_ORDERS_METRICS_PORT": "0",
        },
    )


def scalar(url: str, sql: str, many: bool = False):
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return row if many else row[0]
