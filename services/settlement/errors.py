"""Settlement's domain errors: the chassis classes (which travel intact over RPC
to the gateway) with this service's stable codes."""

from __future__ import annotations

from datetime import date

from chassis.errors import Conflict, DomainError, ValidationFailed


def period_not_over(period_end: date, today: date) -> DomainError:
    return Conflict(
        "period_not_over",
        "only a day that is over can be settled",
        {"period_end": period_end.isoformat(), "today": today.isoformat()},
    )


def period_already_closed(period_end: date, latest: date) -> DomainError:
    return Conflict(
        "period_already_closed",
        "a later period has already been settled",
        {"period_end": period_end.isoformat(), "latest_period_end": latest.isoformat()},
    )


def rate_change_in_past(effective_from: date, today: date) -> DomainError:
    return ValidationFailed(
        message="a commission rate can only start in the future",
        details={"fields": {"effective_from": f"must be after {today.isoformat()}"}},
    )


def invalid_field(field: str, why: str) -> DomainError:
    return ValidationFailed(message="request is invalid", details={"fields": {field: why}})


class SaleNotBookedYet(Exception):
    """A refund of a completed order seen before the order's sale (events out of
    order): not an answer to anyone, so the consumer retries it later."""


def sale_not_booked_yet(source: str, source_ref: str) -> SaleNotBookedYet:
    return SaleNotBookedYet(f"no sale of {source} {source_ref} yet")
