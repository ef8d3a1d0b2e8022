"""Helpers for looking at the real broker from tests."""

import subprocess
from urllib.parse import urlparse

from kombu import Connection, Exchange, Producer

from chassis.envelope import Envelope
from chassis.topology import EVENTS_EXCHANGE


def vhost_of(amqp_uri: str) -> str:
    return urlparse(amqp_uri).path.lstrip("/") or "/"


def queue_depths(amqp_uri: str) -> dict[str, tuple[int, int]]:
    """queue -> (ready, unacknowledged), as the broker reports them."""
    out = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost_of(amqp_uri),
            "--no-table-headers",
            "name",
            "messages_ready",
            "messages_unacknowledged",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    depths = {}
    for line in out.splitlines():
        name, ready, unacked = line.split()
        depths[name] = (int(ready), int(unacked))
    return depths


def publish_envelope(amqp_uri: str, envelope: Envelope) -> None:
    """Publish as the relay does (confirmed, persistent), bypassing any outbox."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.default_channel)
        producer.publish(
            envelope.model_dump(mode="json"),
            exchange=Exchange(EVENTS_EXCHANGE, type="topic", durable=True),
            routing_key=envelope.type,
            serializer="json",
            delivery_mode=2,
            mandatory=True,
        )
