"""Notification rules, without I/O: who receives what (R-NTF-1), webhook
signatures, retry schedules and the disable rule, channel-message audiences
and their rate limit (R-NTF-3), erasure of personal data in stored messages."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Which events a webhook may subscribe to, and what a subscription may name, are the
# contract's: the gateway documents and checks them too.
# Re-exported (``X as X``): the service and its tests read the webhook rules as domain.*.
from contract.notifications import ERASURE_EVENTS as ERASURE_EVENTS
from contract.notifications import WEBHOOK_EVENTS as WEBHOOK_EVENTS
from contract.notifications import WEBHOOK_SECRET_OVERLAP_HOURS as WEBHOOK_SECRET_OVERLAP_HOURS
from contract.notifications import valid_event_pattern as valid_event_pattern

from . import templates as tpl

# Which partner roles receive a staff message, mirroring the roles table of
# ../shared/api.md: everybody reads reservations and orders; products,
# webhooks and channel messages are managed by admins and masters, who also
# read the finances.
STAFF_ROLE_GROUPS = {
    "operate": frozenset({"admin", "master", "member"}),
    "manage": frozenset({"admin", "master"}),
    "finance": frozenset({"admin", "master"}),
}


@dataclass(frozen=True)
class Recipient:
    kind: str  # "member" or "customer"
    id: str


@dataclass(frozen=True)
class StaffMember:
    member_id: str
    role: str


@dataclass(frozen=True)
class PlannedMessage:
    partner_id: str
    recipient: Recipient
    template: str
    params: dict[str, Any]
    content: dict[str, Any]
    actions: list[Any]
    subject_customer_id: str | None


def applicable_templates(event_type: str, params: dict[str, Any]) -> list[tpl.Template]:
    return [t for t in tpl.TEMPLATES.get(event_type, ()) if t.applies(params)]


def needs_staff(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether the event has a message for the partner's staff (then accounts is asked who they are)."""
    params = tpl.params_from(payload)
    return any(t.audience == tpl.STAFF for t in applicable_templates(event_type, params))


