"""The baseline (a bare RPC echo) and the outbox relay's publish rate."""

from __future__ import annotations

import time

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from bench import PROBE, cpu_figure, measure_echo
from chassis.contracts import Subscription
from chassis.envelope import Envelope
from chassis.outbox import Relay
from chassis.topology import connect, declare_subscription

RELAY_EVENTS = 30_000


def run(ctx) -> list[dict]:
    echo, cpu = measure_echo(ctx)
    ctx.echo_rate, ctx.echo_cpu_ms = echo, sum(cpu.values())
    return [
        {"name": "bare RPC echo (20 clients, 1 process)", "value": echo, "unit": "calls/s", "ratio_to_echo": 1.0},
        cpu_figure("bare RPC echo: CPU per call (service + client; broker not counted)", cpu, None),
        {
            "name": f"outbox relay publish ({RELAY_EVENTS} events, batched confirms)",
            "value": relay_rate(ctx),
            "unit": "events/s",
        },
    ]


def relay_rate(ctx) -> float:
    url = ctx.database(PROBE)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO outbox (event_id, event_type, body) VALUES (%s, %s, %s)",
            [
                (e.event_id, e.type, Jsonb(e.model_dump(mode="json")))
                for e in (
                    Envelope(type="chassis.probed", source="bench", payload={"probe_id": f"b{i}"})
                    for i in range(RELAY_EVENTS)
                )
            ],
        )
    connection = connect(ctx.amqp_uri)  # the subscriber queue holds what is published
    declare_subscription(connection.channel(), Subscription("chassis.probed", "chassis_probe", "on_probed"))
    connection.collect()
    pool = ConnectionPool(url, min_size=1, max_size=2, kwargs={"row_factory": dict_row}, open=True)
    relay = Relay(pool.connection, ctx.amqp_uri, batch_size=500)
    started = time.monotonic()
    published = 0
    while (claimed := relay.relay_batch()) > 0:
        published += claimed
    elapsed = time.monotonic() - started
    relay.close()
    pool.close()
    with psycopg.connect(url) as conn:
        pending = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
    assert published == RELAY_EVENTS and pending == 0, (published, pending)
    return published / elapsed
