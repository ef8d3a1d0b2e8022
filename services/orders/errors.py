"""The orders service's domain errors: stable snake_case codes (../shared/api.md),
one contract status each. ``details`` name the order, line, state or reason."""

from __future__ import annotations

from chassis import reviews
from chassis.errors import DomainError, Conflict, NotFound, ServiceUnavailable, ValidationFailed


def invalid_fields(fields: dict[str, str], message: str = "request body is invalid") -> DomainError:
    """A 422 naming each field, like chassis.validation.parse does for shape errors."""
    return ValidationFailed(message=message, details={"fields": fields})


def order_not_found(order_id: str) -> DomainError:
    """Unknown, someone else's, or another partner's order: all look the same."""
    return NotFound("order_not_found", "no such order", {"order_id": order_id})


def request_not_found(kind: str, request_id: str) -> DomainError:
    return NotFound(f"{kind}_request_not_found", f"no such {kind} request", {"request_id": request_id})


def inquiry_not_found(inquiry_id: str) -> DomainError:
    return NotFound("inquiry_not_found", "no such inquiry", {"inquiry_id": inquiry_id})


def review_not_found(review_id: str) -> DomainError:
    return reviews.review_not_found(review_id)


def _next_steps(exits: dict[str, list[str]] | None) -> str:
    """``the partner may ship or cancel it``: who may do what next (the service's
    English; the gateway renders the message from chassis.messages and these details)."""
    steps = [
        f"the {who} may {' or '.join(a.replace('_', ' ') for a in actions)}"
        for who, actions in (exits or {}).items()
        if who != "system" and actions
    ]
    return "; ".join(steps) if steps else "nothing more can happen to it"


def _ways_out(exits: dict[str, list[str]] | None) -> dict:
    """What the error details say of the ways out: ``next`` by who, and
    ``partner_may`` / ``customer_may`` for the messages' catalogue."""
    exits = exits or {}
    return {"next": exits, "partner_may": exits.get("partner", []), "customer_may": exits.get("customer", [])}


def invalid_state(
    order_id: str, status: str, action: str, allowed: tuple[str, ...] = (), exits: dict[str, list[str]] | None = None
) -> DomainError:
    return Conflict(
        "invalid_state",
        f"an order that is {status} cannot {action.replace('_', ' ')}: {_next_steps(exits)}",
        {
            "order_id": str(order_id),
            "status": status,
            "action": action,
            "allowed_from": list(allowed),
            **_ways_out(exits),
        },
    )


def wrong_channel(order: dict, action: str, channels: tuple[str, ...], exits: dict[str, list[str]]) -> DomainError:
    """An action of another channel's flow (start preparing a parcel): named as such (issue 18 item 8)."""
    return Conflict(
        "invalid_state",
        f"{action.replace('_', ' ')} is for {' and '.join(channels)} orders, not "
        f"{order['channel']}; this order is {order['status']}: {_next_steps(exits)}",
        {
            "order_id": str(order["order_id"]),
            "status": order["status"],
            "channel": order["channel"],
            "action": action,
            "channels": list(channels),
            "allowed_from": [],
            **_ways_out(exits),
        },
    )


def cancel_not_allowed(
    order_id: str, status: str, reason: str, message: str, by: str, exits: dict[str, list[str]] | None = None
) -> DomainError:
    """R-ORD-5: every refusal names its reason code in ``details.reason``; ``action``
    (``customer_cancel`` / ``partner_cancel``) picks the catalogue's message."""
    return Conflict(
        "cancel_not_allowed",
        message,
        {"order_id": str(order_id), "status": status, "reason": reason, "action": f"{by}_cancel", **_ways_out(exits)},
    )


def order_not_changeable(order_id: str) -> DomainError:
    return Conflict(
        "order_not_changeable",
        "an order cannot be changed once received: the partner cancels it and the customer orders again (R-ORD-4)",
        {"order_id": order_id},
    )


def creation_interrupted(key: str) -> DomainError:
    return ServiceUnavailable(
        "order_creation_interrupted",
        "the order could not be completed in time; retry with the same Idempotency-Key",
        {"idempotency_key": key},
    )


def channel_not_offered(channel: str, category: str | None, offered: tuple[str, ...]) -> DomainError:
    return ValidationFailed(
        "channel_not_offered",
        f"this partner does not take {channel} orders",
        {"fields": {"channel": f"use one of {', '.join(offered) or 'nothing'}"}, "category": category},
    )


def not_a_shop_order(order_id: str, channel: str) -> DomainError:
    return Conflict(
        "not_a_shop_order",
        "refunds and exchanges are requested on shop (parcel) orders (R-ORD-8)",
        {"order_id": order_id, "channel": channel},
    )


def request_not_open(kind: str, request_id: str, status: str) -> DomainError:
    return Conflict(
        "invalid_state", f"the {kind} request is {status}, not requested", {"request_id": request_id, "status": status}
    )


def request_step_refused(kind: str, request_id: str, status: str, step: str, needed: str) -> DomainError:
    return Conflict(
        "invalid_state",
        f"the {kind} request is {status}: {step.replace('_', ' ')} comes when it is {needed}",
        {"request_id": request_id, "status": status, "action": step, "allowed_from": [needed]},
    )


def exceeds_order(order_id: str, line_id: str, requested: int, available: int) -> DomainError:
    return Conflict(
        "quantity_exceeds_order",
        "more units than the line still has",
        {"order_id": order_id, "line_id": line_id, "requested": requested, "available": available},
    )


def cancel_instead(order_id: str, status: str, exits: dict[str, list[str]]) -> DomainError:
    """Refunding every unit left of an unshipped order is a cancellation (R-ORD-5):
    the customer's while it is received, the partner's afterwards."""
    who = (
        "cancel the order instead"
        if "cancel" in exits.get("customer", ())
        else "shipment preparation has started, so ask the partner to cancel the order"
    )
    return Conflict(
        "cancel_instead",
        f"this would refund every unit of an order not shipped yet: {who} (R-ORD-5)",
        {"order_id": str(order_id), "status": status, **_ways_out(exits)},
    )


def exchange_price_differs(line_id: str, option_id: str, old: int, new: int) -> DomainError:
    return Conflict(
        "exchange_price_differs",
        "an exchange is for an option at the same price; refund and order again otherwise",
        {"line_id": line_id, "option_id": option_id, "unit_price": old, "new_unit_price": new},
    )


def review_not_allowed(order_id: str, status: str) -> DomainError:
    return reviews.review_not_allowed(status, "reviews are written on completed orders (R-ORD-9)", order_id=order_id)


def review_exists(line_id: str) -> DomainError:
    return reviews.review_exists("this order line already has a review (one per line, R-ORD-9)", line_id=line_id)


def already_answered(kind: str, object_id: str) -> DomainError:
    return Conflict(f"already_{kind}", f"this was already {kind}", {"id": object_id})
