"""Settlement: how fast completed sales become ledger entries, and how long a
settlement run over 100,000 ledger entries takes (issue #8)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
from kombu import Connection, Exchange, Producer

from chassis.envelope import Envelope
from chassis.topology import EVENTS_EXCHANGE
from settlement import domain

EVENTS = 3_000  # reservation.completed events: a sale and its commission each (4 entries)
RUN_ENTRIES = 100_000  # ledger entries a settlement run closes
PARTNERS = 50


def run(ctx) -> list[dict]:
    url = ctx.start_service("settlement", {"PC_SETTLEMENT_SCHEDULED_RUNS": "false", "PC_MAX_WORKERS": "10"})
    ctx.rpc_ready("settlement")
    entries, seconds = consume_rate(ctx, url)
    run_seconds, statements = settlement_run_time(ctx, url)
    return [
        {
            "name": f"ledger entries consumed ({EVENTS} sale events, 1 process)",
            "value": entries / seconds,
            "unit": "entries/s",
            "note": f"{EVENTS / seconds:.0f} events/s",
        },
        {
            "name": f"settlement run over {RUN_ENTRIES:,} ledger entries ({statements} partners)",
            "value": run_seconds,
            "unit": "s",
            "note": "one transaction: statements, payouts, tax invoices",
        },
    ]


def consume_rate(ctx, url: str) -> tuple[int, float]:
    occurred = datetime.now(UTC)
    envelopes = [
        Envelope(
            type="reservation.completed",
            source="bench",
            occurred_at=occurred,
            payload={
                "partner_id": f"bench-{i % PARTNERS}",
                "reservation_number": f"B{i}",
                "product_id": "p",
                "product_name": "P",
                "customer_id": "c",
                "status": "completed",
                "total": 10_000 + i,
            },
        )
        for i in range(EVENTS)
    ]
    started = time.monotonic()
    with Connection(ctx.amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.default_channel)
        exchange = Exchange(EVENTS_EXCHANGE, type="topic", durable=True)
        for envelope in envelopes:
            producer.publish(
                envelope.model_dump(mode="json"),
                exchange=exchange,
                routing_key=envelope.type,
                serializer="json",
                delivery_mode=2,
            )
    expected = EVENTS * 4
    while (entries := scalar(url, "SELECT count(*) FROM ledger_entries")) < expected:
        time.sleep(0.05)
        if time.monotonic() - started > 600:
            raise RuntimeError(f"only {entries} of {expected} entries after 10 minutes")
    return entries, time.monotonic() - started


def settlement_run_time(ctx, url: str) -> tuple[float, int]:
    """Fill the ledger straight in SQL (sales and their commissions, dated last
    week), then time one run over it through the service's RPC."""
    from nameko.standalone.rpc import ClusterRpcProxy

    today = domain.today_in_partner_zone()
    period_end = domain.schedule_period_end("weekly", today - timedelta(days=1))
    sales = RUN_ENTRIES // 4
    with psycopg.connect(url) as conn:
        conn.execute(
            """WITH t AS (
                 INSERT INTO ledger_transactions (partner_id, txn_key, kind, source, source_ref, source_event_id,
                                                  business_date, occurred_at, commission_bps)
                 SELECT 'run-' || (n %% %(partners)s), 'bench:' || n || ':' || k, k, 'reservations', 'RB' || n,
                        gen_random_uuid(), %(day)s::date - (n %% 7), now(), 1000
                 FROM generate_series(1, %(sales)s) n, unnest(ARRAY['sale', 'commission']) k
                 RETURNING id, partner_id, kind, source_ref)
               INSERT INTO ledger_entries (transaction_id, partner_id, account, debit, credit)
               SELECT id, partner_id, a.account, a.debit, a.credit FROM t, LATERAL (VALUES
                 (CASE WHEN kind = 'sale' THEN 'customer_funds' ELSE 'partner_payable' END,
                  CASE WHEN kind = 'sale' THEN 10000 ELSE 1000 END, 0),
                 (CASE WHEN kind = 'sale' THEN 'partner_payable' ELSE 'commission_revenue' END,
                  0, CASE WHEN kind = 'sale' THEN 10000 ELSE 1000 END)) AS a(account, debit, credit)""",
            {"partners": PARTNERS, "day": period_end, "sales": sales},
        )
    with ClusterRpcProxy({"AMQP_URI": ctx.amqp_uri}, timeout=600) as rpc:
        started = time.monotonic()
        result = rpc.settlement.run_settlement({"period_end": period_end.isoformat()})
        elapsed = time.monotonic() - started
    settled = scalar(url, "SELECT count(*) FROM statement_lines")
    assert settled >= RUN_ENTRIES // 2, settled  # every bench transaction (2 entries each) was settled
    return elapsed, len(result["statements"])


def scalar(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]
