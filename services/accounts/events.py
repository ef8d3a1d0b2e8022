"""Payloads of the events accounts publishes (models in chassis.contracts)."""

from __future__ import annotations

from chassis.jsonvalues import pick
from chassis.privacy import phone_key, pseudonym


def member_withdrawn(member_id) -> dict:
    """R-ACC-3: only ids leave the service; subscribers erase what they hold."""
    return {"member_id": str(member_id), "pseudonym": member_pseudonym(member_id)}


def member_pseudonym(member_id) -> str:
    return pseudonym("member", str(member_id))


def partner_changed(partner: dict) -> dict:
    """partner.registered / verified / rejected (R-ACC-8)."""
    return {
        "partner_id": str(partner["id"]),
        **pick(partner, "name", "category", "status"),
        "reason": partner.get("status_reason"),
    }


def staff_invited(invitation: dict) -> dict:
    """R-ACC-6: the invitee learns of it through notifications."""
    return {
        "partner_id": str(invitation["partner_id"]),
        "invitation_id": str(invitation["id"]),
        "member_id": str(invitation["member_id"]),
        "role": invitation["role"],
    }


def customer_erased(customer_id, phone: str | None = None) -> dict:
    """Reservations, orders and notifications pseudonymise what they hold; amounts stay.
    The phone leaves only as its keyed pseudonym (pending transfers addressed to it)."""
    return {
        "customer_id": str(customer_id),
        "pseudonym": customer_pseudonym(customer_id),
        "phone_key": phone_key(phone),
    }


def customer_pseudonym(customer_id) -> str:
    return pseudonym("customer", str(customer_id))
