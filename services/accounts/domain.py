"""Accounts rules (R-ACC-1..11), free of I/O: roles, categories, tokens, paging.

Choices where the seeds are silent (also in the final report):
- Partner API keys act with the ``master`` role of their own partner, held to
  the scopes an admin gave them (R-ACC-13, ``chassis.scopes``, checked by the
  gateway); staff management and API keys themselves need a person
  (``api_key_not_allowed``). Only admins create, list and revoke keys.
- A partner "operates" (R-ACC-4) while it is ``pending_verification`` or
  ``verified``; a rejected partner does not hold its last admin back.
- Masters may invite, promote and remove masters and members, never admins
  (api.md, Roles: "masters and members").
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Any

ROLES = ("admin", "master", "member")
OPERATING_STATUSES = ("pending_verification", "verified")

# Partner category -> the services whose summary its dashboard shows (R-ACC-11).
# Booking categories come from seeds 000-002, the cafe from 004, the shop from 003.
# The categories themselves are part of the HTTP contract (libs/contract/accounts.py).
from contract.accounts import BOOKING_CATEGORIES, CATEGORIES, ORDER_CATEGORIES  # noqa: E402,F401

AGENCY_ONLY_CATEGORIES = ("lodging",)  # R-ACC-9: lodging onboards only through an official agency

# Roles that may read the ledger and sales (api.md, Roles).
FINANCE_ROLES = ("admin", "master")
API_KEY_ROLE = "master"

TOKEN_PREFIXES = {"member": "pcs_", "operator": "pcs_", "customer": "pcc_", "api_key": "pck_"}


# --- tokens -----------------------------------------------------------------


def new_token(kind: str) -> str:
    """An opaque bearer token; its prefix tells authenticate() where to look."""
    return TOKEN_PREFIXES[kind] + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """Tokens carry 256 random bits, so a fast hash is enough: a stolen
    database yields no usable token."""
    return hashlib.sha256(token.encode()).digest()


def temporary_password() -> str:
    """An operator's reset (R-ACC-16): long enough for the password rule, to be changed at once."""
    return secrets.token_urlsafe(12)


def token_kind(token: str) -> str | None:
    if token.startswith("pcs_"):
        return "session"
    if token.startswith("pcc_"):
        return "customer"
    if token.startswith("pck_"):
        return "api_key"
    return None


# --- identifiers and personal data -------------------------------------------


