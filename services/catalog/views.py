"""Rows to the JSON the entrypoints return (plain types only: they cross RPC)."""

from __future__ import annotations

import datetime as dt

from chassis.jsonvalues import pick

from . import domain


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.time):
        return domain.hhmm(value)
    return value.isoformat()


def settings_of(row: dict) -> dict:
    return {"sale_starts_at": row["sale_starts_at"], "sale_ends_at": row["sale_ends_at"], "paused": row["paused"]}


def state_of(row: dict, availability: domain.Availability, now: dt.datetime) -> str:
    return domain.display_state(
        approved=row["live_content"] is not None,
        settings=settings_of(row),
        now=now,
        content=row["live_content"],
        availability=availability,
    )


def review_status(row: dict) -> str:
    if row["open_status"]:
        return row["open_status"]
    if row["rejected_revision_id"]:
        return "rejected"
    return "approved"


def product_view(row: dict, availability: domain.Availability, now: dt.datetime) -> dict:
    """The partner center's view: live version and the open revision side by side (R-CAT-5)."""
    live = None
    if row["live_content"] is not None:
        live = {
            **pick(row, "version", "revision_id", prefix="live_"),
            "approved_at": iso(row["live_approved_at"]),
            **row["live_content"],
        }
    pending = None
    if row["open_content"] is not None:
        pending = {
            **pick(row, "revision_id", "number", "status", prefix="open_"),
            "created_at": iso(row["open_created_at"]),
            "updated_at": iso(row["open_updated_at"]),
            "submitted_at": iso(row["open_submitted_at"]),
            "changed_fields": domain.changed_fields(row["live_content"], row["open_content"]),
            **row["open_content"],
        }
    rejection = None
    if row["rejected_revision_id"]:
        rejection = {
            **pick(row, "revision_id", "number", "reason", prefix="rejected_"),
            "rejected_at": iso(row["rejected_at"]),
        }
    current = row["live_content"] or row["open_content"] or row["rejected_content"] or {}
    return {
        **pick(row, "product_id", "partner_id", "kind"),
        "name": current.get("name"),
        "display_state": state_of(row, availability, now),
        "review_status": review_status(row),
        "settings": {k: iso(v) if k != "paused" else v for k, v in settings_of(row).items()},
        "live": live,
        "pending": pending,
        "last_rejection": rejection,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def shop_view(row: dict, availability: domain.Availability, now: dt.datetime, slots: list[dict] | None = None) -> dict:
    """What consumers see: the approved version only (R-CAT-5), its display state (R-CAT-4)."""
    content = row["live_content"]
    view = {
        **pick(row, "product_id", "partner_id", "kind"),
        "version": row["live_version"],
        "display_state": state_of(row, availability, now),
        "sale_starts_at": iso(row["sale_starts_at"]),
        "sale_ends_at": iso(row["sale_ends_at"]),
        **content,
    }
    if row["kind"] == "goods":
        view["options"] = [
            {**o, "sold_out": availability.options.get(o["option_id"], 1) <= 0} for o in content["options"]
        ]
    if slots is not None:
        view["availability"] = {"slots": [slot_view(s) for s in slots]}
    return view


def slot_view(row: dict, blocked: bool | None = None) -> dict:
    remaining = None if row["capacity"] is None else max(row["capacity"] - row["taken"], 0)
    view = {
        "date": iso(row["day"]),
        "time": iso(row["at_time"]),
        **pick(row, "capacity", "taken"),
        "remaining": remaining,
    }
    if blocked is not None:
        view["blocked"] = blocked
    return view


def price_maxima(bucket_rows: list[dict]) -> list[dict]:
    """The rows of price maxima (R-CAT-2), each named by its bucket."""
    return [{"bucket": r["bucket_key"], **slot_view(r)} for r in bucket_rows if r["kind"] == "price"]


def revision_view(row: dict) -> dict:
    """A revision as the operator reviews it: its content, the live one, what changed."""
    return {
        **pick(row, "revision_id", "product_id", "partner_id", "kind", "number", "status"),
        "submitted_at": iso(row["submitted_at"]),
        "decided_at": iso(row["decided_at"]),
        **pick(row, "decided_by", "reason"),
        "changed_fields": domain.changed_fields(row.get("live_content"), row["content"]),
        "live_version": row.get("live_version"),
        "live": row.get("live_content"),
        "content": row["content"],
    }


def history_view(row: dict) -> dict:
    return {"at": iso(row["at"]), **pick(row, "actor", "action", "revision_id", "details")}


def block_view(row: dict) -> dict:
    return {"block_id": row["block_id"], "date": iso(row["day"]), "time": iso(row["at_time"]), "reason": row["reason"]}


def hold_view(row: dict, released_now: dict[int, int] | None = None) -> dict:
    """The hold as first granted, with its current status and what each line gave back."""
    result = dict(row["result"] or {})
    released = {r["line"]: r["released"] for r in row["lines"]}
    view = {
        **pick(row, "hold_id", "partner_id", "status"),
        "created_at": result.get("created_at", iso(row["created_at"])),
        "lines": [{**line, "released": released.get(line["line"], 0)} for line in result.get("lines", [])],
        "total": result.get("total", 0),
        "products": result.get("products", {}),
        "subtotal": result.get("subtotal", result.get("total", 0)),
        "discount_amount": result.get("discount_amount", 0),
        "coupon": result.get("coupon"),
    }
    if released_now is not None:
        view["released_now"] = [{"line": line, "quantity": q} for line, q in sorted(released_now.items())]
    return view


def other_partners_hold_view(hold_id: str, partner_id: str) -> dict:
    """A release naming another partner's hold id: nothing to see, nothing given back."""
    return {
        "hold_id": hold_id,
        "partner_id": partner_id,
        "status": "released",
        "lines": [],
        "total": 0,
        "products": {},
        "released_now": [],
    }


COUPON_DISCOUNT = ("coupon_id", "partner_id", "name", "discount_type", "amount", "percent", "max_discount", "min_spend")


def coupon_terms(row: dict) -> dict:
    """What a coupon takes off, when and on what: the head of the partner's and the customer's views."""
    return {
        **pick(row, *COUPON_DISCOUNT),
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(row["ends_at"]),
        "product_ids": list(row["product_ids"]),
    }


def coupon_view(row: dict, now: dt.datetime, issued: int | None = None) -> dict:
    """A coupon as its partner manages it: the settings, its state and how much of it is used."""
    view = {
        **coupon_terms(row),
        **pick(row, "total_limit", "per_customer_limit", "distribution", "code", "paused"),
        "state": domain.coupon_state(row, now),
        "redeemed": row["redeemed"],
        "remaining": domain.remaining_redemptions(row),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if issued is not None:
        view["issued"] = issued
    return view


def customer_coupon_view(row: dict, now: dt.datetime) -> dict:
    """A coupon given to the customer: what it takes off, when, and what is left of it for them."""
    left_for_all = domain.remaining_redemptions(row)
    left_for_me = None if row["per_customer_limit"] is None else max(row["per_customer_limit"] - row["used"], 0)
    uses_left = (
        left_for_me
        if left_for_all is None
        else (left_for_all if left_for_me is None else min(left_for_all, left_for_me))
    )
    return {
        **coupon_terms(row),
        "state": domain.coupon_state(row, now),
        "issued_at": iso(row["issued_at"]),
        **pick(row, "used", "per_customer_limit"),
        "uses_left": uses_left,
    }


def question_view(row: dict, reader: str, customer_id: str | None = None) -> dict:
    """A product question (issue 18 item 12). ``reader``: ``partner`` sees every
    question whole; anyone else sees a private question's text and answer only
    when they asked it (``mine``), else that it exists and whether it was answered."""
    mine = customer_id is not None and row["customer_id"] == customer_id
    hidden = row["private"] and reader != "partner" and not mine
    view = {
        "question_id": str(row["question_id"]),
        "product_id": str(row["product_id"]),
        "private": row["private"],
        "mine": mine,
        "body": None if hidden else row["body"],
        "answer": None if hidden else row["answer"],
        "answered": row["answer"] is not None,
        "created_at": iso(row["created_at"]),
        "answered_at": iso(row["answered_at"]),
    }
    if reader == "partner":
        view["product_name"] = row.get("product_name")
    return view
