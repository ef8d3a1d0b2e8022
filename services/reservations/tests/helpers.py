"""Builders for the reservations tests: a live booking product made through the
gateway (create, submit, operator approval, inventory, booking settings),
bookings, and looks at the outbox."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from chassis.partner_time import PARTNER_TIME_ZONE
from support.api import expect


def day(offset: int = 3) -> str:
    """A date ``offset`` days from today in the partner's zone."""
    return (dt.datetime.now(PARTNER_TIME_ZONE).date() + dt.timedelta(days=offset)).isoformat()


def live_product(
    pc,
    partner,
    *,
    name="Hair cut",
    schedule_type="datetime",
    quantity_mode="slot",
    prices=None,
    payment="none",
    cancel_policy=None,
    slots=None,
    period_capacity=None,
    settings=None,
) -> dict:
    """An approved booking product with inventory; returns the partner-center view
    with ``price_ids`` in the order of ``prices``."""
    admin = partner.admin.client
    body = {
        "kind": "booking",
        "name": name,
        "schedule_type": schedule_type,
        "quantity_mode": quantity_mode,
        "prices": prices or [{"label": "adult", "amount": 30000}, {"label": "child", "amount": 15000}],
        "payment": payment,
        "place_id": place_of(partner),
    }
    if cancel_policy is not None:
        body["cancel_policy"] = cancel_policy
    product = expect(admin.post(f"{partner.path}/products", json=body), 201)
    path = f"{partner.path}/products/{product['product_id']}"
    review = expect(admin.post(f"{path}/submit"), 201)
    expect(pc.operator().client.post(f"/v1/ops/reviews/{review['revision_id']}/approve", json={}), 200)
    inventory = {"slots": slots if slots is not None else [{"date": day(), "time": "10:00", "capacity": 5}]}
    if period_capacity is not None:
        inventory["period_capacity"] = period_capacity
    expect(admin.put(f"{path}/inventory", json=inventory), 200)
    if settings:
        expect(admin.put(f"{path}/booking-settings", json=settings), 200)
    product = expect(admin.get(path), 200)
    product["price_ids"] = [p["price_id"] for p in product["live"]["prices"]]
    return product


def place_of(partner) -> str:
    """The partner's place (booking products name one before review, R-CAT-4), made once."""
    if "place_id" not in partner.body:
        partner.body["place_id"] = expect(
            partner.admin.client.post(
                f"{partner.path}/places", json={"name": "본점", "address": "서울 강남구 테헤란로 1"}
            ),
            201,
        )["place_id"]
    return partner.body["place_id"]


def booking_body(product: dict, *, date=None, time="10:00", quantities=(1,), booker=None) -> dict:
    body = {
        "product_id": product["product_id"],
        "lines": [
            {"price_id": pid, "quantity": q} for pid, q in zip(product["price_ids"], quantities, strict=False) if q
        ],
        "booker": booker or {"name": "김다온", "phone": "010-1234-5678"},
    }
    if product["live"]["schedule_type"] != "anytime":
        body["date"] = date or day()
    if product["live"]["schedule_type"] == "datetime":
        body["time"] = time
    return body


def book(customer, product: dict, *, key: str | None = None, **kwargs):
    """The raw response of a booking (with a fresh Idempotency-Key unless given)."""
    return customer.client.post(
        "/v1/shop/reservations",
        json=booking_body(product, **kwargs),
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def booked(customer, product: dict, **kwargs) -> dict:
    return expect(book(customer, product, **kwargs), 201)


def outbox(database_url: str, event_type: str | None = None, number: str | None = None) -> list[dict]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT event_type, body FROM outbox ORDER BY id").fetchall()
    return [
        {"type": t, **body["payload"]}
        for t, body in rows
        if event_type in (None, t) and number in (None, body["payload"]["reservation_number"])
    ]


def db_rows(database_url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()
