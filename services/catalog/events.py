"""Payloads of the catalog's events (chassis.contracts.ProductChanged), written
to the outbox in the same transaction as the change.

product.submitted  a revision went to review          (R-CAT-5)
product.approved   a revision became the live version (R-CAT-5)
product.rejected   a revision was refused, with the reason (R-CAT-5)
product.changed    settings, inventory or blocks changed at once (``fields`` says which)
product.sold_out   a goods option's stock or a period's capacity reached zero (R-CAT-3)
"""

from __future__ import annotations


def product_event(
    product_id: str,
    partner_id: str,
    kind: str,
    name: str,
    *,
    revision_id: str | None = None,
    version: int | None = None,
    reason: str | None = None,
    option_id: str | None = None,
    fields: list[str] | None = None,
) -> dict:
    return {
        "partner_id": partner_id,
        "product_id": str(product_id),
        "name": name,
        "kind": kind,
        "revision_id": revision_id,
        "version": version,
        "reason": reason,
        "option_id": option_id,
        "fields": list(fields or []),
    }


def publish(uow, event_type: str, payload: dict) -> None:
    uow.publish(event_type, payload, partner_id=payload["partner_id"])
