"""Rows as the contract's JSON: ids as strings, dates YYYY-MM-DD, times
RFC 3339, phones masked for everyone (chassis.privacy: one masking rule)."""

from __future__ import annotations

from chassis.jsonvalues import jsonable
from chassis.privacy import mask_phone


def customer_view(row: dict) -> dict:
    """A partner's customer: the phone masked (staff never see it whole)."""
    return jsonable(
        {
            "customer_id": row["customer_id"],
            "name": row["name"],
            "phone": mask_phone(row["phone"]),
            "erased": row["erased"],
            "visit_count": row["visit_count"],
            "last_visit_at": row["last_visit_at"],
            "total_spent": row["total_spent"],
            "coupon_uses": row["coupon_uses"],
            "first_seen_at": row["first_seen_at"],
            "last_activity_at": row["last_activity_at"],
        }
    )


def review_view(row: dict, partner: bool) -> dict:
    """Reservation reviews name the ``number``, order reviews the ``order_id``
    and ``line_id`` (the shape of chassis.reviews); the author is masked."""
    subject = (
        {"number": row["subject_id"]}
        if row["kind"] == "reservation"
        else {"order_id": row["subject_id"], "line_id": row["line_id"]}
    )
    view = {
        "review_id": row["review_id"],
        "kind": row["kind"],
        **subject,
        "product_id": row["product_id"],
        "product_name": row.get("product_name"),
        "author": row["author"],
        "rating": row["rating"],
        "body": row["body"],
        "reply": row["reply"],
        "created_at": row["posted_at"],
        "replied_at": row["replied_at"],
    }
    if not partner:  # the public list: what the shop shows
        view.pop("kind")
        for key in ("number", "order_id", "line_id"):
            view.pop(key, None)
    return jsonable(view)
