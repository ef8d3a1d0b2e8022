"""Ops reconciliation (issue #8): 2,000 bookings and orders with cancellations
and refunds stream from stand-in producers while settlement, a real process, is
killed with SIGKILL mid-stream and restarted; the reconciliation command then
finds no difference, and finds one when the ledger holds a sale no producer made."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg

from chassis.config import REPO_ROOT
from chassis.testing import eventually
from settlement import domain
from settlement.tests.helpers import deliver, partner_event, reservation_event, settlement_idle

STANDIN = str(Path(__file__).parent / "producer_standin")
ORDERS_STANDIN = "settlement.tests.producer_standin.service:OrdersStandIn"
PARTNERS = [f"ptn-recon-{n}" for n in range(5)]
BATCHES, BATCH_SIZE = 10, 100  # per producer: 1,000 bookings and 1,000 orders


def answers(rpc, service: str) -> bool:
    try:
        return getattr(rpc, service).health.call_async().result()["status"] == "ok"
    except Exception:
        return False


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def run_reconcile(amqp_uri: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PC_AMQP_URI": amqp_uri,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "libs"), str(REPO_ROOT / "services")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "settlement.reconcile", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_reconciliation_reports_zero_difference_after_a_kill_9_mid_stream(run_service, service_process, rpc, amqp_uri):
    settlement = service_process("settlement", PC_SETTLEMENT_SCHEDULED_RUNS="false", PC_LOG_LEVEL="WARNING")
    ledger_url = settlement.env["PC_SETTLEMENT_DATABASE_URL"]
    settlement.start()
    eventually(lambda: answers(rpc, "settlement"), timeout=30, message="settlement up")
    reservations = run_service(STANDIN)
    orders = run_service(STANDIN, SERVICE_CLASS=ORDERS_STANDIN)
    deliver(
        amqp_uri,
        [
            partner_event("registered", p, c)
            for p, c in zip(PARTNERS, ["salon", "cafe", "fashion", "studio", "exhibition"], strict=True)
        ],
    )

    replies = [
        call.call_async(PARTNERS, BATCH_SIZE, seed)
        for batch in range(BATCHES)
        for call, seed in ((rpc.reservations.simulate, batch), (rpc.orders.simulate, 1000 + batch))
    ]
    eventually(
        lambda: count(ledger_url, "SELECT count(*) FROM ledger_transactions") >= 500,
        timeout=60,
        interval=0.02,
        message="settlement part way through the stream",
    )
    settlement.kill9()  # mid-stream: deliveries in flight are redelivered to the next process
    in_ledger_at_kill = count(ledger_url, "SELECT count(*) FROM ledger_transactions")
    assert sum(reply.result() for reply in replies) == 2 * BATCHES * BATCH_SIZE
    produced = sum(count(c.config["DATABASE_URL"], "SELECT count(*) FROM outbox") for c in (reservations, orders))
    assert in_ledger_at_kill < produced  # the kill did land mid-stream

    settlement.start()
    for producer in (reservations, orders):  # every event the producers committed is published ...
        eventually(
            lambda producer=producer: (
                count(producer.config["DATABASE_URL"], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
            ),
            timeout=60,
        )
    eventually(
        lambda: settlement_idle(amqp_uri),
        timeout=120,
        interval=0.2,  # ... and consumed
        message="settlement consumed the whole stream",
    )
    assert (
        count(
            ledger_url,
            """SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1
                                HAVING sum(debit) <> sum(credit)) unbalanced""",
        )
        == 0
    )

    today = domain.today_in_partner_zone()
    period = ["--from", (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat()]
    clean = run_reconcile(amqp_uri, *period)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().splitlines()[-1] == "0 differences"
    totals = rpc.settlement.ledger_totals(None, period[1], period[3])
    assert set(totals) == set(PARTNERS)
    assert sum(t["reservations"]["sales"] + t["orders"]["sales"] for t in totals.values()) > 0
    assert sum(t["orders"]["refunds"] for t in totals.values()) > 0
    assert sum(t["reservations"]["fees"] for t in totals.values()) > 0

    # A sale the reservations service never made: reported, with the partner and the amount.
    deliver(amqp_uri, [reservation_event("completed", PARTNERS[0], "R-ghost", total=12300)])
    dirty = run_reconcile(amqp_uri, *period)
    assert dirty.returncode == 1
    assert f"partner {PARTNERS[0]} reservations sales" in dirty.stdout and "difference 12300" in dirty.stdout
    assert dirty.stdout.strip().splitlines()[-1] == "1 differences"
