"""After the run: what the clients were told against what every service holds.

Read straight from each service's own database and from the broker, so the
check does not trust the code under test to report on itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import psycopg

from .platform import REPO

ACTIVE_RESERVATION = ("requested", "confirmed", "completed", "no_show")
CREATION_EVENTS = {"booking": ("reservation.requested", "reservation.confirmed"), "order": ("order.received",)}


def rows(url: str, sql: str, params=(), attempts: int = 10) -> list[tuple]:
    """A query, retried while PostgreSQL is full (max_connections is shared with this machine's other users)."""
    for attempt in range(attempts):
        try:
            with psycopg.connect(url) as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)
    raise AssertionError("unreachable: the last attempt raises")


def existence(db: dict, ledger) -> dict:
    """Every accepted booking and order exists exactly once; nothing exists that no client was told of."""
    numbers = [r["number"] for r in ledger.reservations.values()]
    order_ids = [o["order_id"] for o in ledger.orders.values()]
    stored_numbers = Counter(
        n for (n,) in rows(db["reservations"], "SELECT number FROM reservations WHERE number = ANY(%s)", (numbers,))
    )
    stored_orders = Counter(
        str(o)
        for (o,) in rows(db["orders"], "SELECT order_id::text FROM orders WHERE order_id::text = ANY(%s)", (order_ids,))
    )
    customers = sorted(
        {r["customer_id"] for r in ledger.reservations.values()} | {o["customer_id"] for o in ledger.orders.values()}
    )
    ((all_reservations,),) = rows(
        db["reservations"], "SELECT count(*) FROM reservations WHERE customer_id = ANY(%s)", (customers,)
    )
    ((all_orders,),) = rows(db["orders"], "SELECT count(*) FROM orders WHERE customer_id = ANY(%s)", (customers,))
    unresolved = len(ledger.unresolved)
    return {
        "accepted": len(numbers) + len(order_ids),
        "lost": sum(1 for n in numbers if stored_numbers[n] == 0) + sum(1 for o in order_ids if stored_orders[o] == 0),
        "duplicated": sum(c - 1 for c in stored_numbers.values() if c > 1)
        + sum(c - 1 for c in stored_orders.values() if c > 1),
        # rows of the stream's customers beyond what they were told of (only unanswered retries may explain them)
        "unexplained": max(0, all_reservations + all_orders - len(set(numbers)) - len(set(order_ids)) - unresolved),
        "unresolved": unresolved,
    }


def messages(db: dict, ledger) -> dict:
    """R-NTF-1: each accepted object's creation reached its customer exactly once, and
    no (object, event, recipient) was messaged twice."""
    found = rows(
        db["notifications"],
        """
        SELECT coalesce(params->>'reservation_number', params->>'order_id'), source_type, recipient_kind, recipient_id
        FROM messages WHERE coalesce(params->>'reservation_number', params->>'order_id') IS NOT NULL""",
    )
    per_key = Counter(found)
    customer_creation: Counter[tuple[Any, ...]] = Counter()
    for (obj, source_type, kind, recipient), count in per_key.items():
        if kind == "customer" and source_type in CREATION_EVENTS["booking"] + CREATION_EVENTS["order"]:
            customer_creation[(obj, recipient)] += count
    expected = [(r["number"], r["customer_id"]) for r in ledger.reservations.values()] + [
        (o["order_id"], o["customer_id"]) for o in ledger.orders.values()
    ]
    return {
        "objects": len(expected),
        "messages": sum(per_key.values()),
        "missing": sum(1 for key in expected if customer_creation[key] == 0),
        "duplicated": sum(c - 1 for c in per_key.values() if c > 1),
    }


def ledger_entries(db: dict, ledger) -> dict:
    """R-STL-1: each completed order has exactly one sale in the ledger, an order not
    completed has none, and every transaction balances (debits = credits).

    Completed means completed in the orders database, the truth: a completion the
    client was told 503 for (or got no answer to) may still have happened, and is
    counted apart (``completed_unseen``), not as an unexpected sale. A completion the
    client was told of that the database does not hold is a loss (``told_not_held``)."""
    order_ids = [o["order_id"] for o in ledger.orders.values()]
    completed = {
        o
        for (o,) in rows(
            db["orders"],
            "SELECT order_id::text FROM orders WHERE order_id::text = ANY(%s) AND status = 'completed'",
            (order_ids,),
        )
    }
    txns = rows(
        db["settlement"],
        """
        SELECT t.source_ref, t.kind, count(DISTINCT t.id), coalesce(sum(e.debit), 0) - coalesce(sum(e.credit), 0)
        FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
        WHERE t.source = 'orders' AND t.source_ref = ANY(%s) GROUP BY t.source_ref, t.kind""",
        (order_ids,),
    )
    sales = {ref: count for ref, kind, count, _ in txns if kind == "sale"}
    return {
        "completed_orders": len(completed),
        "transactions": sum(count for _, _, count, _ in txns),
        "missing": sum(1 for o in completed if sales.get(o, 0) == 0),
        "duplicated": sum(count - 1 for _, _, count, _ in txns if count > 1),
        "unexpected": sum(1 for ref in sales if ref not in completed),
        "unbalanced": sum(1 for *_, balance in txns if balance != 0),
        "told_not_held": len(ledger.completed_orders - completed),
        "completed_unseen": len(completed - ledger.completed_orders),
    }


