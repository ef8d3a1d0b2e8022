"""Notifications (issue #7): events consumed per second into inboxes with the
other services idle, and the end-to-end latency from a reservation committed
(with its outbox row) to its partner message stored, p50 and p99.

accounts is the test stand-in (services/notifications/tests/fake_accounts)
answering ``list_staff`` with three staff members, so each booking request
makes four messages (three staff, one customer) and four messenger pushes.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import eventlet
import psycopg
from nameko.standalone.rpc import ClusterRpcProxy

from bench import REPO
from chassis.contracts import Subscription, handler_name
from chassis.envelope import Envelope
from chassis.outbox import ConfirmingPublisher
from chassis.topology import connect as amqp_connect
from chassis.topology import declare_subscription

FAKE_ACCOUNTS = str(REPO / "services" / "notifications" / "tests" / "fake_accounts")
PRODUCER = str(REPO / "tools" / "benches" / "notifications_producer")
BACKLOG = 4000  # events queued before the service starts
LATENCY_EVENTS = 400  # bookings committed one by one ...
OFFERED_RATE = 100  # ... at this many per second


def booking(partner_id: str, i: int) -> dict:
    return {
        "partner_id": partner_id,
        "reservation_number": f"B{i:06d}",
        "product_id": "prod-1",
        "product_name": "Bench show",
        "customer_id": f"c-{i % 500}",
        "status": "requested",
        "use_date": "2025-05-01",
        "use_time": "14:00",
        "total": 24000,
        "booker_name_masked": "김*온",
    }


def connect(url: str) -> psycopg.Connection:
    """Wait a little when the server is briefly out of connection slots (shared machines)."""
    for attempt in range(40):
        try:
            return psycopg.connect(url)
        except psycopg.OperationalError:
            if attempt == 39:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable: the last attempt raises")


def scalar(url: str, sql: str, params=()):
    with connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def run(ctx) -> list[dict]:
    partner_id = f"p-{uuid.uuid4().hex[:8]}"
    staff = {
        partner_id: [{"member_id": f"{partner_id}-{role}", "role": role} for role in ("admin", "master", "member")]
    }
    ctx.start_service(FAKE_ACCOUNTS, {"PC_FAKE_ACCOUNTS_STAFF": json.dumps(staff)})
    consumed_per_s = consumption_rate(ctx, partner_id)
    p50, p99 = end_to_end_latency(ctx, partner_id)
    return [
        {
            "name": f"notifications: events consumed into inboxes ({BACKLOG} queued, 4 messages each)",
            "value": consumed_per_s,
            "unit": "events/s",
        },
        {
            "name": f"notifications: booking committed -> partner message stored, p50 ({OFFERED_RATE}/s offered)",
            "value": p50,
            "unit": "ms",
        },
        {
            "name": f"notifications: booking committed -> partner message stored, p99 ({OFFERED_RATE}/s offered)",
            "value": p99,
            "unit": "ms",
        },
    ]


def consumption_rate(ctx, partner_id: str) -> float:
    sub = Subscription("reservation.requested", "notifications", handler_name("reservation.requested"))
    connection = amqp_connect(ctx.amqp_uri)
    declare_subscription(connection.channel(), sub)  # the backlog waits in the service's queue
    connection.collect()
    publisher = ConfirmingPublisher(ctx.amqp_uri)
    envelopes = [
        Envelope(type="reservation.requested", source="bench", partner_id=partner_id, payload=booking(partner_id, i))
        for i in range(BACKLOG)
    ]
    for start in range(0, BACKLOG, 500):
        publisher.publish_batch([(str(e.event_id), e.type, e.to_json(), None) for e in envelopes[start : start + 500]])
    publisher.close()

    url = ctx.start_service("notifications")
    first = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        handled = scalar(url, "SELECT count(*) FROM inbox")
        now = time.monotonic()
        if handled and first is None:
            first = (now, handled)
        if handled >= BACKLOG:
            break
        time.sleep(0.05)
    assert handled == BACKLOG, handled
    assert scalar(url, "SELECT count(*) FROM messages") == 4 * BACKLOG
    ctx.notifications_url = url
    return (BACKLOG - first[1]) / (now - first[0])


def end_to_end_latency(ctx, partner_id: str) -> tuple[float, float]:
    producer_url = ctx.start_service(PRODUCER)
    ctx.rpc_ready("notifications_producer")
    with ClusterRpcProxy({"AMQP_URI": ctx.amqp_uri}, timeout=60) as rpc:
        replies, started = [], time.monotonic()
        for i in range(LATENCY_EVENTS):  # a steady stream: one commit every 1/OFFERED_RATE s
            eventlet.sleep(max(0.0, started + i / OFFERED_RATE - time.monotonic()))
            replies.append(rpc.notifications_producer.commit.call_async(booking(partner_id, 100000 + i)))
        event_ids = [reply.result() for reply in replies]
    url = ctx.notifications_url
    deadline = time.monotonic() + 120
    while (
        scalar(url, "SELECT count(*) FROM messages WHERE source_id = ANY(%s::uuid[])", (event_ids,))
        < 4 * LATENCY_EVENTS
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    with connect(producer_url) as conn:
        committed: dict[str, Any] = dict(
            conn.execute(
                "SELECT event_id::text, created_at FROM outbox WHERE event_id = ANY(%s::uuid[])", (event_ids,)
            ).fetchall()
        )
    with connect(url) as conn:
        stored: dict[str, Any] = dict(
            conn.execute(
                """SELECT source_id::text, min(created_at) FROM messages
               WHERE source_id = ANY(%s::uuid[]) AND recipient_kind = 'member' GROUP BY source_id""",
                (event_ids,),
            ).fetchall()
        )
    assert len(stored) == LATENCY_EVENTS, (len(stored), len(event_ids))
    latencies = sorted((stored[e] - committed[e]).total_seconds() * 1000 for e in event_ids)
    return latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
