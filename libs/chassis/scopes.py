"""API key scopes (R-ACC-13, api.md v1.1): what a partner's key may do.

A key is the partner's, not a person's: it carries the scopes an admin gave it
(``<area>:read`` or ``<area>:write``; write includes read) and nothing else,
whatever becomes of the member who made it. The gateway checks the scope of
each route before the handler runs (``gateway.auth``); accounts validates the
scopes a key is created with. One table for both, so they cannot disagree.

Which area a partner route belongs to is read off its path: the segment after
``/v1/partners/<pid>/``. Choices where api.md is silent: the partner's profile
and places are what customers see next to products (R-CAT-4), so changing them
is ``products:write``; conversations, channel messages and reviews are about
``customers``; statistics and payout schedules are ``settlement``; couriers are
``orders``, product questions ``products``; closing and re-submitting a partner
are a person's acts. Reads of the
partner itself, its dashboard and notifications need a live key of the partner
and no particular scope. A write outside every area is refused to keys.
"""

from __future__ import annotations

from collections.abc import Iterable

AREAS = ("reservations", "orders", "products", "customers", "settlement", "webhooks", "coupons")
ALL_SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ("read", "write"))

# first path segment after /v1/partners/<pid>/ -> area
SEGMENT_AREAS = {
    "reservations": "reservations",
    "reservation-board": "reservations",
    "orders": "orders",
    "refund-requests": "orders",
    "exchange-requests": "orders",
    "inquiries": "orders",
    "couriers": "orders",
    "products": "products",
    "places": "products",
    "": "products",
    "product-questions": "products",
    "customers": "customers",
    "conversations": "customers",
    "channel-messages": "customers",
    "reviews": "customers",
    "ledger": "settlement",
    "payouts": "settlement",
    "tax-invoices": "settlement",
    "sales-summary": "settlement",
    "statistics": "settlement",
    "payout-schedule": "settlement",
    "webhooks": "webhooks",
    "coupons": "coupons",
}
READS_WITHOUT_SCOPE = {"", "dashboard", "notifications", "events"}
NO_SCOPE = "none"  # a route no key may call (scope_of), e.g. a write outside every area


def scope_of(method: str, url: str) -> str | None:
    """The scope a key needs for a partner route; None when any live key of
    the partner may call it, ``NO_SCOPE`` when no key may."""
    prefix = "/v1/partners/<pid>"
    if not url.startswith(prefix):
        return None
    segment = url[len(prefix) :].lstrip("/").split("/")[0]
    reading = method in ("GET", "HEAD")
    if reading and segment in READS_WITHOUT_SCOPE:
        return None
    area = SEGMENT_AREAS.get(segment)
    if area is None:
        return NO_SCOPE if not reading else None
    return f"{area}:{'read' if reading else 'write'}"


def grants(scopes: Iterable[str], needed: str | None) -> bool:
    """Whether a key holding ``scopes`` may do what needs ``needed`` (write includes read)."""
    if needed is None:
        return True
    if needed == NO_SCOPE:
        return False
    area, _, access = needed.partition(":")
    return needed in scopes or (access == "read" and f"{area}:write" in scopes)
