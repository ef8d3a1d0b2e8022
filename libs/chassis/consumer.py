"""The event entrypoint: idempotent, retried with backoff, never dropped.

nameko's own ``event_handler`` acks a message even when the handler raised,
which loses the event. ``event_handler`` here does this instead, on failure:
the delivery is re-published to the subscriber's retry queue with a growing
per-message TTL (it dead-letters back to the main queue when the TTL ends),
and after ``EVENT_MAX_ATTEMPTS`` it is parked in the dead-letter queue. The
original is acked only after that publish is confirmed, so a crash in between
redelivers it rather than losing it. Handlers make the effect idempotent with
``self.db.consuming(event)`` (the inbox, in the handler's own transaction).

A service registers its handlers one way (issue 19), ``handles``::

    @handles("order.completed", "order.delivered")
    def _record(self, event): ...

gives the service one entrypoint per event type, named as
``chassis.contracts.SUBSCRIPTIONS`` names it (``on_order_completed``: its
queue), each calling the method.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from functools import partial
from typing import Any

from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer

from . import topology
from .context import CORRELATION_KEY
from .contracts import SUBSCRIPTIONS, Subscription, handler_name
from .envelope import Envelope
from .logging import get_logger
from .topology import BROKER_ERRORS

log = get_logger(__name__)

ATTEMPT_HEADER = "x-pc-attempt"
ERROR_HEADER = "x-pc-error"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY_MS = 500


class UnknownSubscription(RuntimeError):
    pass


class EventHandler(Consumer):
    def __init__(self, event_type: str, **kwargs: Any) -> None:
        self.event_type = event_type
        super().__init__(queue=None, **kwargs)

    def setup(self) -> None:
        self.subscription = Subscription(self.event_type, self.container.service_name, self.method_name)
        if self.subscription not in SUBSCRIPTIONS:
            raise UnknownSubscription(f"{self.subscription} is not declared in chassis.contracts.SUBSCRIPTIONS")
        config = self.container.config
        self.max_attempts = int(config.get("EVENT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
        self.base_delay_ms = int(config.get("EVENT_RETRY_BASE_MS", DEFAULT_BASE_DELAY_MS))
        self.queue = topology.kombu_main_queue(self.subscription)
        self.publisher = Publisher(config["AMQP_URI"], mandatory=True)
        connection = topology.connect(config["AMQP_URI"])
        try:
            topology.declare_subscription(connection.channel(), self.subscription)
        finally:
            connection.collect()
        super().setup()

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            envelope = Envelope.from_json(body)
        except Exception as exc:  # a message no handler can ever read: park it at once
            self._park(body, message, attempt=0, error=f"unreadable envelope: {exc}")
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data[CORRELATION_KEY] = envelope.correlation_id or context_data.get(CORRELATION_KEY)
        try:
            self.container.spawn_worker(
                self, (envelope,), {}, context_data=context_data, handle_result=partial(self.handle_result, message)
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
        if exc_info is not None:
            attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
            error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            try:
                if attempt < self.max_attempts:
                    self._retry_later(message, attempt, error)
                else:
                    self._park(message.payload, message, attempt, error)
            except BROKER_ERRORS as exc:
                # The broker link failed while the event was being set aside (a node going
                # down, a cluster failing over): it goes back to its queue instead, and the
                # process carries on. Raising here would kill the whole container.
                log.warning("event_requeued", queue=self.queue.name, attempt=attempt, error=repr(exc))
                self.queue_consumer.requeue_message(message)
                return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _retry_later(self, message: Any, attempt: int, error: str) -> None:
        delay_ms = self.base_delay_ms * 2 ** (attempt - 1)
        log.warning("event_retry_scheduled", queue=self.queue.name, attempt=attempt, delay_ms=delay_ms, error=error)
        self.publisher.publish(
            message.payload,
            exchange="",
            routing_key=topology.retry_queue(self.subscription),
            expiration=delay_ms / 1000,
            headers={ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error[:1000]},
        )

    def _park(self, payload: Any, message: Any, attempt: int, error: str) -> None:
        log.error("event_dead_lettered", queue=self.queue.name, attempt=attempt, error=error)
        self.publisher.publish(
            payload,
            exchange="",
            routing_key=topology.dead_letter_queue(self.subscription),
            headers={ATTEMPT_HEADER: attempt, ERROR_HEADER: error[:1000]},
        )


event_handler = EventHandler.decorator


Handler = Callable[[Any, Envelope], None]


def _entrypoint(event_type: str, method_name: str) -> Handler:
    def handler(self: Any, event: Envelope) -> None:
        getattr(self, method_name)(event)

    handler.__name__ = handler_name(event_type)
    handler.__doc__ = f"{event_type}: ``{method_name}``."
    return event_handler(event_type)(handler)  # type: ignore[no-any-return]


class handles:  # noqa: N801 - used as a decorator, named like one
    """``@handles(*event_types)`` on a method: the service handles each event
    type with it, through an entrypoint ``on_<kind>`` (module docstring). A
    method already named ``on_<kind>`` for its one event type is that entrypoint."""

    def __init__(self, *event_types: str) -> None:
        if not event_types:
            raise ValueError("name at least one event type")
        self.event_types = event_types

    def __call__(self, method: Handler) -> handles:
        self.method = method
        return self

    def __set_name__(self, owner: type, name: str) -> None:
        if len(self.event_types) == 1 and name == handler_name(self.event_types[0]):
            setattr(owner, name, event_handler(self.event_types[0])(self.method))
            return
        setattr(owner, name, self.method)
        for event_type in self.event_types:
            if hasattr(owner, handler_name(event_type)):
                raise TypeError(f"{owner.__name__} handles {event_type} twice")
            setattr(owner, handler_name(event_type), _entrypoint(event_type, name))
