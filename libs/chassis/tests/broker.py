"""Helpers for looking at the real broker from tests."""

import subprocess
from urllib.parse import urlparse

from kombu import Connection, Exchange, Producer

from chassis.envelope import Envelope
from chassis.privacy import pseudonym
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


def rpc_consumers(amqp_uri: str, queue: str) -> int:
    """How many consumers a queue has (0 when it does not exist yet); -1 when
    rabbitmqctl failed, as it now and then does on a busy shared broker: ask again."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost_of(amqp_uri), "--no-table-headers", "name", "consumers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if listed.returncode != 0:
        return -1
    return next((int(n) for name, n in (line.split() for line in listed.stdout.splitlines()) if name == queue), 0)


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


def erasure(kind: str, person_id: str) -> Envelope:
    """What accounts publishes when a customer is erased (``kind`` "customer": customer.erased) or a
    member withdraws ("member": member.withdrawn): the id and its pseudonym (R-ACC-3)."""
    event_type = {"customer": "customer.erased", "member": "member.withdrawn"}[kind]
    return Envelope(
        type=event_type, source="accounts", payload={f"{kind}_id": person_id, "pseudonym": pseudonym(kind, person_id)}
    )
