"""Accounts' rows as the contract's JSON (ids as strings, instants RFC 3339 by
chassis.jsonvalues, phones masked for anyone but their owner by chassis.privacy),
and its lists the contract's way (chassis.paging)."""

from __future__ import annotations

import uuid
from datetime import datetime

from chassis import paging
from chassis.jsonvalues import jsonable, pick
from chassis.privacy import format_phone, mask_phone
from chassis.validation import parse_query


def member_view(row: dict) -> dict:
    """The owner's own view: phone in full (R-ACC-2)."""
    return {
        "member_id": str(row["id"]),
        **pick(row, "login_id", "name"),
        "phone": format_phone(row["phone"]),
        "kind": row["kind"],
        "created_at": jsonable(row["created_at"]),
    }


def staff_view(row: dict, viewer_id: str | None) -> dict:
    """A colleague as staff see them: the phone masked unless it is the viewer's own."""
    own = viewer_id is not None and str(row["member_id"]) == str(viewer_id)
    return {
        "member_id": str(row["member_id"]),
        "name": row["name"],
        "phone": format_phone(row["phone"]) if own else mask_phone(row["phone"]),
        "role": row["role"],
        "joined_at": jsonable(row["created_at"]),
    }


def partner_view(row: dict, role: str | None = None) -> dict:
    view = {
        "partner_id": str(row["id"]),
        **pick(row, "name", "category", "business_number", "via_agency", "status", "status_reason", "time_zone"),
        "channel_id": row.get("channel_id"),
        "submitted_at": jsonable(row.get("submitted_at")),
        "created_at": jsonable(row["created_at"]),
        "verified_at": jsonable(row["verified_at"]),
        "closed_at": jsonable(row.get("closed_at")),
        "open_bookings": row.get("open_bookings"),
    }
    if role is not None:
        view["role"] = role
    return view


def my_partner_view(row: dict) -> dict:
    return {"partner_id": str(row["partner_id"]), **pick(row, "name", "category", "role", "status")}


def invitation_view(row: dict) -> dict:
    view = {
        "invitation_id": str(row["id"]),
        "partner_id": str(row["partner_id"]),
        **pick(row, "role", "status"),
        "created_at": jsonable(row["created_at"]),
    }
    if "partner_name" in row:
        view.update(partner_name=row["partner_name"], partner_category=row["partner_category"])
    return view


def place_view(row: dict) -> dict:
    """A place's phone is the business's contact number, shown whole to its partner."""
    return {
        "place_id": str(row["id"]),
        **jsonable(pick(row, "partner_id", "name", "address", "phone", "info", "map_url", "created_at", "updated_at")),
    }


def api_key_view(row: dict) -> dict:
    """A key as its partner's admins see it: never the key itself (R-ACC-13)."""
    return {
        "api_key_id": str(row["id"]),
        "partner_id": str(row["partner_id"]),
        **pick(row, "name", "key_prefix"),
        "scopes": list(row["scopes"]),
        **jsonable(pick(row, "expires_at", "last_used_at")),
        "created_by": str(row["created_by"]) if row["created_by"] else None,
        "created_at": jsonable(row["created_at"]),
    }


def notice_view(row: dict) -> dict:
    return {
        "notice_id": str(row["id"]),
        **pick(row, "title", "body", "category", "important"),
        "created_at": jsonable(row["created_at"]),
    }


def listing(rows: list[dict], limit: int, view) -> dict:
    """The contract's list body (chassis.paging), keyed on (created_at, id)."""
    result = paging.page(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))
    return {**result, "items": [view(row) for row in result["items"]]}


def list_params(model, query) -> tuple:
    """The query, the clamped limit and where the page starts (a 422 naming
    ``cursor`` for one this list did not give out)."""
    params = parse_query(model, query or {})
    after = paging.decode_cursor(params.cursor, datetime.fromisoformat, uuid.UUID)
    return params, paging.clamp_limit(params.limit), after
