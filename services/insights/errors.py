"""Insights' domain errors: the chassis classes (which travel intact over RPC to
the gateway) with this service's stable codes."""

from __future__ import annotations

from chassis.errors import DomainError, ValidationFailed


def invalid_field(field: str, why: str) -> DomainError:
    return ValidationFailed(message="request is invalid", details={"fields": {field: why}})


def segment_too_large(count: int, limit: int) -> DomainError:
    return ValidationFailed(
        message="the segment matches more customers than one message may reach",
        details={
            "fields": {"segment": f"matches more than {limit} customers; narrow it"},
            "limit": limit,
            "matched": count,
        },
    )


def segment_empty() -> DomainError:
    return invalid_field("segment", "no customer matches this segment")
