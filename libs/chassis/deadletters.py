"""Ops: list and replay the events parked in a subscriber's dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import amqp

from . import topology
from .consumer import ATTEMPT_HEADER, ERROR_HEADER
from .contracts import Subscription


def list_dead_letters(amqp_uri: str, sub: Subscription) -> list[dict[str, Any]]:
    """Every parked event, with its error; the queue is left as it was."""
    connection = topology.connect(amqp_uri)
    try:
        channel = connection.channel()
        topology.declare_subscription(channel, sub)
        parked = []
        while (message := channel.basic_get(topology.dead_letter_queue(sub))) is not None:
            headers = message.properties.get("application_headers", {})
            parked.append(
                {
                    "envelope": json.loads(message.body),
                    "attempts": headers.get(ATTEMPT_HEADER),
                    "error": headers.get(ERROR_HEADER),
                }
            )
        channel.close()  # unacked messages go back to the queue untouched
        return parked
    finally:
        connection.collect()


def replay_dead_letters(amqp_uri: str, sub: Subscription) -> int:
    """Move every parked event back to the subscriber's queue with a fresh
    attempt count; each is acked from the DLQ only once the broker confirmed it."""
    connection = topology.connect(amqp_uri)
    replayed = 0
    try:
        channel = connection.channel()
        topology.declare_subscription(channel, sub)
        while (message := channel.basic_get(topology.dead_letter_queue(sub))) is not None:
            replay = amqp.Message(
                message.body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                application_headers={},
            )
            channel.basic_publish_confirm(replay, exchange="", routing_key=topology.main_queue(sub))
            channel.basic_ack(message.delivery_tag)
            replayed += 1
        return replayed
    finally:
        connection.close()
