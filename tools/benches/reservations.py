"""Reservations (issue #5): end-to-end bookings per second through the gateway,
50 concurrent customers on spread slots, with p50 and p99 latency, and a check
that nothing was oversold (each slot's catalog ``taken`` equals its bookings).

Each booking is the whole path a customer's app takes: HTTP to the gateway,
``accounts.authenticate``, ``reservations.create_reservation`` (the
Idempotency-Key row, ``catalog.hold``, the reservation with its event and
stored response), and the outbox relay publishing ``reservation.requested``.
Processes: accounts, catalog, reservations and the gateway, one each.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid

import eventlet
import psycopg
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from bench import REPO, cpu_figure, cpu_per_unit, echo_near, http_rate, verified_partner
from benches.accounts import BENCH_RATE_LIMITS
from benches.catalog import approved_slot_product

CLIENTS = 50
SECONDS = 15.0
WARM_UP = 100
SLOT_DAYS, SLOT_TIMES = 20, 10  # 200 spread slots
CAPACITY = 500  # per slot: more than a run books, so refusals never count
PROBE_GATEWAY = "gateway.tests.gateway_probe:ProbeGateway"
BOOKING_PATH = "/v1/shop/reservations"
SKELETON_PATH = "/v1/test-skeleton-booking"  # the probe gateway's route to tools/skeleton
SKELETON_SERVICES = ("skeleton_booking", "skeleton_hold")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(ctx) -> list[dict]:
    quiet = {
        "PC_RESERVATIONS_TIMERS": "false",
        **{f"PC_{s.upper()}_METRICS_PORT": "0" for s in ("accounts", "catalog", "reservations", "gateway")},
    }
    accounts_url = ctx.start_service("accounts", quiet)
    catalog_url = ctx.start_service("catalog", quiet)
    reservations_url = ctx.start_service("reservations", quiet)
    port = free_port()
    ctx.start_service(
        "gateway",
        {
            **quiet,
            **BENCH_RATE_LIMITS,
            "PC_GATEWAY_PORT": str(port),
            "PC_GATEWAY_MAX_WORKERS": "100",
            "PC_GATEWAY_SERVICE_CLASS": PROBE_GATEWAY,
        },
    )
    for service in ("accounts", "catalog", "reservations"):
        ctx.rpc_ready(service)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base)
    tokens, body, product_id = booking_load(ctx, base, accounts_url)
    latencies, statuses = drive(base, tokens, body, WARM_UP // CLIENTS + 1, None)  # warm caches and pools
    near = [echo_near(ctx)]
    before = ctx.cpu_seconds()
    latencies, statuses = drive(base, tokens, body, None, SECONDS)
    booked = statuses.get(201, 0)
    cpu = cpu_per_unit(before, ctx.cpu_seconds(), booked)
    rate = booked / SECONDS
    latencies.sort()
    floor_rate, floor_cpu = http_echo(ctx, base, tokens[0])
    # before the skeleton: its events go to the probe's queue, which a probe started later would consume
    near.append(echo_near(ctx))
    start_skeleton(ctx)
    skeleton_rate, skeleton_cpu = skeleton(ctx, base, tokens, body, SKELETON_PATH)
    holding_here_rate, holding_here_cpu = skeleton(ctx, base, tokens, body, SKELETON_PATH + "?design=holding-here")
    oversold, checked = oversell(catalog_url, reservations_url, product_id)
    note = (
        f"{CLIENTS} clients, {SLOT_DAYS * SLOT_TIMES} slots; statuses {dict(sorted(statuses.items()))}; "
        f"slots checked {checked}, oversold {oversold}"
    )
    return [
        {
            "name": f"reservations: bookings through the gateway ({CLIENTS} clients, spread slots)",
            "value": rate,
            "unit": "bookings/s",
            "note": note,
        },
        {"name": "reservations: booking latency p50", "value": percentile(latencies, 50), "unit": "ms"},
        {"name": "reservations: booking latency p99", "value": percentile(latencies, 99), "unit": "ms"},
        {"name": "reservations: slots oversold (must be 0)", "value": float(oversold), "unit": "slots"},
        cpu_figure(
            "reservations: CPU per booking (services + client; broker and database not counted)",
            cpu,
            ctx.echo_cpu_ms,
            near,
        ),
        {
            "name": f"gateway HTTP echo, no RPC ({CLIENTS} clients): the ceiling of any route",
            "value": floor_rate,
            "unit": "requests/s",
        },
        cpu_figure("gateway HTTP echo: CPU per request (gateway + client)", floor_cpu, ctx.echo_cpu_ms),
        {
            "name": f"booking skeleton through the gateway ({CLIENTS} clients): a booking's shape, none of its rules",
            "value": skeleton_rate,
            "unit": "bookings/s",
            "note": "tools/skeleton: HTTP, customer token, rate limit, body model, two RPC hops, three "
            "transactions, one event",
        },
        cpu_figure(
            "booking skeleton: CPU per booking, the floor of this design (services + client)",
            skeleton_cpu,
            ctx.echo_cpu_ms,
            near,
        ),
        {
            "name": f"booking skeleton, capacity kept by the booking service ({CLIENTS} clients)",
            "value": holding_here_rate,
            "unit": "bookings/s",
            "note": "the other design: one RPC hop, one transaction (key, capacity, booking, event)",
        },
        cpu_figure(
            "booking skeleton, capacity kept by the booking service: CPU per booking, the floor of that design",
            holding_here_cpu,
            ctx.echo_cpu_ms,
            near,
        ),
    ]


def booking_load(ctx, base: str, accounts_url: str):
    """A verified salon with spread slots, and CLIENTS signed-in customers:
    (their tokens, ``body(i)`` of the i-th booking, the product id)."""
    partner_id = verified_partner(base, accounts_url, "salon")
    with ClusterRpcProxy({"AMQP_URI": ctx.amqp_uri}, timeout=60) as rpc:
        product_id, price_id, slots = set_up(rpc, partner_id)
        # accounts' side of the sign-in (R-ACC-12): the identity the gateway verified
        tokens = [
            rpc.accounts.customer_session(
                {
                    "issuer": "bench",
                    "subject": f"bench-{i}",
                    "name": f"Bench {i}",
                    "phone_number": f"+82107{i:03d}{i:04d}",
                }
            )["token"]
            for i in range(CLIENTS)
        ]

    def body(i: int) -> dict:
        date, at = slots[i % len(slots)]
        return {
            "product_id": product_id,
            "date": date,
            "time": at,
            "lines": [{"price_id": price_id, "quantity": 1}],
            "booker": {"name": "김다온", "phone": "010-1234-5678"},
        }

    return tokens, body, product_id


def http_echo(ctx, base: str, token: str) -> tuple[float, dict[str, float]]:
    """The HTTP front door alone: the probe gateway's echo route answers without
    any RPC, so no route through the gateway can be faster than this."""

    def echo(http):
        response = http.post(f"{base}/v1/test-echo/1", json={"n": 1}, timeout=30)
        assert response.status_code == 201, response.text

    before, started = ctx.cpu_seconds(), time.monotonic()
    rate = http_rate(token, echo, CLIENTS, 5.0)
    after = ctx.cpu_seconds()
    cpu = cpu_per_unit(
        {k: before[k] for k in ("gateway", "bench client")},
        {k: after[k] for k in ("gateway", "bench client")},
        round(rate * (time.monotonic() - started)),
    )
    return rate, cpu


def start_skeleton(ctx) -> None:
    for service in SKELETON_SERVICES:
        ctx.start_service(str(REPO / "tools" / "skeleton" / service))
        ctx.rpc_ready(service)


def skeleton(ctx, base: str, tokens: list[str], body, path: str) -> tuple[float, dict[str, float]]:
    """The same clients and bodies through the booking skeleton (tools/skeleton/README.md):
    what a booking costs in a design before any of its rules, measured in this run."""
    drive(base, tokens, body, WARM_UP // CLIENTS + 1, None, path)
    counted = ("gateway", "accounts", *SKELETON_SERVICES, "bench client")
    before = ctx.cpu_seconds()
    _, statuses = drive(base, tokens, body, None, SECONDS, path)
    after = ctx.cpu_seconds()
    booked = statuses.get(201, 0)
    assert booked and set(statuses) == {201}, statuses
    cpu = cpu_per_unit({k: before[k] for k in counted}, {k: after[k] for k in counted}, booked)
    return booked / SECONDS, cpu


def set_up(rpc, partner_id: str):
    # R-CAT-4: a booking product names its place before review (made as the partner's own system would)
    place = rpc.accounts.create_place(
        {"kind": "api_key", "partner_id": partner_id, "member_id": None},
        partner_id,
        {"name": "bench", "address": "Seoul"},
    )
    first = dt.date.today() + dt.timedelta(days=3)
    slots = [
        ((first + dt.timedelta(days=d)).isoformat(), f"{9 + t:02d}:00")
        for d in range(SLOT_DAYS)
        for t in range(SLOT_TIMES)
    ]
    product_id, price_id = approved_slot_product(rpc, partner_id, place["place_id"], slots, CAPACITY)
    return product_id, price_id, slots


def wait_for_http(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{base}/v1/openapi.json", timeout=2)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def drive(base: str, tokens: list[str], body, per_client: int | None, seconds: float | None, path=BOOKING_PATH):
    """Every client books as fast as it gets answers, ``per_client`` times or for ``seconds``."""
    latencies: list[float] = []
    statuses: dict = {}
    deadline = time.monotonic() + (seconds or 1e9)

    def client(n: int):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[n]}"
        i = 0
        status: int | str
        while time.monotonic() < deadline and (per_client is None or i < per_client):
            started = time.monotonic()
            try:
                status = session.post(
                    base + path,
                    json=body(n * 1_000_003 + i),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                    timeout=30,
                ).status_code
            except requests.RequestException:
                status = "error"
            if time.monotonic() <= deadline:
                latencies.append((time.monotonic() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
            i += 1

    pool = eventlet.GreenPool(len(tokens))
    for n in range(len(tokens)):
        pool.spawn(client, n)
    pool.waitall()
    return latencies, statuses


def percentile(sorted_values: list[float], p: int) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def oversell(catalog_url: str, reservations_url: str, product_id: str) -> tuple[int, int]:
    """Slots where the catalog's taken differs from the bookings, or exceeds capacity."""
    with psycopg.connect(catalog_url) as conn:
        taken = {
            (str(d), t.strftime("%H:%M")): (n, c)
            for d, t, n, c in conn.execute(
                "SELECT day, at_time, taken, capacity FROM capacity_buckets WHERE product_id = %s AND kind = 'slot'",
                (product_id,),
            )
        }
    with psycopg.connect(reservations_url) as conn:
        booked = {
            (str(d), t.strftime("%H:%M")): n
            for d, t, n in conn.execute(
                """SELECT use_date, use_time, count(*) FROM reservations WHERE product_id = %s
               AND status IN ('requested', 'confirmed', 'completed', 'no_show') GROUP BY 1, 2""",
                (product_id,),
            )
        }
    bad = sum(1 for slot, (n, capacity) in taken.items() if n != booked.get(slot, 0) or n > capacity)
    return bad, len(taken)
