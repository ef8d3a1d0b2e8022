"""The reservations service's domain errors: stable snake_case codes (../shared/api.md),
one contract status each. ``details`` always names the reservation."""

from __future__ import annotations

from chassis import reviews
from chassis.errors import DomainError, Conflict, NotFound


def reservation_not_found(number=None) -> DomainError:
    """Unknown, another partner's, or another customer's reservation: all look the same."""
    return NotFound("reservation_not_found", "no such reservation", {"number": number} if number else {})


def invalid_state(number: str, status: str, action: str) -> DomainError:
    """R-RSV-1/R-RSV-2: the transition does not start from the current state."""
    return Conflict(
        "invalid_state",
        f"cannot {action.replace('_', '-')} a reservation that is {status}",
        {"number": number, "status": status, "action": action},
    )


def refused(code: str, message: str, number: str, **details) -> DomainError:
    """A customer's cancellation (R-RSV-4) or date change (R-RSV-5) refused with its reason code."""
    return Conflict(code, message, {"number": number, **details})


def booking_interrupted(number: str) -> DomainError:
    """The attempt was cleaned up as abandoned while it waited; the retry books afresh."""
    return Conflict(
        "booking_interrupted",
        "the booking attempt took too long and was undone; send it again",
        {"number": number, "retry": True},
    )


def not_bookable(product_id: str, why: str) -> DomainError:
    return Conflict("product_not_bookable", why, {"product_id": product_id})


def share_not_found() -> DomainError:
    return NotFound("share_not_found", "no such shared reservation")


def transfer_not_found() -> DomainError:
    return NotFound("transfer_not_found", "no such ticket transfer")


def invitation_not_found(invitation_id=None) -> DomainError:
    return NotFound(
        "invitation_not_found", "no such chat invitation", {"invitation_id": invitation_id} if invitation_id else {}
    )


def product_not_found(product_id=None) -> DomainError:
    return NotFound("product_not_found", "no such product", {"product_id": product_id} if product_id else {})


def review_not_allowed(number: str, status: str) -> DomainError:
    """R-RSV-6, R-CAT-6: reviews follow the visit; details name the current state."""
    return reviews.review_not_allowed(
        status, f"only a completed reservation can be reviewed; this one is {status}", number=number
    )


def review_exists(number: str) -> DomainError:
    return reviews.review_exists("this reservation already has a review (one per reservation)", number=number)


def review_not_found(review_id) -> DomainError:
    return reviews.review_not_found(review_id)


def already_replied(review_id) -> DomainError:
    return reviews.already_replied(review_id)
