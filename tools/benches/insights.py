"""Insights (issue #11): the statistics route's latency over a partner with
100,000 bookings.

The read model is seeded in bulk with SQL straight into insights' database
(``INSERT ... SELECT generate_series``: 100,000 bookings of the partner over
the last 366 days, 20 products, 10 slot times a day, every state; plus as many
bookings of 50 other partners and 5,000 completed orders of the partner), and
the rollups that statistics read (``booking_days``, ``booking_slots``,
``order_days``, ``order_product_days``) are recounted from them with
``insights.store.rebuild_rollups``, as the event handlers keep them. Then ``GET /v1/partners/<pid>/statistics`` is asked
through the gateway (accounts authenticates, insights aggregates the rollups
in SQL): over the whole year (all 100,000 bookings counted in
every answer) by one client (a request's own latency) and by 10 at once (the
machine's 2 cores shared: latency is mostly queueing), and over the last 31
days by 10.
Processes: gateway, accounts and insights, one each.
"""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import requests
from psycopg.rows import dict_row

from bench import cpu_figure, cpu_per_unit, http_rate
from benches.accounts import set_up, start_gateway
from benches.reservations import percentile
from chassis.db import UnitOfWork
from insights import domain, store

BOOKINGS = 100_000
OTHER_PARTNERS = 50
ORDERS = 5_000
CLIENTS = 10
SECONDS = 8.0


def run(ctx) -> list[dict]:
    ctx.start_service("accounts", {"PC_MAX_WORKERS": "20"})
    url = ctx.start_service("insights", {"PC_MAX_WORKERS": "10"})
    ctx.rpc_ready("accounts")
    ctx.rpc_ready("insights")
    gateway = start_gateway(ctx)
    ctx.named["gateway"] = ctx.processes[-1]  # its CPU is counted with the services'
    token, partner_id = set_up(gateway, ctx.amqp_uri)
    today = domain.today_in_partner_zone()
    year_from = today - timedelta(days=domain.MAX_RANGE_DAYS - 1)
    seed(url, partner_id, year_from)
    base = f"{gateway}/v1/partners/{partner_id}/statistics"
    measure(f"{base}?from={year_from.isoformat()}&to={today.isoformat()}", token, CLIENTS, 2.0)  # warm pools, caches
    figures = []
    for label, date_from, clients in (
        ("a year, all 100,000 bookings", year_from, 1),
        ("a year, all 100,000 bookings", year_from, CLIENTS),
        ("31 days", today - timedelta(days=30), CLIENTS),
    ):
        before = ctx.cpu_seconds()
        rate, latencies, checked = measure(
            f"{base}?from={date_from.isoformat()}&to={today.isoformat()}", token, clients
        )
        cpu = cpu_per_unit(before, ctx.cpu_seconds(), len(latencies))
        name = f"insights: statistics over {label}, {clients} HTTP client{'s' if clients > 1 else ''}"
        figures += [
            {
                "name": f"{name} (p50)",
                "value": percentile(latencies, 50),
                "unit": "ms",
                "note": f"{len(latencies)} requests; bookings counted per answer {checked}",
            },
            {"name": f"{name} (p99)", "value": percentile(latencies, 99), "unit": "ms"},
            {"name": name, "value": rate, "unit": "requests/s", "note": "authenticate + statistics RPC per request"},
            cpu_figure(
                f"{name}: CPU per request (services + client; broker and database not counted)", cpu, ctx.echo_cpu_ms
            ),
        ]
    return figures


def seed(url: str, partner_id: str, date_from) -> None:
    states = "ARRAY['requested','confirmed','completed','completed','completed','cancelled','no_show','rejected']"
    with psycopg.connect(url) as conn:
        conn.execute(
            f"""INSERT INTO bookings (partner_id, reservation_number, product_id, customer_id, status, use_date,
                                      use_time, booked_at, quantity, total, fees, visited_at, occurred_at)
                SELECT CASE WHEN n <= %(bookings)s THEN %(partner)s ELSE 'bench-' || (n %% %(others)s) END,
                       'B' || n, 'prod-' || (n %% 20), 'cust-' || (n %% 5000), ({states})[1 + n %% 8],
                       %(from)s::date + (n %% 366), time '09:00' + ((n / 366) %% 10) * interval '1 hour',
                       now() - interval '400 days', 1 + n %% 3, 10000 + (n %% 7) * 1000,
                       CASE WHEN n %% 8 = 6 THEN 10000 ELSE 0 END, NULL, now()
                FROM generate_series(1, %(all)s) n""",
            {
                "bookings": BOOKINGS,
                "partner": partner_id,
                "others": OTHER_PARTNERS,
                "from": date_from,
                "all": 2 * BOOKINGS,
            },
        )
        conn.execute(
            """INSERT INTO orders (partner_id, order_id, customer_id, channel, status, received_at, total,
                                   refunded_total, occurred_at)
               SELECT %(partner)s, 'O' || n, 'cust-' || (n %% 5000), 'parcel', 'completed',
                      (%(from)s::date + (n %% 366))::timestamp AT TIME ZONE 'Asia/Seoul' + interval '12 hours',
                      30000, CASE WHEN n %% 10 = 0 THEN 5000 ELSE 0 END, now()
               FROM generate_series(1, %(orders)s) n""",
            {"partner": partner_id, "from": date_from, "orders": ORDERS},
        )
        conn.execute("""INSERT INTO order_products (partner_id, order_id, product_id, sales, refunds)
                        SELECT partner_id, order_id, 'goods-1', total, refunded_total FROM orders""")
        conn.commit()
    with psycopg.connect(url, row_factory=dict_row) as rows_conn, rows_conn.transaction():  # what statistics read
        uow = UnitOfWork(rows_conn, None, "insights")
        for row in uow.fetch_all("SELECT partner_id FROM bookings UNION SELECT partner_id FROM orders"):
            store.rebuild_rollups(uow, row["partner_id"])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would after a bulk load


def measure(url: str, token: str, clients: int, seconds: float = SECONDS) -> tuple[float, list[float], str]:
    """Requests per second, their sorted latencies (ms), and what the answers were
    (the bookings one counted; any status but 200, counted, never silently dropped)."""
    latencies: list[float] = []
    counted: set[str] = set()
    statuses: dict[int, int] = {}

    def get(http):
        started = time.monotonic()
        try:
            response = http.get(url, timeout=60)
            status = response.status_code
        except requests.RequestException as exc:
            status, response = type(exc).__name__, None
        latencies.append((time.monotonic() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200 and not counted:
            counted.add(response.json()["bookings"]["total"])

    rate = http_rate(token, get, clients, seconds)
    latencies.sort()
    failed = {k: v for k, v in statuses.items() if k != 200}
    return rate, latencies, f"{sorted(counted)}" + (f"; failed {failed}" if failed else "")
