"""Helpers of notifications' tests: publishing events as producers would,
a stand-in accounts service, a local webhook receiver, and direct counts."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from chassis.contracts import PAYLOADS, RESERVATION_PAYLOADS, Subscription, handler_name
from chassis.envelope import Envelope
from chassis.outbox import ConfirmingPublisher
from chassis.testing import free_port
from chassis.tests.broker import queue_depths
from chassis.topology import main_queue

FAKE_ACCOUNTS = str(Path(__file__).parent / "fake_accounts")

# Test settings: the production schedule (a day of retries) in seconds.
FAST = dict(
    DELIVERY_POLL_INTERVAL=0.05,
    WEBHOOK_ALLOW_PRIVATE=True,
    WEBHOOK_TIMEOUT=2,
    WEBHOOK_RETRY_BASE_S=0.2,
    WEBHOOK_RETRY_CAP_S=5,
    WEBHOOK_MAX_ATTEMPTS=5,
    WEBHOOK_FAILURE_LIMIT=5,
    WEBHOOK_FAILING_PERIOD_S=0,
    STAFF_CACHE_S=0,
    EVENT_RETRY_BASE_MS=100,
    OUTBOX_POLL_INTERVAL=0.1,
)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def staff_of(*partner_ids: str) -> dict:
    """One staff member per role of each partner (the fake accounts' STAFF config)."""
    return {
        partner_id: [
            {"member_id": f"{partner_id}-admin", "role": "admin"},
            {"member_id": f"{partner_id}-master", "role": "master"},
            {"member_id": f"{partner_id}-member", "role": "member"},
        ]
        for partner_id in partner_ids
    }


def event(event_type: str, payload: dict) -> Envelope:
    """An envelope as a producer's outbox would publish it (payload validated by its contract).
    A ``reservation(...)`` fixture may name the fields of several kinds (an
    invitation, a friend): each event keeps those its own kind carries
    (chassis.contracts.RESERVATION_PAYLOADS)."""
    if event_type in RESERVATION_PAYLOADS:
        payload = {k: v for k, v in payload.items() if k in RESERVATION_PAYLOADS[event_type].model_fields}
    payload = PAYLOADS[event_type].model_validate(payload).model_dump(mode="json")
    return Envelope(type=event_type, source="test", partner_id=payload.get("partner_id"), payload=payload)


def publish(amqp_uri: str, envelopes: list[Envelope], batch: int = 500) -> None:
    """Publish as the relay does (persistent, mandatory, confirmed), in batches."""
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        for start in range(0, len(envelopes), batch):
            chunk = envelopes[start : start + batch]
            confirmed, failed = publisher.publish_batch([(str(e.event_id), e.type, e.to_json(), None) for e in chunk])
            assert not failed and confirmed == {str(e.event_id) for e in chunk}, failed
    finally:
        publisher.close()


def reservation(partner_id: str, customer_id: str, number: str | None = None, **extra) -> dict:
    return {
        "partner_id": partner_id,
        "reservation_number": number or new_id("R"),
        "product_id": "prod-1",
        "product_name": "봄 전시 / Spring show",
        "customer_id": customer_id,
        "status": "requested",
        "use_date": "2025-05-01",
        "use_time": "14:00",
        "total": 24000,
        "booker_name_masked": "김*온",
        **extra,
    }


def line(line_id: str, product_id: str, product_name: str, quantity: int, unit_price: int) -> dict:
    """An order line as the orders service publishes it."""
    return {
        "line_id": line_id,
        "product_id": product_id,
        "product_name": product_name,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": quantity * unit_price,
    }


def order(partner_id: str, customer_id: str, order_id: str | None = None, **extra) -> dict:
    return {
        "partner_id": partner_id,
        "order_id": order_id or new_id("O"),
        "customer_id": customer_id,
        "channel": "takeout",
        "status": "received",
        "total": 6000,
        "lines": [line("l1", "prod-9", "아메리카노", 2, 3000)],
        **extra,
    }


def _connect(url: str, **kwargs) -> psycopg.Connection[Any]:
    """A connection, waiting a little when the shared server is briefly out of connection slots."""
    for attempt in range(20):
        try:
            return psycopg.connect(url, **kwargs)
        except psycopg.OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable: the last attempt raises")


def query(url: str, sql: str, params=()) -> list[dict]:
    with _connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(url: str, sql: str, params=()):
    with _connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def subscription(event_type: str) -> Subscription:
    return Subscription(event_type, "notifications", handler_name(event_type))


def queues_settled(amqp_uri: str, event_types) -> bool:
    """Every delivery of these kinds consumed and acked (one rabbitmqctl call: they are slow)."""
    depths = queue_depths(amqp_uri)
    return all(depths.get(main_queue(subscription(t))) == (0, 0) for t in event_types)


def parked(amqp_uri: str) -> dict:
    """notifications' dead-letter queues that hold anything."""
    return {
        name: depth
        for name, depth in queue_depths(amqp_uri).items()
        if name.startswith("pc.dlq.notifications.") and depth != (0, 0)
    }


class WebhookReceiver:
    """A local HTTP endpoint that records every request. ``script`` says how
    to answer the n-th request (the last entry repeats): an int status, or
    ``("sleep", seconds, status)``, or ``("hold", status)`` to wait until
    ``release()``."""

    def __init__(self, script=(200,)):
        self.script = list(script)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    index = len(receiver.requests)
                    receiver.requests.append({"at": time.monotonic(), "headers": dict(self.headers), "body": body})
                    step = receiver.script[min(index, len(receiver.script) - 1)]
                if isinstance(step, tuple) and step[0] == "sleep":
                    time.sleep(step[1])
                    step = step[2]
                elif isinstance(step, tuple) and step[0] == "hold":
                    receiver.released.wait(60)
                    step = step[1]
                try:
                    self.send_response(step)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up (timeout) before we answered

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pc"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def release(self):
        self.released.set()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]
