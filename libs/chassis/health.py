"""The health check, answered on a queue of its own and outside the worker pool.

A service's ``@rpc`` methods share one queue (``rpc-<service>``) and the
container's ``max_workers``: the broker hands that queue out in order, at
most ``max_workers`` unanswered per process. A burst of slow calls held the
health check behind it: 21 logins (each hashing a password for 1-3 s on 2
CPUs) with 4 workers a process kept the health call waiting 2.4 s, and the
gateway's ``/healthz`` said 503 during `make proof`'s login flood (issue 16
item 4). A busy service is not an unhealthy one, so the gateway asks here
instead (``Services.check_health``): the queue ``rpc-<service>-health``
(routing key ``<service>-health.health``, ``chassis.rpc.health_route``),
consumed by the container's queue consumer beside the RPC queue, answered
in the thread that received it without taking a worker slot.

What an answer proves: the process consumes from the broker and a pooled
database connection answers ``SELECT 1`` (``DB_POOL_TIMEOUT`` bounds the wait
for one, under the gateway's health deadline).
"""

from __future__ import annotations

import sys
from typing import Any

from kombu import Queue
from kombu.message import Message
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import get_rpc_exchange

from .db import DatabasePool
from .rpc import HEALTH_METHOD, answer, health_queue, health_route


class HealthResponder(DependencyProvider):
    queue_consumer = QueueConsumer()
    pool = DatabasePool()  # the service's own pool (one per container)

    def setup(self) -> None:
        service = self.container.service_name
        self.queue = Queue(
            health_queue(service),
            exchange=get_rpc_exchange(self.container.config),
            routing_key=f"{health_route(service)}.{HEALTH_METHOD}",
            durable=True,
        )
        self.queue_consumer.register_provider(self)

    def stop(self) -> None:
        self.queue_consumer.unregister_provider(self)

    def handle_message(self, body: Any, message: Message) -> None:
        """Called by the queue consumer in a managed thread of its own (never a worker)."""
        try:
            result, exc_info = self.check(), None
        except Exception:  # the caller hears the error, as from any RPC
            result, exc_info = None, sys.exc_info()
        answer(self.container.config, self.queue_consumer, message, result, exc_info)

    def check(self) -> dict[str, str]:
        with self.pool.connection() as conn:
            conn.execute("SELECT 1")
        return {"service": self.container.service_name, "status": "ok"}
