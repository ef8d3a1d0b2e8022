"""The catalog's domain errors: stable snake_case codes, one contract status each.

Callers (the gateway, reservations, orders) branch on ``code``; ``details``
names the offending line, slot, price or option.
"""

from __future__ import annotations

from chassis.errors import DomainError, Conflict, NotFound, ValidationFailed


def product_not_found(product_id: str | None = None) -> DomainError:
    """Unknown, not yet approved (for consumers), or another partner's product: all look the same."""
    return NotFound("product_not_found", "no such product", {"product_id": product_id} if product_id else {})


def review_not_found(revision_id: str) -> DomainError:
    return NotFound("review_not_found", "no such review", {"revision_id": revision_id})


def block_not_found(block_id: str) -> DomainError:
    return NotFound("block_not_found", "no such block", {"block_id": block_id})


def invalid_fields(fields: dict[str, str], message: str = "request body is invalid") -> DomainError:
    """A 422 naming each field, like chassis.validation.parse does for shape errors."""
    return ValidationFailed(message=message, details={"fields": fields})


def review_not_pending(revision_id: str, status: str) -> DomainError:
    return Conflict(
        "invalid_state", f"the review is {status}, not pending", {"revision_id": revision_id, "status": status}
    )


def nothing_to_submit(product_id: str) -> DomainError:
    return Conflict("nothing_to_submit", "the product has no draft to submit", {"product_id": product_id})


def already_in_review(product_id: str, revision_id: str) -> DomainError:
    return Conflict(
        "already_in_review",
        "the product's revision is already waiting for review",
        {"product_id": product_id, "revision_id": revision_id},
    )


def capacity_below_booked(slot: dict, booked: int) -> DomainError:
    return Conflict(
        "capacity_below_booked", "capacity cannot go below what is already booked", {**slot, "booked": booked}
    )


def block_has_bookings(slot: dict) -> DomainError:
    return Conflict("slot_has_bookings", "the slot cannot be removed while it has bookings", slot)


# --- holds (R-RSV-3, R-CAT-3) ------------------------------------------------


def capacity_exhausted(line: int, detail: dict) -> DomainError:
    return Conflict("capacity_exhausted", "not enough capacity left for this line", {"line": line, **detail})


def out_of_stock(line: int, detail: dict) -> DomainError:
    return Conflict("out_of_stock", "not enough stock left for this line", {"line": line, **detail})


def not_holdable(code: str, message: str, line: int, detail: dict) -> DomainError:
    """slot_not_offered, slot_blocked, slot_past, sale_not_started, sale_ended, product_unavailable."""
    return Conflict(code, message, {"line": line, **detail})


def hold_id_reused(hold_id: str) -> DomainError:
    return Conflict("hold_id_reused", "this hold id was already used for other lines", {"hold_id": hold_id})


def release_exceeds_hold(hold_id: str, line: int, held: int) -> DomainError:
    return Conflict(
        "release_exceeds_hold",
        "cannot release more than is still held",
        {"hold_id": hold_id, "line": line, "held": held},
    )


# --- the partner (R-ACC-8) ------------------------------------------------------


def partner_not_open(partner_id: str, status: str | None) -> DomainError:
    return Conflict(
        "partner_not_open", "this partner does not sell yet (R-ACC-8)", {"partner_id": partner_id, "status": status}
    )


# --- coupons (issue #11) ----------------------------------------------------------


def coupon_not_found(reference: dict | None = None) -> DomainError:
    """Unknown, or another partner's: both look the same."""
    return NotFound("coupon_not_found", "no such coupon", reference or {})


def invalid_coupon_code(why: str) -> DomainError:
    return ValidationFailed(message="request body is invalid", details={"fields": {"coupon_code": why}})


def coupon_refused(code: str, message: str, details: dict) -> DomainError:
    """coupon_paused, coupon_not_started, coupon_expired, coupon_not_issued, coupon_not_applicable,
    coupon_min_spend, coupon_exhausted, coupon_limit_reached."""
    return Conflict(code, message, details)


def coupon_code_taken(code: str) -> DomainError:
    return Conflict("coupon_code_taken", "another coupon of this partner has this code", {"code": code})


def limit_below_redeemed(coupon_id: str, redeemed: int) -> DomainError:
    return Conflict(
        "limit_below_redeemed",
        "the total limit cannot go below the redemptions already taken",
        {"coupon_id": coupon_id, "redeemed": redeemed},
    )


def coupon_not_issuable(coupon_id: str) -> DomainError:
    return Conflict(
        "coupon_not_issuable", "a code coupon is published by its code, not issued", {"coupon_id": coupon_id}
    )


def redemption_key_reused(redemption_key: str) -> DomainError:
    return Conflict(
        "redemption_key_reused",
        "this booking or order already redeemed another coupon",
        {"redemption_key": redemption_key},
    )


def question_not_found(question_id: str) -> DomainError:
    """Unknown, or a question about another partner's product: both look the same."""
    return NotFound("question_not_found", "no such product question", {"question_id": question_id})


def already_answered(question_id: str) -> DomainError:
    return Conflict(
        "already_answered", "this question was already answered (one answer per question)", {"question_id": question_id}
    )
