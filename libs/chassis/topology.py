"""Where events go on RabbitMQ: one topic exchange, three queues per subscriber.

- ``pc.evt.<service>.<handler>``: the subscriber's queue, bound to ``pc.events``
  by event type. Declared by the consumer at start-up and by every relay
  before it publishes, with the same arguments.
- ``pc.retry.<service>.<handler>``: a failed delivery waits here for its
  backoff (per-message TTL), then dead-letters back to the main queue.
- ``pc.dlq.<service>.<handler>``: deliveries that failed every attempt are
  parked here for ops to list and replay (``chassis.deadletters``).

``AMQP_URI`` may name several brokers of one cluster separated by ``;``
(``pyamqp://u:p@node1:5672/pc;pyamqp://u:p@node2:5672/pc``): kombu, and so
nameko's consumers and publishers, fail over between them on connection loss
(round-robin), and ``connect`` below tries them in turn, the last one that
answered first.
"""

from __future__ import annotations

import amqp
import kombu.exceptions
from kombu import Connection, Exchange, Queue

from .contracts import Subscription

EVENTS_EXCHANGE = "pc.events"
# What a lost or refused broker connection raises, through py-amqp or kombu.
BROKER_ERRORS = (OSError, amqp.exceptions.AMQPError, kombu.exceptions.KombuError)


def main_queue(sub: Subscription) -> str:
    return f"pc.evt.{sub.service}.{sub.handler}"


def retry_queue(sub: Subscription) -> str:
    return f"pc.retry.{sub.service}.{sub.handler}"


def dead_letter_queue(sub: Subscription) -> str:
    return f"pc.dlq.{sub.service}.{sub.handler}"


def kombu_main_queue(sub: Subscription) -> Queue:
    """The main queue as kombu declares it when nameko consumes from it."""
    exchange = Exchange(EVENTS_EXCHANGE, type="topic", durable=True)
    return Queue(main_queue(sub), exchange=exchange, routing_key=sub.event_type, durable=True)


def declare_events_exchange(channel: amqp.Channel) -> None:
    channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True, auto_delete=False)


def declare_main_queue(channel: amqp.Channel, sub: Subscription) -> None:
    declare_events_exchange(channel)
    channel.queue_declare(main_queue(sub), durable=True, auto_delete=False)
    channel.queue_bind(main_queue(sub), EVENTS_EXCHANGE, sub.event_type)


def declare_subscription(channel: amqp.Channel, sub: Subscription) -> None:
    declare_main_queue(channel, sub)
    channel.queue_declare(
        retry_queue(sub),
        durable=True,
        auto_delete=False,
        arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": main_queue(sub),
        },
    )
    channel.queue_declare(dead_letter_queue(sub), durable=True, auto_delete=False)


_last_answered: dict[str, int] = {}  # failover list -> index of the broker that last answered


def broker_uris(amqp_uri: str) -> list[str]:
    """The brokers of a ``;``-separated failover list (one for a plain URI)."""
    uris = [uri.strip() for uri in amqp_uri.split(";") if uri.strip()]
    if not uris:
        raise ValueError("AMQP_URI names no broker")
    return uris


def connect(amqp_uri: str, heartbeat: int = 0) -> amqp.Connection:
    """A plain py-amqp connection (the relay batches its own confirms) to the
    first broker of the list that accepts it; raises the last broker's error."""
    uris = broker_uris(amqp_uri)
    first = _last_answered.get(amqp_uri, 0) % len(uris)
    error: Exception | None = None
    for index in [*range(first, len(uris)), *range(first)]:
        try:
            connection = connect_one(uris[index], heartbeat)
        except (OSError, amqp.exceptions.AMQPError) as exc:
            error = exc
            continue
        _last_answered[amqp_uri] = index
        return connection
    assert error is not None  # broker_uris names one broker at least
    raise error


def collect(connection: amqp.Connection | None) -> None:
    """Drop a connection without a handshake (a dead broker would not answer
    one); None, a connection never opened, is nothing to drop."""
    if connection is not None:
        connection.collect()


def connect_one(amqp_uri: str, heartbeat: int) -> amqp.Connection:
    params = Connection(amqp_uri)
    connection = amqp.Connection(
        host=f"{params.hostname or '127.0.0.1'}:{params.port or 5672}",
        userid=params.userid or "guest",
        password=params.password or "guest",
        virtual_host=params.virtual_host or "/",
        heartbeat=heartbeat,
        connect_timeout=5,
    )
    try:
        connection.connect()
    except BaseException:
        connection.collect()
        raise
    return connection
