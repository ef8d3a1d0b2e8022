"""Who is calling, and may they call this route? (../shared/api.md, Roles)

Every route declares an ``access`` level; the route decorator checks it inside
the worker before the handler runs, so no handler can forget. The caller's
token is resolved by the accounts service (``accounts.authenticate``), which
also reports the caller's role in the partner named by the path (``<pid>``).
Services re-check partner scope on every call that names a partner: this is
the first guard, not the only one. API keys are also held to their scopes
(R-ACC-13, ``chassis.scopes``: the route's path says which one it needs).

Customer tokens are remembered for ``CUSTOMER_AUTH_CACHE_SECONDS`` (5 s by
default, 0 turns it off): customer routes carry the consumer app's traffic,
and asking accounts on every request is a third of a booking's work. A token
logged out through this gateway is forgotten at once; one ended any other way
(erasure, expiry, logout through another gateway process) may be honoured for
at most those seconds. Partner staff are never cached: a role change or a
withdrawal takes effect on the next request.

A service that acts for the caller takes them as one argument, ``actor``:
``actor_of(request)``, chassis.Actor's wire shape (issue 19).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chassis import Actor, scopes
from chassis.errors import Forbidden, NotFound, Unauthenticated

# access level -> who may call. Partner levels list the partner roles allowed.
PARTNER_ACCESS = {
    "partner:read": {"admin", "master", "member"},  # read partner, dashboard, reservations, orders, notifications
    "partner:operate": {"admin", "master", "member"},  # confirm/reject/complete/cancel; handle orders
    "partner:manage": {"admin", "master"},  # products, inventory, places, webhooks, channel messages
    "partner:staff": {"admin", "master"},  # invite staff, change roles (masters: masters and members only)
    "partner:finance": {"admin", "master"},  # ledger, payouts, tax invoices
}
ACCESS_LEVELS = {"public", "member", "customer", "operator", *PARTNER_ACCESS}


@dataclass(frozen=True)
class Principal:
    kind: str  # "member", "operator", "customer" or "api_key"
    member_id: str | None = None
    customer_id: str | None = None
    partner_id: str | None = None  # the partner of an API key, or the one in the path
    role: str | None = None  # the caller's role in ``partner_id``
    api_key_id: str | None = None  # an API key: recorded as ``api_key:<id>`` in histories (R-ACC-13)
    scopes: tuple = ()  # an API key's scopes (chassis.scopes)
    name: str | None = None  # a customer's name: an in-store order is called by it

    @classmethod
    def from_rpc(cls, data: dict) -> Principal:
        return cls(
            kind=data["kind"],
            member_id=data.get("member_id"),
            customer_id=data.get("customer_id"),
            partner_id=data.get("partner_id"),
            role=data.get("role"),
            api_key_id=data.get("api_key_id"),
            scopes=tuple(data.get("scopes") or ()),
            name=data.get("name"),
        )


ANONYMOUS = Principal(kind="anonymous")


def actor_of(request) -> dict:
    """The caller as every RPC that acts for them takes it (``actor``)."""
    principal = request.principal
    person = principal.customer_id if principal.kind == "customer" else principal.member_id
    return Actor(
        principal.kind, person, role=principal.role, partner_id=principal.partner_id, api_key_id=principal.api_key_id
    ).to_wire()


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class CustomerTokenCache:
    """token -> (customer Principal, expiry), per gateway process."""

    MAX_ENTRIES = 50_000

    def __init__(self):
        self.entries: dict[str, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        found = self.entries.get(token)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            self.entries.pop(token, None)
            return None
        return found[0]

    def put(self, token: str, principal: Principal, seconds: float) -> None:
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()  # rare; cheaper than tracking order, and only costs lookups
        self.entries[token] = (principal, time.monotonic() + seconds)

    def forget(self, token: str) -> None:
        self.entries.pop(token, None)


customer_tokens = CustomerTokenCache()


def authorize(
    services, request, access: str, partner_id: str | None, customer_cache_seconds: float = 0, scope: str | None = None
) -> Principal:
    """The caller as a Principal, or the contract's 401/403/404."""
    if access == "public":
        return ANONYMOUS
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated(message="send Authorization: Bearer <token>")
    principal = customer_tokens.get(token) if access == "customer" and customer_cache_seconds > 0 else None
    if principal is None:
        principal = Principal.from_rpc(services.accounts.authenticate(token, partner_id))
        if principal.kind == "customer" and customer_cache_seconds > 0:
            customer_tokens.put(token, principal, customer_cache_seconds)
    check_access(access, principal)
    if principal.kind == "api_key":
        check_scope(scope, principal)
    return principal


def check_scope(needed: str | None, principal: Principal) -> None:
    """R-ACC-13: a key does what its scopes say, whoever made it and whatever their role is now."""
    if needed == scopes.NO_SCOPE:
        require_person(principal)
    if not scopes.grants(principal.scopes, needed):
        raise Forbidden("scope_missing", f"this API key lacks the {needed} scope", details={"scope": needed})


def check_access(access: str, principal: Principal) -> None:
    if access in PARTNER_ACCESS:
        if principal.kind not in ("member", "api_key"):
            raise Forbidden(message="this route is for partner staff")
        if principal.role is None:
            # Not staff of this partner: its objects do not exist for the caller (no BOLA oracle).
            raise NotFound("partner_not_found", "no such partner")
        if principal.role not in PARTNER_ACCESS[access]:
            raise Forbidden(message=f"the {principal.role} role may not do this", details={"role": principal.role})
    elif principal.kind != access:
        raise Forbidden(message=f"this route is for the {access} role")


def require_person(principal: Principal) -> None:
    """Acts that are a person's judgement (revealing a customer's phone, R-RSV-12), never an integration's."""
    if principal.kind == "api_key":
        raise Forbidden("api_key_not_allowed", "this is done by a person, not an API key")
