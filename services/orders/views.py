"""Rows as the contract's JSON: ids as strings, times RFC 3339, phones masked
for anyone but their owner (chassis.privacy, ../shared/api.md)."""

from __future__ import annotations

import datetime as dt
import uuid

from chassis import reviews
from chassis.jsonvalues import jsonable, pick
from chassis.privacy import mask_phone

from .events import line_payload

ORDER_TIMES = (
    "received_at",
    "auto_complete_at",
    "preparing_at",
    "ready_at",
    "shipment_prepared_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
)


def iso(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def line_view(line: dict) -> dict:
    """A line as its event carries it (events.line_payload), and the line an exchange replaced."""
    return {**line_payload(line), "replaces_line_id": line["replaces_line_id"]}


def shipping_view(shipping: dict | None, owner: bool) -> dict | None:
    if not shipping:
        return None
    return {**shipping, "phone": shipping.get("phone") if owner else mask_phone(shipping.get("phone"))}


def order_view(order: dict, lines: list[dict], owner: bool, recipient_whole: bool = False) -> dict:
    """``owner``: the customer who ordered sees their phone whole; partners see
    it masked, unless ``recipient_whole`` (a waybill to fill, R-RSV-12)."""
    view = {
        "order_id": str(order["order_id"]),
        "number": order.get("number"),
        "number_day": iso(order.get("number_day")),
        "customer_name": order.get("customer_name"),
        "preparation_minutes": order.get("preparation_minutes"),
        "partner_id": order["partner_id"],
        "channel": order["channel"],
        "status": order["status"],
        "payment_status": order["payment_status"],
        "total": order["total"],
        "subtotal": order["total"] + order.get("discount_amount", 0),
        "discount_amount": order.get("discount_amount", 0),
        "coupon": order.get("coupon"),
        "refunded_amount": order["refunded_amount"],
        "lines": [line_view(line) for line in lines],
        "shipping_address": shipping_view(order["shipping"], owner or recipient_whole),
        "note": order["note"],
        "courier": order["courier"],
        "invoice_number": order["invoice_number"],
        "tracking_url": order.get("tracking_url"),
        "completed_by": order["completed_by"],
        "cancelled_by": order["cancelled_by"],
        "cancel_reason": order["cancel_reason"],
        **{k: iso(order[k]) for k in ORDER_TIMES},
    }
    if not owner:
        view["customer_id"] = order["customer_id"]
    return view


REQUEST_COLUMNS = ("request_id", "order_id", "kind", "status", "reason", "lines", "amount", "decision_reason")


def request_view(row: dict) -> dict:
    """A refund or exchange request: its columns as JSON values, then an exchange's own flow."""
    return {
        **jsonable(pick(row, *REQUEST_COLUMNS, "created_at", "decided_at")),
        **(exchange_view(row) if row["kind"] == "exchange" else {}),
    }


def exchange_view(row: dict) -> dict:
    """An exchange's own flow (issue 18 item 7): the return and the replacement shipment."""
    return {
        "return": {
            "courier": row.get("return_courier"),
            "invoice_number": row.get("return_invoice_number"),
            "tracking_url": row.get("return_tracking_url"),
            "received_at": iso(row.get("returned_at")),
        },
        "replacement": {
            "courier": row.get("courier"),
            "invoice_number": row.get("invoice_number"),
            "tracking_url": row.get("tracking_url"),
            "shipped_at": iso(row.get("shipped_at")),
            "delivered_at": iso(row.get("delivered_at")),
        },
    }


def inquiry_view(row: dict) -> dict:
    return jsonable(pick(row, "inquiry_id", "order_id", "body", "answer", "created_at", "answered_at"))


def review_view(row: dict) -> dict:
    return reviews.review_view(row, order_id=str(row["order_id"]), line_id=row["line_id"])


def order_cursor(row: dict) -> tuple:
    """The key of an order in lists (chassis.paging)."""
    return row["received_at"].isoformat(), row["order_id"]


def contact_access_view(row: dict) -> dict:
    return {"reason": row["reason"], "actor_kind": row["actor_kind"], "actor_id": row["actor_id"], "at": iso(row["at"])}
