"""Reservations as each reader sees them (plain JSON: a stored creation
response replays byte for byte).

* the partner's staff: the booker's name (R-RSV-8 searches it) and a masked phone;
* the booker: everything, their own phone whole;
* the ticket holder after a transfer (R-RSV-10): the booking without the booker's phone;
* a friend who saved a share: what and when, the booker's name masked, no money.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chassis import reviews
from chassis.jsonvalues import pick
from chassis.privacy import format_phone, mask_name, mask_phone

from . import domain


def iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _lines(r: dict) -> list[dict]:
    return [
        {
            **pick(line, "line", "price_id", "label", "unit_price"),
            "quantity": domain.active_quantity(line),
            "cancelled": line.get("cancelled", 0),
        }
        for line in r["lines"]
    ]


def _schedule(r: dict) -> dict:
    deadline = domain.cancel_deadline(r["cancel_policy"], domain.use_at(r["use_date"], r["use_time"]))
    return {
        **pick(r, "number", "status"),
        "product": {
            "product_id": r["product_id"],
            "name": r["product_name"],
            "version": r["product_version"],
            "schedule_type": r["schedule_type"],
        },
        "date": iso(r["use_date"]),
        "time": iso(r["use_time"]),
        "cancel_deadline": deadline.isoformat() if deadline else None,
    }


def _money(r: dict) -> dict:
    """``total`` is what the customer pays: ``subtotal`` (the lines still booked, as
    sold) less the coupon's ``discount_amount`` on them (issue #11)."""
    return {
        "lines": _lines(r),
        "subtotal": domain.amount_of(r["lines"]),
        "discount_amount": domain.discount_left(r["lines"], r.get("discount_amount", 0)),
        "coupon": r.get("coupon"),
        **pick(r, "total", "payment", "cancel_policy", "refund_amount", "fee_amount"),
    }


def _common(r: dict) -> dict:
    return {
        **_schedule(r),
        **_money(r),
        **pick(r, "reason", "conversation_id"),
        "created_at": iso(r["created_at"]),
        "updated_at": iso(r["updated_at"]),
    }


def partner_view(r: dict) -> dict:
    return {
        **_common(r),
        **pick(r, "partner_id", "customer_id", "confirmation"),
        "booker": {"name": r["booker_name"], "phone": mask_phone(r["booker_phone"])},
        "holder": holder_view(r),
    }


def partner_detail_view(r: dict, steps: list[dict], pending_transfer: dict | None) -> dict:
    return {
        **partner_view(r),
        "history": [history_view(s) for s in steps],
        "transfer": transfer_view(pending_transfer) if pending_transfer else None,
    }


def holder_name_masked(r: dict) -> str | None:
    """Whoever holds the ticket (the booker until a hand-over), masked as staff see names."""
    return mask_name(r.get("holder_name") if r["holder_customer_id"] != r["customer_id"] else r["booker_name"])


def holder_view(r: dict) -> dict | None:
    """Who holds a handed-over ticket (R-RSV-10), phone masked like the booker's; None while the booker does."""
    if r["holder_customer_id"] == r["customer_id"]:
        return None
    return {
        "customer_id": r["holder_customer_id"],
        "name": r.get("holder_name"),
        "phone": mask_phone(r.get("holder_phone")),
    }


def customer_view(r: dict, customer_id: str, pending_transfer: dict | None = None) -> dict:
    """The booker or the ticket holder; a friend who only saved it gets ``shared_view``."""
    if customer_id == r["customer_id"]:
        view = {
            **_common(r),
            "role": "booker",
            "holder": "self" if r["holder_customer_id"] == customer_id else "friend",
            "booker": {"name": r["booker_name"], "phone": format_phone(r["booker_phone"])},
        }
        if pending_transfer:
            view["transfer"] = transfer_view(pending_transfer)
        return view
    return {**_common(r), "role": "holder", "booker": {"name": mask_name(r["booker_name"]), "phone": None}}


def shared_view(r: dict) -> dict:
    return {**_schedule(r), "role": "friend", "booker": {"name": mask_name(r["booker_name"])}}


def reader_view(r: dict, customer_id: str, pending_transfer: dict | None = None) -> dict:
    """As the customer reading it sees it: their own booking or ticket, or a friend's share."""
    if customer_id in (r["customer_id"], r["holder_customer_id"]):
        return customer_view(r, customer_id, pending_transfer)
    return shared_view(r)


def saved_view(r: dict, customer_id: str, own: bool) -> dict:
    """A share saved by a friend (``saved``), or opened by the customer whose it is."""
    return {**(customer_view(r, customer_id) if own else shared_view(r)), "saved": not own}


def cancellation_view(r: dict, customer_id: str, plan: domain.CancelPlan) -> dict:
    return {
        **customer_view(r, customer_id),
        "cancellation": {
            "partial": plan.partial,
            "amount": plan.amount,
            "refund": plan.refund,
            "fee": plan.fee,
            "lines": plan.release,
        },
    }


def creation_view(r: dict) -> dict:
    """201 of POST /v1/shop/reservations: {number, status, total, cancel_deadline, ...} as the booker sees it."""
    return customer_view(r, r["customer_id"])


def transfer_view(t: dict) -> dict:
    return {
        "transfer_id": t["transfer_id"],
        "to_phone": mask_phone(t["to_phone"]),
        "state": t["state"],
        "created_at": iso(t.get("created_at")),
    }


def invitation_view(i: dict) -> dict:
    view = {
        "invitation_id": i["invitation_id"],
        "number": i.get("number"),
        **pick(i, "partner_id", "state", "conversation_id"),
        "created_at": iso(i["created_at"]),
        "decided_at": iso(i["decided_at"]),
    }
    if "product_name" in i:
        view.update(product_name=i["product_name"], date=iso(i["use_date"]), time=iso(i["use_time"]))
    return view


def settings_view(partner_id: str, product_id: str, settings: domain.BookingSettings, default_ttl: int) -> dict:
    return {
        "partner_id": partner_id,
        "product_id": product_id,
        "confirmation": settings.confirmation,
        "request_ttl_hours": settings.ttl_hours(default_ttl),
        "allow_partial_cancel": settings.allow_partial_cancel,
        "updated_at": iso(settings.updated_at),
    }


def history_view(h: dict) -> dict:
    return {"at": iso(h["at"]), **pick(h, "action", "actor_kind", "actor_id", "details")}


def review_view(row: dict) -> dict:
    """A review (R-RSV-6) in the shape of every review (chassis.reviews): what was reviewed is
    the reservation ``number`` and its ``product_id``."""
    return reviews.review_view(row, number=row["number"], product_id=row["product_id"])
