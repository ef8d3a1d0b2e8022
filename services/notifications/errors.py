"""Domain errors of the notifications service, with the contract's stable codes."""

from __future__ import annotations

from chassis.errors import DomainError, Forbidden, NotFound, RateLimited, ValidationFailed


def webhook_not_found() -> DomainError:
    return NotFound("webhook_not_found", "no such webhook")


def message_not_found() -> DomainError:
    return NotFound("message_not_found", "no such message")


def conversation_not_found() -> DomainError:
    return NotFound("conversation_not_found", "no such conversation")


def member_inbox_only() -> DomainError:
    return Forbidden("member_inbox_only", "the inbox belongs to a member; partners' systems use webhooks")


def channel_rate_limited(limit: int, window_seconds: float, retry_after: float) -> DomainError:
    return RateLimited(
        "rate_limited",
        f"at most {limit} channel messages per {int(window_seconds)} s",
        {
            "limit": limit,
            "window_seconds": int(window_seconds),
            "retry_after_seconds": max(1, int(retry_after + 0.999)),
        },
    )


def invalid_field(field: str, why: str) -> DomainError:
    return ValidationFailed(message="request is invalid", details={"fields": {field: why}})


def webhook_url_not_public(url: str, why: str) -> DomainError:
    """Issue 17 item 10: the platform never calls into a private network, so such a webhook is refused at once."""
    return ValidationFailed(
        "webhook_url_not_public", f"{why}: give a public https address", {"fields": {"url": why}, "url": url}
    )
