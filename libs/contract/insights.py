"""Insights area of the HTTP contract (issue #11; R-RSV-6, R-RSV-8, R-ORD-9,
R-NTF-3): a partner's customers, the statistics of a period and reviews,
served from the insights service's read models. The query strings are the
classes the insights service validates with (its ``schemas.py`` imports them)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from chassis.paging import PageQuery
from chassis.validation import Strict

from .common import Out, Page, Timestamp

Days = Field(None, ge=1, le=3650)


# --- query strings ---------------------------------------------------------------------------


class ListQuery(PageQuery):
    """``?limit=`` (default 20, clamped to 1..100) and an opaque ``?cursor=``."""


class CustomerQuery(ListQuery):
    """``q``: the start of a name, or the last 4 phone digits (R-RSV-8)."""

    q: str | None = Field(
        None, min_length=1, max_length=50, description="the start of a name, or the last 4 digits of a phone (R-RSV-8)"
    )
    visited_within_days: int | None = Days


class PartnerReviewQuery(ListQuery):
    product_id: str | None = Field(None, min_length=1, max_length=100)
    replied: Literal["true", "false"] | None = None


class StatisticsQuery(Strict):
    """A period (``from`` and ``to`` inclusive, partner-zone dates); the service checks its bounds."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date | None = Field(
        None, alias="from", description="YYYY-MM-DD; with to, or neither (the current month)"
    )
    date_to: dt.date | None = Field(None, alias="to", description="YYYY-MM-DD, inclusive")


# --- responses ---------------------------------------------------------------------------------


class Customer(Out):
    """A partner's customer: the phone masked (staff never see it whole); money in KRW."""

    customer_id: str
    name: str | None
    phone: str | None
    erased: bool
    visit_count: int
    last_visit_at: Timestamp | None
    total_spent: int
    coupon_uses: int
    first_seen_at: Timestamp
    last_activity_at: Timestamp


class BookingFigures(Out):
    total: int
    by_state: dict[str, int] = Field(description="requested, confirmed, completed, cancelled, rejected, no_show")
    people: int
    cancellation_rate: float | None = Field(description="cancelled / all bookings; null without bookings")
    no_show_rate: float | None = Field(description="no_show / (completed + no_show); null without visits")


class OrderFigures(Out):
    total: int
    by_state: dict[str, int]


class BusySlot(Out):
    date: dt.date
    time: str | None = Field(description="HH:MM; null for a product booked by date")
    bookings: int
    people: int


class Money(Out):
    sales: int
    refunds: int
    fees: int
    net: int = Field(description="sales - refunds (the revenue of chassis.money; fees apart)")


class DayRevenue(Money):
    date: dt.date


class ProductRevenue(Money):
    product_id: str
    product_name: str | None


class Revenue(Money):
    by_day: list[DayRevenue]
    by_product: list[ProductRevenue]


class Statistics(Out):
    model_config = ConfigDict(populate_by_name=True)
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    time_zone: str
    bookings: BookingFigures
    orders: OrderFigures
    busiest_slots: list[BusySlot]
    revenue: Revenue | None = Field(None, description="left out for the member role (money is for admins and masters)")


class Review(Out):
    """A review as the shop shows it: the author masked."""

    review_id: str
    product_id: str | None
    product_name: str | None
    author: str
    rating: int
    body: str
    reply: str | None
    created_at: Timestamp
    replied_at: Timestamp | None


class PartnerReview(Review):
    """Reservation reviews name the ``number``, order reviews the ``order_id`` and ``line_id``."""

    kind: Literal["reservation", "order"]
    number: str | None = None  # reservation reviews
    order_id: str | None = None  # order reviews
    line_id: str | None = None  # order reviews


class ProductReviews(Page[Review]):
    product_id: str
    average: float | None = Field(description="null when nobody reviewed it")
    count: int


CustomerPage = Page[Customer]
PartnerReviewPage = Page[PartnerReview]
