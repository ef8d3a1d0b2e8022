"""The accounts service's domain errors, with their stable codes (api.md).

They are instances of the chassis classes (the gateway maps those to statuses
without importing this package), built here so each code is spelled once."""

from __future__ import annotations

from chassis.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated, ValidationFailed


def found(row: dict | None, what: str) -> dict:
    """``row``, or 404 ``<what>_not_found``: a row this transaction has just shown to exist (its
    role checked, its id read) that another one removed meanwhile is not found, never a 500."""
    if row is None:
        raise not_found(what)
    return row


def invalid_credentials() -> DomainError:
    return Unauthenticated("invalid_credentials", "login id or password is wrong")


def invalid_token() -> DomainError:
    return Unauthenticated("invalid_token", "the token is unknown, expired or revoked")


def login_id_taken(login_id: str) -> DomainError:
    return Conflict("login_id_taken", "this login id is already in use", {"field": "login_id"})


def not_found(what: str) -> DomainError:
    return NotFound(f"{what}_not_found", f"no such {what.replace('_', ' ')}")


def last_admin(partners: list[dict]) -> DomainError:
    """R-ACC-4: invite another admin first (or close the partner, R-ACC-14); details name the partners."""
    names = [p["name"] for p in partners]
    return Conflict(
        "last_admin",
        f"you are the only admin of {', '.join(names)}: invite another admin or close the partner first",
        {"partner_ids": [str(p["id"]) for p in partners], "partner_names": names},
    )


def orders_to_finish(partners: list[dict]) -> DomainError:
    """R-ACC-14: a closed partner's orders left to finish (shipped) need someone to
    mark them delivered: its only admin stays until they are done."""
    names = [p["name"] for p in partners]
    return Conflict(
        "orders_to_finish",
        f"{', '.join(names)} closed with orders still on their way: mark them delivered, then withdraw",
        {
            "partner_ids": [str(p["id"]) for p in partners],
            "partner_names": names,
            "open_orders": {str(p["id"]): p["open_orders"] for p in partners},
        },
    )


def role_not_allowed(actor_role: str) -> DomainError:
    return Forbidden("role_not_allowed", f"the {actor_role} role may not give or take this role", {"role": actor_role})


def api_key_not_allowed() -> DomainError:
    return Forbidden("api_key_not_allowed", "staff and API keys are managed by a person, not an API key")


def invalid_state(status: str, action: str) -> DomainError:
    return Conflict(
        "invalid_state", f"cannot {action} a partner that is {status}", {"status": status, "action": action}
    )


def invitation_not_pending(invitation: dict) -> DomainError:
    """R-ACC-6: an invitation is answered once; a new one comes from the partner's admin."""
    return Conflict(
        "invitation_not_pending",
        f"this invitation to {invitation['partner_name']} was already {invitation['status']}: "
        "ask the partner's admin for a new one",
        {
            "invitation_id": str(invitation["id"]),
            "status": invitation["status"],
            "partner_name": invitation["partner_name"],
        },
    )


def admin_only(action: str, role: str) -> DomainError:
    return Forbidden("admin_only", f"only an admin of the partner may {action} it", {"action": action, "role": role})


def nothing_changed(reason: str | None) -> DomainError:
    """R-ACC-15: a re-submission corrects what the operator named."""
    return Conflict(
        "nothing_changed",
        f"nothing changed since the rejection: correct what the operator named ({reason}) first",
        {"reason": reason},
    )


def invalid_fields(fields: dict) -> DomainError:
    return ValidationFailed(message="request is invalid", details={"fields": fields})


def already_member() -> DomainError:
    return Conflict("already_member", "this member already works for the partner")


def already_invited() -> DomainError:
    return Conflict("already_invited", "this member already has a pending invitation to the partner")


def agency_required(category: str) -> DomainError:
    """R-ACC-9: lodging partners onboard only through an official agency."""
    return ValidationFailed(
        "agency_required",
        f"{category} partners onboard only through an official agency",
        {"fields": {"via_agency": "must be true for this category (R-ACC-9)"}},
    )


def field_locked(field: str, status: str) -> DomainError:
    return Conflict(
        "field_locked", f"{field} cannot change once the partner is {status}", {"field": field, "status": status}
    )


def not_an_operator() -> DomainError:
    return Forbidden(message="this is for platform operators")
