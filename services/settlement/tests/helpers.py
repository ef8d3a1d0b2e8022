"""Settlement test helpers: direct units of work on a real settlement database,
and event envelopes as the reservations and orders services publish them."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import eventlet
import psycopg
from psycopg.rows import dict_row

from chassis.db import UnitOfWork
from chassis.envelope import Envelope
from chassis.testing import eventually
from chassis.tests.broker import publish_envelope, queue_depths
from settlement.domain import PARTNER_TIME_ZONE


class Ledger:
    """A settlement database opened directly (store-level tests, no service)."""

    def __init__(self, url: str):
        self.url = url
        self.conn = psycopg.connect(url, row_factory=dict_row)

    @contextmanager
    def uow(self):
        with self.conn.transaction():
            yield UnitOfWork(self.conn, None, "settlement")

    def scalar(self, sql: str, params=None):
        with self.uow() as uow:
            return next(iter(uow.fetch_one(sql, params).values()))

    def close(self):
        self.conn.close()


def at(day, hour: int = 12) -> datetime:
    """Noon (by default) of a partner-zone day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARTNER_TIME_ZONE)


def published(source: str, event_type: str, payload: dict, occurred_at: datetime | None = None) -> Envelope:
    """The envelope of a partner's event as ``source``'s outbox publishes it, occurred now unless told."""
    return Envelope(
        type=event_type,
        source=source,
        partner_id=payload["partner_id"],
        payload=payload,
        occurred_at=occurred_at or datetime.now(UTC),
    )


def reservation_event(
    kind: str,
    partner_id: str,
    number: str,
    *,
    total: int = 0,
    fee: int = 0,
    refund: int = 0,
    occurred_at: datetime | None = None,
    product=("prod-1", "Haircut"),
    customer_id: str = "cust-1",
    status: str | None = None,
) -> Envelope:
    payload = {
        "partner_id": partner_id,
        "reservation_number": number,
        "product_id": product[0],
        "product_name": product[1],
        "customer_id": customer_id,
        "status": status or kind,
        "total": total,
        "fee_amount": fee,
        "refund_amount": refund,
        "booker_name_masked": "김*온",
        "lines": [{"price_id": "adult", "label": "Adult", "quantity": 1, "unit_price": total}],
    }
    return published("reservations", f"reservation.{kind}", payload, occurred_at)


def order_event(
    kind: str,
    partner_id: str,
    order_id: str,
    lines: list[tuple[str, str, int]],
    *,
    refund: int = 0,
    refunded_lines: list[str] | None = None,
    request_id: str | None = None,
    occurred_at: datetime | None = None,
    customer_id: str = "cust-2",
    status: str | None = None,
) -> Envelope:
    """``status``: the order's after the event (a refund is of a completed order unless told)."""
    order_lines = [
        {
            "line_id": f"{order_id}-l{i}",
            "product_id": pid,
            "product_name": name,
            "quantity": 1,
            "unit_price": amount,
            "amount": amount,
        }
        for i, (pid, name, amount) in enumerate(lines)
    ]
    status = status or ("completed" if kind in ("delivered", "refund_approved") else kind)
    payload = {
        "partner_id": partner_id,
        "order_id": order_id,
        "customer_id": customer_id,
        "channel": "parcel",
        "status": status,
        "total": sum(amount for _, _, amount in lines),
        "lines": order_lines,
        "refund_amount": refund,
        "refunded_line_ids": refunded_lines or [],
        "request_id": request_id,
    }
    return published("orders", f"order.{kind}", payload, occurred_at)


def partner_event(kind: str, partner_id: str, category: str, occurred_at: datetime | None = None) -> Envelope:
    payload = {"partner_id": partner_id, "name": "다온 살롱", "category": category, "status": kind}
    return published("accounts", f"partner.{kind}", payload, occurred_at)


def new_partner() -> str:
    return f"ptn-{uuid.uuid4().hex[:10]}"


def days_ago(n: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


def settlement_idle(amqp_uri) -> bool:
    depths = queue_depths(amqp_uri)
    return all(
        depth == (0, 0)
        for name, depth in depths.items()
        if name.startswith(("pc.evt.settlement.", "pc.retry.settlement."))
    )


def deliver(amqp_uri, envelopes, copies: int = 1) -> None:
    """Publish every envelope ``copies`` times at once, then wait until settlement handled them all."""
    pool = eventlet.GreenPool(20)
    for envelope in envelopes:
        for _ in range(copies):
            pool.spawn(publish_envelope, amqp_uri, envelope)
    pool.waitall()
    eventually(lambda: settlement_idle(amqp_uri), timeout=30, message="settlement consumed every event")


def wait_until_settlement_knows(platform, partner_id: str) -> None:
    """Until settlement has consumed the partner's partner.registered (its category sets the commission)."""

    def knows_category() -> bool:
        with psycopg.connect(platform.containers["settlement"].config["DATABASE_URL"]) as conn:
            return (
                conn.execute("SELECT category FROM partner_profiles WHERE partner_id = %s", (partner_id,)).fetchone()
                is not None
            )

    eventually(knows_category, timeout=20, message="partner.registered consumed")


def week_of_sales(partner_id: str, week_end: date, goods_name: str, refunded_at: datetime) -> list[Envelope]:
    """A week that ends on ``week_end``, as the gateway and console tests settle it: a booking of 100,000
    (R-100) the day before, an order of 20,000 (O-200, one ``goods_name``) two days before, and 5,000 of
    that order refunded at ``refunded_at``."""
    goods = [("goods-1", goods_name, 20000)]
    return [
        reservation_event("completed", partner_id, "R-100", total=100000, occurred_at=at(week_end - timedelta(days=1))),
        order_event("completed", partner_id, "O-200", goods, occurred_at=at(week_end - timedelta(days=2))),
        order_event(
            "refund_approved", partner_id, "O-200", goods, refund=5000, request_id="rq-9", occurred_at=refunded_at
        ),
    ]
