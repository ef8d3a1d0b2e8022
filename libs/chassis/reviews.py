"""Customer reviews, one shape for every service that takes them (issue #11):
orders reviews a line of a completed order (R-ORD-9), reservations a completed
reservation (R-RSV-6, R-CAT-6). The request bodies, the view and the error
codes are the same everywhere, so the consumer app and partners' systems see
one kind of review whatever was reviewed:

* ``POST .../reviews`` ``{rating 1..5, body}`` (orders adds ``line_id``);
* ``POST /v1/partners/{pid}/reviews/{review_id}/reply`` ``{body}``, once;
* view ``{review_id, <what was reviewed>, rating, body, reply, created_at, replied_at}``;
* 409 ``review_not_allowed`` (not completed: details name the current
  ``status``), 409 ``review_exists`` (one review each), 404
  ``review_not_found`` (unknown or another partner's), 409 ``already_replied``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .errors import Conflict, DomainError, NotFound
from .jsonvalues import jsonable
from .validation import Strict

ReviewText = Annotated[str, Field(min_length=1, max_length=2000)]


class ReviewIn(Strict):
    """A customer's review: a rating of 1 to 5 and a text."""

    rating: int = Field(ge=1, le=5)
    body: ReviewText


class ReplyIn(Strict):
    """The partner's reply to a review (once)."""

    body: ReviewText


def review_view(row: dict[str, Any], **subject: Any) -> dict[str, Any]:
    """The review as customers and partners read it; ``subject`` names what was
    reviewed (``order_id`` and ``line_id``; ``number`` and ``product_id``)."""
    return {
        "review_id": str(row["review_id"]),
        **subject,
        "rating": row["rating"],
        "body": row["body"],
        "reply": row["reply"],
        "created_at": jsonable(row["created_at"]),
        "replied_at": jsonable(row["replied_at"]),
    }


def review_not_allowed(status: str, message: str, **subject: Any) -> DomainError:
    """Reviews are written on completed purchases only; details name the current state."""
    return Conflict("review_not_allowed", message, {**subject, "status": status})


def review_exists(message: str, **subject: Any) -> DomainError:
    return Conflict("review_exists", message, subject)


def review_not_found(review_id: str) -> DomainError:
    """Unknown, or another partner's: both look the same."""
    return NotFound("review_not_found", "no such review", {"review_id": review_id})


def already_replied(review_id: str) -> DomainError:
    """The partner replies once."""
    return Conflict("already_replied", "this was already replied", {"id": review_id})
