"""The outbox relay: publishes committed events, at least once, in order of commit.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several instances of a
service relay side by side without publishing a row twice. A batch is
published with ``mandatory`` on a channel in confirm mode, and the relay waits
for the broker's confirms for the whole batch at once (one round trip per
batch, not per message) before marking the rows sent in the same transaction
that claimed them. If the process dies in between, the rows are still
pending and go out again; consumers are idempotent (inbox), so a repeat has
no second effect. Unconfirmed or returned rows are retried with backoff.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import amqp

from . import topology
from .background import PollingLoop
from .contracts import subscribers_of
from .db import DatabasePool
from .logging import get_logger

log = get_logger(__name__)

FAULT_ENV = "PC_FAULT_INJECT"
CONFIRM_TIMEOUT = 10.0
MAX_BACKOFF_SECONDS = 60


class ConfirmingPublisher:
    """Publishes batches on one channel in confirm mode and reports, per
    message id, whether the broker took responsibility for it."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        # amqp's connection and channel (the library carries no types); None until the first batch
        self.connection: Any = None
        self.channel: Any = None
        self.declared: set[str] = set()

    def _open(self) -> None:
        self.connection = topology.connect(self.amqp_uri)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        topology.declare_events_exchange(self.channel)
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self.next_tag = 1
        self.declared = set()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        topology.collect(connection)

    def _ensure_queues(self, event_type: str) -> None:
        if event_type in self.declared:
            return
        for sub in subscribers_of(event_type):
            topology.declare_main_queue(self.channel, sub)
        self.declared.add(event_type)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, ok=True)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, ok=False)

    def _settle(self, tag: int, multiple: bool, ok: bool) -> None:
        tags = [t for t in self.pending if t <= tag] if multiple else [tag]
        for t in tags:
            message_id = self.pending.pop(t, None)
            if message_id is not None and message_id not in self.failed:
                if ok:
                    self.confirmed.add(message_id)
                else:
                    self.failed[message_id] = "nacked by broker"

    def _on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        self.failed[message.properties.get("message_id")] = f"unroutable: {routing_key}"
        self.declared.discard(routing_key)  # a deleted queue is declared again on the retry

    def publish_batch(self, events: list[tuple[str, str, str, str]]) -> tuple[set[str], dict[str, str]]:
        """Publish ``(event_id, event_type, envelope_json, correlation_id)``
        rows; return the ids the broker confirmed and the ids that failed, with why."""
        if self.connection is None:
            self._open()
        self.pending: dict[int, str] = {}
        self.confirmed: set[str] = set()
        self.failed: dict[str, str] = {}
        try:
            for event_id, event_type, envelope_json, correlation_id in events:
                self._ensure_queues(event_type)
                message = amqp.Message(
                    envelope_json,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=event_id,
                    type=event_type,
                    application_headers={"correlation_id": correlation_id or ""},
                )
                self.channel.basic_publish(
                    message, exchange=topology.EVENTS_EXCHANGE, routing_key=event_type, mandatory=True
                )
                self.pending[self.next_tag] = event_id
                self.next_tag += 1
            deadline = time.monotonic() + CONFIRM_TIMEOUT
            while self.pending and time.monotonic() < deadline:
                self.connection.drain_events(timeout=max(0.01, deadline - time.monotonic()))
        except (TimeoutError, OSError, amqp.exceptions.AMQPError):
            self.close()
            raise
        for event_id in self.pending.values():
            self.failed.setdefault(event_id, "no confirm before timeout")
        if self.pending:
            self.close()  # late confirms would land on the next batch's tags
        return self.confirmed - set(self.failed), self.failed


class Relay:
    """Moves pending outbox rows to the broker; one instance per process."""

    def __init__(self, connection_factory: Callable[..., Any], amqp_uri: str, batch_size: int = 500):
        self.connection_factory = connection_factory
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.batch_size = batch_size

    def relay_batch(self) -> int:
        """Publish one batch; returns how many rows it claimed."""
        with self.connection_factory() as conn, conn.transaction():
            rows = conn.execute(
                # The body goes out as the text PostgreSQL holds: no parse and re-dump.
                """SELECT id, event_id::text AS event_id, event_type, body::text AS body,
                          body->>'correlation_id' AS correlation_id FROM outbox
                   WHERE published_at IS NULL AND next_attempt_at <= now()
                   ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
                (self.batch_size,),
            ).fetchall()
            if not rows:
                return 0
            if os.environ.get(FAULT_ENV) == "kill_before_publish":
                os.kill(os.getpid(), signal.SIGKILL)  # crash test: committed, never published
            # An event type nobody subscribes to (contracts.SUBSCRIPTIONS) would
            # come back unroutable forever: it is settled as sent to no one.
            unheard = [r["event_id"] for r in rows if not subscribers_of(r["event_type"])]
            confirmed, failed = self.publisher.publish_batch(
                [
                    (r["event_id"], r["event_type"], r["body"], r["correlation_id"])
                    for r in rows
                    if subscribers_of(r["event_type"])
                ]
            )
            if unheard:
                conn.execute(
                    "UPDATE outbox SET published_at = now(), last_error = 'no subscribers' "
                    "WHERE event_id = ANY(%s::uuid[])",
                    (unheard,),
                )
            if confirmed:
                conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE event_id = ANY(%s::uuid[])", (list(confirmed),)
                )
            for event_id, reason in failed.items():
                conn.execute(
                    """UPDATE outbox SET attempts = attempts + 1, last_error = %s,
                              next_attempt_at = now() + make_interval(secs => least(%s, 0.5 * power(2, attempts)))
                       WHERE event_id = %s""",
                    (reason, MAX_BACKOFF_SECONDS, event_id),
                )
                log.warning("outbox_publish_failed", event_id=event_id, reason=reason)
            return len(rows)

    def close(self) -> None:
        self.publisher.close()


class OutboxRelay(PollingLoop):
    """Runs a Relay in a managed greenthread of the service's container."""

    pool = DatabasePool()
    identifier = "outbox_relay"

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.enabled = str(config.get("OUTBOX_RELAY", True)).lower() not in ("false", "0", "no")
        self.poll_interval = float(config.get("OUTBOX_POLL_INTERVAL", 0.5))
        self.relay = Relay(self.pool.connection, config["AMQP_URI"], int(config.get("OUTBOX_BATCH_SIZE", 500)))
        self.pool.outbox_listeners.append(self.wake)

    def poll_once(self) -> int:
        return self.relay.relay_batch()

    def more_waiting(self, claimed: int) -> bool:
        # A batch short of full took every row that was due and unlocked when it
        # looked; a row committed since woke the relay (``wake``), so the wait
        # that follows returns at once for it. Another pass now would find
        # nothing, at the cost of a transaction per booking under load.
        return claimed >= self.relay.batch_size

    def stop(self) -> None:
        super().stop()
        self.relay.close()

    def kill(self) -> None:
        super().kill()
        self.relay.close()