def holds(db: dict) -> dict:
    """No capacity or stock held without an owner, and no live owner without its hold."""
    held = {h for (h,) in rows(db["catalog"], "SELECT hold_id FROM holds WHERE status = 'held'")}
    owned = {
        f"rsv:{rid}:{seq}"
        for rid, seq in rows(
            db["reservations"],
            "SELECT reservation_id::text, hold_sequence FROM reservations WHERE status = ANY(%s)",
            (list(ACTIVE_RESERVATION),),
        )
    }
    owned |= {h for (h,) in rows(db["orders"], "SELECT hold_id FROM orders WHERE status <> 'cancelled'")}
    owned |= {
        h
        for (h,) in rows(
            db["orders"],
            """SELECT l.hold_id FROM order_lines l JOIN orders o USING (order_id)
                                                  WHERE o.status <> 'cancelled'""",
        )
    }
    return {
        "held": len(held),
        "orphaned": len(held - owned),
        "owners_without_hold": len(owned - held),
        "orphan_examples": sorted(held - owned)[:5],
    }


def outboxes(db: dict) -> dict:
    """pcops outbox backlog, the operators' own command, against the proof's databases."""
    env = {**os.environ, **{f"PC_{s.upper()}_DATABASE_URL": url for s, url in db.items()}}
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "pcops.py"), "outbox", "backlog", "--json", *db.keys()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if done.returncode != 0:
        return {"pending": -1, "error": done.stderr.strip()[-300:]}
    report = json.loads(done.stdout)
    result = {
        "pending": sum(r["pending"] for r in report),
        "by_service": {r["service"]: r["pending"] for r in report if r["pending"]},
        "unsubscribed": Counter(),
        "subscribed_pending": 0,
    }
    if result["pending"]:
        # Split what is left: an event type nobody subscribes to is unroutable and never leaves.
        from chassis.contracts import SUBSCRIPTIONS

        subscribed = {s.event_type for s in SUBSCRIPTIONS}
        for service, url in db.items():
            for event_type, count in rows(
                url, "SELECT event_type, count(*) FROM outbox WHERE published_at IS NULL GROUP BY event_type"
            ):
                if event_type in subscribed:
                    result["subscribed_pending"] += count
                else:
                    result["unsubscribed"][f"{service}: {event_type}"] += count
    return result


def queues(ctl, vhost: str) -> dict:
    """Every queue drained; dead-letter queues listed with their errors. ``ctl``: rabbitmqctl of the broker."""
    listing = ctl("list_queues", "-p", vhost, "name", "messages", "--no-table-headers")
    depth = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            depth[parts[0]] = int(parts[1])
    dead = {q: n for q, n in depth.items() if q.startswith("pc.dlq.") and n}
    # A reply that came after its caller's deadline stays in the caller's reply queue until
    # that queue expires: explained, not work left undone (events and RPC requests are).
    late = {q: n for q, n in depth.items() if q.startswith("rpc.reply-") and n}
    live = {q: n for q, n in depth.items() if n and q not in dead and q not in late}
    return {
        "queues": len(depth),
        "undrained": sum(live.values()),
        "undrained_queues": live,
        "late_replies": sum(late.values()),
        "dead_lettered": sum(dead.values()),
        "dead_letter_queues": dead,
    }


def dead_letter_reasons(amqp_uri: str, dead_queues: dict) -> list[str]:
    from chassis.contracts import SUBSCRIPTIONS
    from chassis.deadletters import list_dead_letters

    reasons = []
    for sub in SUBSCRIPTIONS:
        if f"pc.dlq.{sub.service}.{sub.handler}" in dead_queues:
            for letter in list_dead_letters(amqp_uri, sub):
                reasons.append(f"{sub.service}.{sub.handler}: {str(letter['error'])[:200]}")
    return reasons
