"""Integration events: their payload models and who subscribes to them.

One module for every service, so that a producer and its consumers agree on
the shape of an event (``PAYLOADS``) and on the queues that must exist before
it is published (``SUBSCRIPTIONS``). The outbox relay declares the queues of
every subscriber before publishing with ``mandatory``, so an event is kept in
its queue even when the consumer has not started yet.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberWithdrawn(Payload):
    """R-ACC-3: other services erase or pseudonymise what they hold of the member."""
    member_id: str
    pseudonym: str


class ChassisProbed(Payload):
    """Exercises the chassis end to end (tests and benchmarks)."""
    probe_id: str
    note: str = ""


PAYLOADS: dict[str, type[Payload]] = {
    "member.withdrawn": MemberWithdrawn,
    "chassis.probed": ChassisProbed,
}


@dataclass(frozen=True, order=True)
class Subscription:
    event_type: str
    service: str
    handler: str


# Static on purpose: a producer's relay must know the queues of consumers that
# live in other processes. An event handler not listed here refuses to start.
SUBSCRIPTIONS: set[Subscription] = {
    Subscription("chassis.probed", "chassis_probe", "on_probed"),
}


def subscribe(event_type: str, service: str, handler: str) -> Subscription:
    """Add a subscription at run time (tests' own services)."""
    if event_type not in PAYLOADS:
        raise KeyError(f"unknown event type {event_type!r}: add its payload model to contracts.PAYLOADS")
    subscription = Subscription(event_type, service, handler)
    SUBSCRIPTIONS.add(subscription)
    return subscription


def subscribers_of(event_type: str) -> list[Subscription]:
    return sorted(s for s in SUBSCRIPTIONS if s.event_type == event_type)


def validate_payload(event_type: str, payload: dict) -> dict:
    return PAYLOADS[event_type].model_validate(payload).model_dump(mode="json")
