"""Payloads of the events this service publishes (models in chassis.contracts)."""

from __future__ import annotations


def webhook_disabled(webhook: dict, reason: str) -> dict:
    """``webhook.disabled``: consumed by this service itself, to tell the partner's managers."""
    return {
        "partner_id": webhook["partner_id"],
        "webhook_id": webhook["id"],
        "url": webhook["url"],
        "failures": webhook["consecutive_failures"],
        "reason": reason,
    }