def needs_operators(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether the event has a message for the platform's operators (then accounts is asked who they are)."""
    params = tpl.params_from(payload)
    return any(t.audience == tpl.OPERATORS for t in applicable_templates(event_type, params))


def _recipients(
    template: tpl.Template, payload: dict[str, Any], staff: list[StaffMember], operators: list[str]
) -> list[Recipient]:
    if template.audience == tpl.STAFF:
        roles = STAFF_ROLE_GROUPS[template.roles]
        return [Recipient("member", s.member_id) for s in staff if s.role in roles]
    if template.audience == tpl.OPERATORS:
        return [Recipient("member", operator_id) for operator_id in operators]
    fields = {
        tpl.CUSTOMER: ("holder_customer_id", "customer_id"),
        tpl.BOOKER: ("customer_id",),
        tpl.NEW_HOLDER: ("to_customer_id",),
        tpl.INVITEE: ("member_id",),
    }[template.audience]
    identifier = next((payload[f] for f in fields if payload.get(f)), None)
    if not identifier:
        return []
    return [Recipient("member" if template.audience == tpl.INVITEE else "customer", identifier)]


def plan_messages(
    event_type: str, payload: dict[str, Any], staff: list[StaffMember], operators: Sequence[str] = ()
) -> list[PlannedMessage]:
    """One message per recipient for this event (R-NTF-1): when two templates
    reach the same person (a ticket handed to oneself), the first one wins."""
    params = tpl.params_from(payload)
    subject = payload.get("customer_id")
    planned: dict[Recipient, PlannedMessage] = {}
    for template in applicable_templates(event_type, params):
        content, actions = tpl.render(template, params)
        for recipient in _recipients(template, payload, staff, list(operators)):
            if recipient not in planned:
                planned[recipient] = PlannedMessage(
                    payload["partner_id"],
                    recipient,
                    template.key,
                    params,
                    content,
                    actions,
                    subject if template.audience == tpl.STAFF else None,
                )
    return list(planned.values())


def staff_from_directory(rows: list[Any]) -> list[StaffMember]:
    """The accounts service's answer, read defensively: one entry per member, known roles only."""
    seen: dict[str, StaffMember] = {}
    for row in rows or []:
        member_id, role = row.get("member_id"), row.get("role")
        if member_id and role in STAFF_ROLE_GROUPS["operate"] and member_id not in seen:
            seen[member_id] = StaffMember(str(member_id), role)
    return list(seen.values())


# --- erasure -----------------------------------------------------------------------

IDENTIFIER_PARAMS = ("customer_id", "to_customer_id", "member_id")


def erased_rendering(
    template_key: str, params: dict[str, Any], erased_id: str, pseudonym: str
) -> tuple[dict[str, Any], dict[str, Any] | None, list[Any] | None]:
    """The params without personal fields (the erased person's identifiers
    become the pseudonym) and the message re-rendered from them; content and
    actions are None for a message not made from a template (channel messages,
    whose text is the partner's and names nobody)."""
    cleaned = {
        key: (pseudonym if key in IDENTIFIER_PARAMS and value == erased_id else value)
        for key, value in params.items()
        if key not in tpl.PERSONAL_PARAMS
    }
    template = tpl.template_by_key(template_key)
    if template is None:
        return cleaned, None, None
    content, actions = tpl.render(template, cleaned)
    return cleaned, content, actions


# --- webhooks -------------------------------------------------------------------------

SIGNATURE_HEADER = "X-PC-Signature"
TIMESTAMP_HEADER = "X-PC-Timestamp"
EVENT_HEADER = "X-PC-Event"
DELIVERY_HEADER = "X-PC-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``"<timestamp>.<body>"``: the
    timestamp is signed too, so a receiver can refuse replays of old deliveries."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """True when any of the header's signatures (two while a rotated secret overlaps) is this secret's."""
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, one.strip()) for one in signature.split(","))


# IANA special-purpose blocks that some Python versions' ``is_global`` still
# calls global (3.11 says so of 192.0.0.192), with the registry's exceptions.
NOT_GLOBAL_BLOCKS = (ipaddress.ip_network("192.0.0.0/24"),)
GLOBAL_EXCEPTIONS = (ipaddress.ip_address("192.0.0.9"), ipaddress.ip_address("192.0.0.10"))


def address_refusal(address: str) -> str | None:
    """Why the platform will not call this address, or None: only global
    addresses (``ipaddress.is_global``) are called, so a partner cannot point a
    webhook into the platform's or anyone's inside network (issue 16)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    in_special_block = (
        any(ip in block for block in NOT_GLOBAL_BLOCKS if block.version == ip.version) and ip not in GLOBAL_EXCEPTIONS
    )
    return None if ip.is_global and not ip.is_multicast and not in_special_block else "not a global address"


def host_refusal(host: str) -> str | None:
    """At registration: a literal address must be global; names are checked when called."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return (
            "not an address on the internet"
            if host.lower().rstrip(".") in ("localhost",)
            or host.lower().rstrip(".").endswith((".localhost", ".internal", ".local"))
            else None
        )
    return address_refusal(host)


def webhook_wants(patterns: list[str], event_type: str) -> bool:
    family = event_type.split(".", 1)[0] + ".*"
    return any(p in ("*", event_type, family) for p in patterns)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": the n-th retry waits between
    half and all of ``base * 2**(n-1)`` (capped), so retries spread out (no
    thundering herd after an outage) yet never come sooner than half the
    nominal delay, and each wait is at least as long as the previous one's
    minimum: the schedule always backs off."""

    base_seconds: float
    cap_seconds: float
    max_attempts: int

    def nominal_delay(self, attempt: int) -> float:
        """Delay after the ``attempt``-th failed attempt (1-based), before jitter."""
        return min(self.cap_seconds, self.base_seconds * 2.0 ** (attempt - 1))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        nominal = self.nominal_delay(attempt)
        return nominal / 2 + (rng or random).uniform(0, nominal / 2)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def shortest_total(self) -> float:
        """The least time between the first and the last attempt, whatever the jitter."""
        return sum(self.nominal_delay(n) / 2 for n in range(1, self.max_attempts))


def should_disable(consecutive_failures: int, failing_for_seconds: float, limit: int, period_seconds: float) -> bool:
    """A webhook is switched off after ``limit`` failed attempts in a row that
    span at least ``period_seconds`` (any success resets the streak): a burst
    of failures during a short outage does not disable it, a dead endpoint does."""
    return consecutive_failures >= limit and failing_for_seconds >= period_seconds


# --- channel messages (R-NTF-3) ------------------------------------------------------


def rate_limit_exceeded(sent_in_window: int, limit: int) -> bool:
    return sent_in_window >= limit
