"""Who asks a service to act: one model for every partner RPC (issue 19).

The gateway turns its authenticated principal into an ``Actor`` and sends
``actor.to_wire()`` as the ``actor`` argument; a service reads it back with
``Actor.from_wire`` and records ``actor.recorded_as`` in its histories.

The wire shape is the model's fields plus the principal's own names for the
person (``member_id``, ``customer_id``), so a service that still reads the dict
by key understands it while the services move to ``from_wire``. ``from_wire`` also reads every
shape the services were sent before (issue 19): the gateway's whole principal
(with ``scopes``), a dict without ``kind`` (a member), a bare member id, the
catalog's ``"api_key"`` and ``"api_key:<id>"``, settlement's
``"operator:<id>"``, and nothing at all (the system).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DomainError, ValidationFailed

MEMBER, API_KEY, OPERATOR, CUSTOMER, SYSTEM = "member", "api_key", "operator", "customer", "system"
KINDS = (MEMBER, API_KEY, OPERATOR, CUSTOMER, SYSTEM)
PEOPLE = (MEMBER, OPERATOR)  # their id is a member id
PREFIXED = (API_KEY, OPERATOR)  # bare strings "api_key:<id>", "operator:<id>"


def invalid_actor(why: str) -> DomainError:
    return ValidationFailed(message="the actor is invalid", details={"fields": {"actor": why}})


def _text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_actor(f"{field} must be a string")
    return value


@dataclass(frozen=True)
class Actor:
    """``id`` is the member id of a member or operator, the customer id of a
    customer, or a system actor's name ("scheduler"); an API key has none of
    its own person and is known by ``api_key_id`` (R-ACC-13). ``partner_id`` and
    ``role`` are the partner the call is about and the actor's role there."""

    kind: str
    id: str | None = None
    role: str | None = None
    partner_id: str | None = None
    api_key_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise invalid_actor(f"kind must be one of {', '.join(KINDS)}")

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        return cls(SYSTEM, name)

    @property
    def member_id(self) -> str | None:
        return self.id if self.kind in PEOPLE else None

    @property
    def customer_id(self) -> str | None:
        return self.id if self.kind == CUSTOMER else None

    @property
    def recorded_as(self) -> str:
        """What a history records as who did it: a person's id, an API key as
        ``api_key:<id>`` (R-ACC-13, never the person who made the key), a
        system actor by its name or ``system``."""
        if self.kind == API_KEY:
            return f"api_key:{self.api_key_id}" if self.api_key_id else API_KEY
        return self.id or self.kind

    def to_wire(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "id": self.id,
            "role": self.role,
            "partner_id": self.partner_id,
            "api_key_id": self.api_key_id,
            "member_id": self.member_id,
            "customer_id": self.customer_id,
        }

    @classmethod
    def from_wire(cls, value: Any) -> Actor:
        """The actor a service was sent, in any shape a caller sends (module docstring)."""
        if isinstance(value, Actor):
            return value
        if value is None or value == "":
            return cls.system()
        if isinstance(value, str):
            return cls._from_text(value)
        if isinstance(value, Mapping):
            return cls._from_mapping(value)
        raise invalid_actor("must be an object or a string")

    @classmethod
    def _from_text(cls, value: str) -> Actor:
        kind, colon, rest = value.partition(":")
        if colon and kind in PREFIXED:
            return cls(kind, api_key_id=rest) if kind == API_KEY else cls(kind, rest)
        if value == API_KEY:
            return cls(API_KEY)
        return cls(MEMBER, value)

    @classmethod
    def _from_mapping(cls, value: Mapping[str, Any]) -> Actor:
        kind = _text(value.get("kind"), "kind") or MEMBER
        member_id = _text(value.get("member_id"), "member_id")
        customer_id = _text(value.get("customer_id"), "customer_id")
        person = customer_id if kind == CUSTOMER else member_id
        return cls(
            kind,
            _text(value.get("id"), "id") or person,
            role=_text(value.get("role"), "role"),
            partner_id=_text(value.get("partner_id"), "partner_id"),
            api_key_id=_text(value.get("api_key_id"), "api_key_id"),
        )
