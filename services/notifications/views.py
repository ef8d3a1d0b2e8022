"""Notifications' rows as the contract's JSON: inbox messages in the reader's
language, webhooks and their deliveries, channel messages, conversations and
their messages as each side sees them (instants RFC 3339, chassis.jsonvalues)."""

from __future__ import annotations

from chassis.jsonvalues import jsonable, pick


def message_out(row: dict, lang: str) -> dict:
    content = row["content"].get(lang) or row["content"]["ko"]
    return {
        "id": row["message_id"],
        "partner_id": row["partner_id"],
        "kind": row["source_type"],
        "title": content["title"],
        "body": content["body"],
        "actions": [
            {
                "kind": a["kind"],
                "method": a["method"],
                "href": a["href"],
                "label": a["label"].get(lang) or a["label"]["ko"],
            }
            for a in row["actions"]
        ],
        **jsonable(pick(row, "created_at", "read_at")),
    }


def webhook_out(row: dict) -> dict:
    return {
        **pick(row, "id", "url"),
        "events": list(row["events"]),
        **pick(row, "description", "status", "consecutive_failures"),
        "disabled_at": jsonable(row["disabled_at"]),
        "disabled_reason": row["disabled_reason"],
        "created_at": jsonable(row["created_at"]),
    }


def delivery_out(row: dict) -> dict:
    return {
        **pick(row, "id", "event_id", "event_type", "status", "attempts", "last_status_code", "last_error"),
        "next_attempt_at": jsonable(row["next_attempt_at"]) if row["status"] == "pending" else None,
        "delivered_at": jsonable(row["delivered_at"]),
        "created_at": jsonable(row["created_at"]),
        "attempt_log": row["attempt_log"],
    }


def channel_message_out(row: dict) -> dict:
    return {
        **pick(row, "id", "kind", "audience", "title", "body", "recipient_count"),
        "created_at": jsonable(row["created_at"]),
    }


def conversation_out(row: dict, side: str) -> dict:
    out = {
        **pick(row, "id", "partner_id", "reservation_number"),
        "unread": row["partner_unread"] if side == "partner" else row["customer_unread"],
        "last_message_at": jsonable(row["last_message_at"]),
        "created_at": jsonable(row["created_at"]),
    }
    if side == "partner":
        out["customer_id"] = row["customer_id"]
        out["customer_name"] = row.get("customer_name")  # masked (issue 17 item 9)
    if row.get("last_message"):
        last = row["last_message"]
        out["last_message"] = {
            "author": "partner" if last["author_kind"] == "member" else "customer",
            "body": last["body"],
            "redacted": last["redacted"],
            "created_at": last["created_at"],
        }
    return out


def chat_message_out(row: dict, side: str) -> dict:
    out = {
        "id": str(row["id"]),
        "author": "partner" if row["author_kind"] == "member" else "customer",
        "body": row["body"],
        "redacted": row["redacted"],
        "created_at": jsonable(row["created_at"]),
    }
    if side == "partner" and row["author_kind"] == "member":
        out["member_id"] = row["author_id"]  # which colleague wrote it; customers only see "partner"
    return out