def as_uuid(value: object) -> str | None:
    """A path value as a canonical uuid, or None (an unknown id is a 404, never a 500)."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def normalize_phone(phone: str) -> str:
    """Phones are kept as digits so one customer is one phone, however typed."""
    return re.sub(r"\D", "", phone)


DEFAULT_CUSTOMER_NAME = "고객"  # an ID token without a name claim (the messenger may not share it)


def national_phone(e164: str) -> str:
    """An ID token's ``phone_number`` (E.164) as the digits Korean staff dial:
    ``+821012345678`` -> ``01012345678``; other countries keep their code."""
    digits = normalize_phone(e164)
    return "0" + digits[2:] if digits.startswith("82") else digits


# --- roles ----------------------------------------------------------------------


def may_assign(actor_role: str, target_current_role: str | None, new_role: str | None) -> bool:
    """Who may invite, re-role or remove whom (api.md, Roles: admins anyone,
    masters only masters and members). ``None`` is "no role" (invitation or removal)."""
    if actor_role == "admin":
        return True
    if actor_role == "master":
        return target_current_role in (None, "master", "member") and new_role in (None, "master", "member")
    return False


def last_admin_partners(admin_partners: list[dict[str, Any]], admin_counts: dict[str, int]) -> list[dict[str, Any]]:
    """R-ACC-4: the operating partners where this member is the only admin (id and name)."""
    return sorted(
        (p for p in admin_partners if p["status"] in OPERATING_STATUSES and admin_counts.get(p["id"], 0) <= 1),
        key=lambda p: p["id"],
    )


def closed_partners_alone(admin_partners: list[dict[str, Any]], admin_counts: dict[str, int]) -> list[dict[str, Any]]:
    """R-ACC-14: the closed partners where this member is the only admin: orders left
    to finish there (shipped when it closed, or all of them with "serve") need
    someone to mark them delivered before the last admin goes."""
    return sorted(
        (p for p in admin_partners if p["status"] == "closed" and admin_counts.get(p["id"], 0) <= 1),
        key=lambda p: p["id"],
    )


def landing_for(partners: list[dict[str, Any]]) -> dict[str, Any]:
    """R-ACC-7: an admin goes straight to the dashboard of its partner; masters
    and members pick one from the list."""
    for partner in partners:
        if partner["role"] == "admin":
            return {"screen": "dashboard", "partner_id": partner["partner_id"]}
    return {"screen": "partner_list", "partner_id": None}


def dashboard_sections(category: str, role: str) -> list[str]:
    """R-ACC-11: the services a dashboard asks, by partner category and viewer role.
    Booking partners see reservations, cafes and shops see orders; only roles
    that may read the ledger see the sales summary. Every partner sees insights
    (customers, reviews, the month's figures; issue #11), which shows money
    only to those roles itself."""
    sections = ["catalog", "reservations" if category in BOOKING_CATEGORIES else "orders", "insights"]
    if role in FINANCE_ROLES:
        sections.append("settlement")
    return sections


# --- lists (paging itself is chassis.paging) ---------------------------------------


def like_pattern(text: str) -> str:
    """A title search (R-ACC-10) matches the text literally: % and _ are not wildcards."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- a partner's application, closing (R-ACC-8, R-ACC-14, R-ACC-15) ----------------------
#
# Choices where the seeds are silent (also in the report):
# - What an operator checks is the application: name, category, business
#   number, the agency flag (lodging, R-ACC-9) and the places registered so far.
#   A re-submission shows each of these that differs from the application as it
#   was rejected, and the rejection's reason; re-submitting with nothing changed
#   is refused (409 ``nothing_changed``), since the operator would reject it again.
# - Closing is final (a closed partner does not reopen; a new partner is
#   registered instead) and only an admin closes; open bookings are cancelled with
#   a full refund or served to the end, as the admin chooses.

APPLICATION_FIELDS = ("name", "category", "business_number", "via_agency", "places")
CLOSE_MODES = ("cancel", "serve")


def application_of(partner: dict[str, Any], places: list[dict[str, Any]]) -> dict[str, Any]:
    """The application as an operator reviews it (JSON, stored with each decision)."""
    return {
        "name": partner["name"],
        "category": partner["category"],
        "business_number": re.sub(r"\D", "", partner["business_number"]),
        "via_agency": partner["via_agency"],
        "places": sorted(f"{p['name']} ({p['address']})" for p in places),
    }


def application_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """{field: {before, after}} for each application field that differs."""
    if before is None:
        return {}
    return {
        f: {"before": before.get(f), "after": after.get(f)} for f in APPLICATION_FIELDS if before.get(f) != after.get(f)
    }


def checks_for(application: dict[str, Any]) -> list[dict[str, Any]]:
    """What an operator verifies before deciding (issue 18 item 13): each item
    with the value to check against the business registration."""
    checks = [
        {
            "item": "business_number",
            "value": application["business_number"],
            "check": "the business registration exists and is active (국세청 사업자 상태 조회)",
        },
        {"item": "name", "value": application["name"], "check": "the name matches the business registration"},
        {"item": "category", "value": application["category"], "check": "the business is of this category"},
        {
            "item": "places",
            "value": application["places"],
            "check": "the places are the business's own addresses (R-ACC-8: registered before products)",
        },
    ]
    if application["category"] in AGENCY_ONLY_CATEGORIES:
        checks.append(
            {
                "item": "via_agency",
                "value": application["via_agency"],
                "check": "lodging is onboarded through an official agency (R-ACC-9)",
            }
        )
    return checks


def may_close(status: str) -> bool:
    return status != "closed"


# --- dashboard: notices and help (R-ACC-10, R-ACC-11, issue 17 item 13) ----------------------

DASHBOARD_NOTICES = 3
# The help centre the seeds quote (001, 002): booking partners get the booking guide.
HELP_PAGES = {
    "booking": "https://kakaobusiness.gitbook.io/main/tool/booking",
    "order": "https://kakaobusiness.gitbook.io/main",
}


def help_page(category: str) -> dict[str, Any]:
    kind = "booking" if category in BOOKING_CATEGORIES else "order"
    return {"label": {"ko": "도움말", "en": "Help"}, "url": HELP_PAGES[kind]}
