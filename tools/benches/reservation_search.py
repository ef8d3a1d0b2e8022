"""Reservation search (R-RSV-8, issue 17 item 8): p99 latency of the partner's
search over 1,000,000 reservations, by a part of the booker's name (Korean:
one, two or three characters) and by the last four digits (or the whole
phone number).

The reservations are seeded in bulk with SQL straight into reservations'
database (``INSERT ... SELECT generate_series``: 1,000,000 bookings of one
partner over the last year, names drawn at random (hashed) from 20 family names
and 40 x 40 given-name characters, so each of the 32,000 names, 홍길동 too,
comes about 31 times and 길동 about 625; phones spread over 10,000 endings), with the search index dropped during
the load and built after it, as a bulk load does, then ``VACUUM ANALYZE``.

Two figures per kind of search: the query the service runs
(``reservations.store.partner_reservations``, first page of 20, newest first)
timed in the database connection, and the whole request through the gateway
(authenticate + list RPC + HTTP) from one client. Target: p99 under 20 ms.
Processes: gateway, accounts and reservations, one each.
"""

from __future__ import annotations

import random
import time

import psycopg
import requests
from psycopg.rows import dict_row

from benches.accounts import set_up, start_gateway
from benches.reservations import percentile
from chassis.db import UnitOfWork
from chassis.privacy import search_terms
from reservations import store

RESERVATIONS = 1_000_000
FAMILY = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = "민서지하준도윤예은수현우진영아연유주성재길동다온소희태경석나래보람산들채원혜빈솔"  # 40
QUERIES = 200


def run(ctx) -> list[dict]:
    ctx.start_service("accounts", {"PC_MAX_WORKERS": "10"})
    url = ctx.start_service("reservations", {"PC_MAX_WORKERS": "10", "PC_RESERVATIONS_TIMERS": "false"})
    ctx.rpc_ready("accounts")
    ctx.rpc_ready("reservations")
    gateway = start_gateway(ctx)
    token, partner_id = set_up(gateway, ctx.amqp_uri)
    started = time.monotonic()
    seed(url, partner_id)
    seeded = time.monotonic() - started
    rng = random.Random(17)
    kinds = {
        "a part of the name (1-3 Korean characters)": [
            rng.choice(
                [
                    rng.choice(FAMILY),
                    rng.choice(GIVEN) + rng.choice(GIVEN),
                    rng.choice(FAMILY) + rng.choice(GIVEN),
                    rng.choice(FAMILY) + rng.choice(GIVEN) + rng.choice(GIVEN),
                ]
            )
            for _ in range(QUERIES)
        ],
        "the last four digits or the whole phone": [
            rng.choice([f"{rng.randrange(10_000):04d}", f"010-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}"])
            for _ in range(QUERIES)
        ],
    }
    figures = []
    for kind, queries in kinds.items():
        database, found = database_latencies(url, partner_id, queries)
        through_gateway = gateway_latencies(gateway, token, partner_id, queries)
        figures += [
            {
                "name": f"reservations search over 1,000,000, by {kind}: database query p99",
                "value": percentile(database, 99),
                "unit": "ms",
                "note": f"p50 {percentile(database, 50):.2f} ms; {QUERIES} queries, first page of 20 newest; "
                f"{found} of them found something; seeded and indexed in {seeded:.0f} s",
            },
            {
                "name": f"reservations search over 1,000,000, by {kind}: through the gateway p99 (1 client)",
                "value": percentile(through_gateway, 99),
                "unit": "ms",
                "note": f"p50 {percentile(through_gateway, 50):.2f} ms; authenticate + list RPC + HTTP",
            },
        ]
    return figures


def seed(url: str, partner_id: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DROP INDEX reservations_by_name_part")
        conn.execute(
            """INSERT INTO reservations (reservation_id, number, partner_id, product_id, product_name, product_version,
                                         schedule_type, payment, cancel_policy, confirmation, allow_partial_cancel,
                                         request_ttl_hours, customer_id, holder_customer_id, booker_name,
                                         booker_phone, booker_phone_last4, status, use_date, use_time, lines, total,
                                         created_at, updated_at)
               SELECT md5(n::text)::uuid, 'S' || n, %(partner)s, 'prod-' || (n %% 20), 'bench', 1,
                      'datetime', 'none', '{}', 'manual', true, 24, 'cust-' || (n %% 50000), 'cust-' || (n %% 50000),
                      substr(%(family)s, 1 + (hashint4(n) & 65535) %% 20, 1)
                          || substr(%(given)s, 1 + (hashint4(-n) & 65535) %% 40, 1)
                          || substr(%(given)s, 1 + (hashint4(n + 1000000007) & 65535) %% 40, 1),
                      phone, right(phone, 4),
                      (ARRAY['requested','confirmed','completed','cancelled'])[1 + n %% 4],
                      current_date - (n %% 365), time '10:00', '[]', 30000,
                      now() - n * interval '30 seconds', now() - n * interval '30 seconds'
               FROM (SELECT n, '010' || lpad(((n::bigint * 7919) %% 100000000)::text, 8, '0') AS phone
                     FROM generate_series(1, %(rows)s) AS n) AS seeded""",
            {"partner": partner_id, "family": FAMILY, "given": GIVEN, "rows": RESERVATIONS},
        )
        conn.execute("CREATE INDEX reservations_by_name_part ON reservations USING gin (name_grams(booker_name))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE reservations")


def database_latencies(url: str, partner_id: str, queries: list[str]) -> tuple[list[float], int]:
    """The service's own query, timed in one connection (its pool keeps connections warm too)."""
    latencies, found = [], 0
    with psycopg.connect(url, row_factory=dict_row) as conn:
        uow = UnitOfWork(conn, None, "reservations")
        for q in queries:
            last4, name_part = search_terms(q)
            started = time.monotonic()
            rows = store.partner_reservations(uow, partner_id, last4=last4, name_part=name_part, limit=20)
            latencies.append((time.monotonic() - started) * 1000)
            found += bool(rows)
    return sorted(latencies), found


def gateway_latencies(gateway: str, token: str, partner_id: str, queries: list[str]) -> list[float]:
    latencies = []
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        for q in queries[:20]:  # warm the pools and caches
            http.get(f"{gateway}/v1/partners/{partner_id}/reservations", params={"q": q}, timeout=60)
        for q in queries:
            started = time.monotonic()
            response = http.get(f"{gateway}/v1/partners/{partner_id}/reservations", params={"q": q}, timeout=60)
            latencies.append((time.monotonic() - started) * 1000)
            assert response.status_code == 200, response.text
    return sorted(latencies)
