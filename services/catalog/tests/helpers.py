"""Builders shared by the catalog's tests: product bodies, approval, dates."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import psycopg

from chassis.partner_time import PARTNER_TIME_ZONE

# Holds ask accounts whether the partner is verified (R-ACC-8): these tests' partners are the stand-in's.
ACCOUNTS_STANDIN = str(Path(__file__).parent / "accounts_standin")


def day(offset: int = 3) -> str:
    """A date ``offset`` days from today in the partner's zone."""
    return (dt.datetime.now(PARTNER_TIME_ZONE).date() + dt.timedelta(days=offset)).isoformat()


def partner() -> str:
    return f"partner-{uuid.uuid4().hex[:8]}"


def booking_body(**overrides) -> dict:
    body = {
        "kind": "booking",
        "name": "Hair cut",
        "description": "Cut and styling",
        "images": ["https://img.example/cut.jpg"],
        "schedule_type": "datetime",
        "quantity_mode": "slot",
        "prices": [{"label": "adult", "amount": 30000}, {"label": "child", "amount": 15000}],
        "payment": "none",
        "place_id": "place-main",
    }
    body.update(overrides)
    return body


def goods_body(**overrides) -> dict:
    body = {
        "kind": "goods",
        "name": "Linen shirt",
        "goods_type": "shop",
        "options": [
            {"label": "White / M", "amount": 39000, "attributes": {"colour": "white", "size": "M"}},
            {"label": "Black / L", "amount": 41000, "attributes": {"colour": "black", "size": "L"}},
        ],
    }
    body.update(overrides)
    return body


def approved(rpc, partner_id: str, body: dict) -> dict:
    """Create, submit and approve: the product as the partner center then shows it."""
    product = rpc.catalog.create_product(partner_id, body, "member-1")
    review = rpc.catalog.submit_product(partner_id, product["product_id"], "member-1")
    return rpc.catalog.approve_review(review["revision_id"], {}, "operator-1")


def outbox(database_url: str, event_type: str | None = None) -> list[dict]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT event_type, body FROM outbox ORDER BY id").fetchall()
    return [{"type": t, **body["payload"]} for t, body in rows if event_type in (None, t)]


def db_value(database_url: str, sql: str, params=()):
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None
