"""Insights rules (issue #11). No I/O here: store.py does the SQL.

Read models fed only by events
------------------------------
Insights never reads another service's database. It keeps, per partner:

* a **booking** row per reservation and an **order** row per order, each in
  its current state, from the ``reservation.*`` and ``order.*`` events (every
  one of them carries the whole snapshot);
* the **customers** who booked or ordered, with figures recomputed from those
  rows after every event about them;
* every **review** of a reservation or an order line, with its reply.

Duplicates and out-of-order delivery
------------------------------------
Each handler runs in the inbox transaction (``db.consuming``): a second
delivery of an event changes nothing. Events may also arrive out of order
(retries, several consumers): a row keeps ``occurred_at`` of the newest event
applied, and an older event does not move its state back. What is not state
but history is merged whatever the order: a booking's ``booked_at`` is the
earliest event seen, its fees add up over the events that carry one, and
``visited_at`` comes from the ``reservation.completed`` / ``order.completed``
/ ``order.delivered`` event itself, whenever it arrives.

Definitions
-----------
Dates are in the partner's zone (Asia/Seoul, ../shared/api.md).

* A booking **counts on** its use date (the day of the visit); a booking of
  an ``anytime`` product, which has none, on the day it was booked. An order
  counts on the day it was received. Statistics of a period take the
  bookings and orders that count on a day of it, in their current state.
* **Cancellation rate**: cancelled bookings (by the customer, the partner or
  expiry) / all bookings of the period. **No-show rate**: no-shows /
  (completed + no-shows), the bookings whose visit was due and settled.
  ``null`` when the denominator is 0. Rates are rounded to 4 decimals.
* **Sales**: the totals (after discount) of completed bookings and of
  completed orders (a delivered order is completed, R-ORD-3). **Refunds**:
  what was refunded on those completed orders (``refunded_total``; a
  completed booking cannot be refunded, R-RSV-4). **Revenue** (``net``) =
  sales - refunds. Each sale and its refunds fall on the day the booking or
  order counts on, so a later refund lowers that day's revenue. Money kept
  from bookings that were not sales (cancellation and no-show **fees**) is
  reported apart and is not revenue. This is the one definition of revenue
  (``chassis.money``), the settlement sales summary's ``revenue`` too (there
  by the day each sale or refund was booked). By product: a booking is one
  product; an order's sales and refunds per product follow chassis.money's
  one allocation rule (the one orders refund by and settlement books by).
* **Busiest slots**: the (use date, time) pairs with the most bookings that
  hold or held the slot (requested, confirmed, completed, no-show), then the
  most people; ten at most.

Customers
---------
Visit count: completed bookings + completed orders. Last visit: the latest
of their completion times. Total spent: sales - refunds of those. Coupon use:
bookings and orders that carry a ``coupon_id`` and were not cancelled or
rejected (the coupon is given back then). Name and phone are asked from
accounts (``customer_contact``) the first time insights sees a customer
(events carry neither, by design), and kept as they were then; the phone is
only ever shown masked (chassis.privacy). ``q`` matches the start of the name
(case-insensitive) or, when it is 4 digits, the last 4 phone digits (R-RSV-8).

Erasure (customer.erased, R-ACC-3): the customer's rows of every partner move
to the pseudonym, the name becomes the pseudonym, the phone goes; counts and
amounts stay. Reviews keep their text and rating; their author becomes the
pseudonym. Events about an erased customer that arrive later land on the
pseudonym too. Members: insights stores no member data (events name only
"partner" as the actor), so ``member.withdrawn`` needs no handler here, as in
settlement.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from chassis.contracts import (
    ReservationCancelled,
    ReservationEvent,
    ReservationNoShow,
    ReservationTransferred,
    read_payload,
)
from chassis.jsonvalues import pick
from chassis.money import products_of

# Re-exported (``X as X``): the service reads the partner's time as domain.*.
from chassis.partner_time import PARTNER_TIME_ZONE as PARTNER_TIME_ZONE
from chassis.partner_time import business_date as business_date
from chassis.partner_time import today_in_partner_zone as today_in_partner_zone
from chassis.privacy import last_four_digits, mask_name

BOOKING_STATES = ("requested", "confirmed", "rejected", "cancelled", "completed", "no_show")
ORDER_STATES = ("received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled")
SLOT_HOLDING_STATES = ("requested", "confirmed", "completed", "no_show")
AWAITING_VISIT = ("requested", "confirmed")  # a channel message's ``booked_on`` audience (R-NTF-3)
COUPON_GIVEN_BACK = ("cancelled", "rejected")
BUSIEST_SLOTS = 10
MAX_RANGE_DAYS = 366
SEGMENT_MAX_CUSTOMERS = 1000  # notifications takes at most this many customer_ids per message

VISIT_EVENTS = ("reservation.completed", "order.completed", "order.delivered")


def default_period(today: date) -> tuple[date, date]:
    """The current month, first to last day (upcoming bookings of the month count)."""
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return first, next_month - timedelta(days=1)


def period_problem(date_from: date, date_to: date) -> tuple[str, str] | None:
    """(field, why) when a statistics period is not one: ``from`` after ``to``,
    or longer than a year."""
    if date_from > date_to:
        return "from", "must not be after 'to'"
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        return "to", f"a period covers at most {MAX_RANGE_DAYS} days"
    return None


# --- facts from events ----------------------------------------------------------------


def booking_fact(event_type: str, payload: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    """The booking row an event describes (reservation.*: the whole snapshot,
    chassis.contracts.ReservationEvent); ``fee`` is this event's (a cancellation's
    or a no-show's, R-RSV-4, R-CAT-6): fees add up over events."""
    r = read_payload(event_type, payload, ReservationEvent)
    fee = r.fee_amount if isinstance(r, ReservationCancelled | ReservationNoShow) else 0
    return {
        "partner_id": r.partner_id,
        "reservation_number": r.reservation_number,
        "product_id": r.product_id,
        "status": r.status,
        "use_date": r.use_date,
        "use_time": r.use_time,
        "quantity": sum(line.quantity for line in r.lines),
        "total": r.total,
        "discount_amount": r.discount_amount,
        "coupon_id": r.coupon_id,
        "fee": max(fee, 0),
        "visited_at": occurred_at if event_type in VISIT_EVENTS else None,
        "holder_id": holder_of(r),
        "occurred_at": occurred_at,
    }


def holder_of(r: ReservationEvent) -> str | None:
    """Who holds the ticket when it is not the booker (R-RSV-10: handed to a friend), else None."""
    holder = r.holder_customer_id or (r.to_customer_id if isinstance(r, ReservationTransferred) else None)
    return holder if holder and holder != r.customer_id else None


# A rollup's rows as contributions: the row's key (day, product, state...) -> its numbers (count, sums...).
Rollup = dict[tuple[Any, ...], tuple[int, ...]]


def booking_contributions(row: dict[str, Any] | None) -> tuple[Rollup, Rollup]:
    """What one booking adds to the rollups (``booking_days`` by day, product
    and state; ``booking_slots`` by use date and time while it holds a slot)."""
    if row is None:
        return {}, {}
    days: Rollup = {
        (row["stat_date"], row["product_id"], row["status"]): (
            1,
            row["quantity"],
            row["total"] if row["status"] == "completed" else 0,
            row["fees"],
        )
    }
    slots: Rollup = (
        {(row["use_date"], row["use_time"]): (1, row["quantity"])}
        if row["use_date"] is not None and row["status"] in SLOT_HOLDING_STATES
        else {}
    )
    return days, slots


def _difference(before: Rollup, after: Rollup) -> Rollup:
    """Per key, ``after - before`` (tuples of numbers); only the non-zero ones."""
    deltas = {}
    for key in before.keys() | after.keys():
        a, b = after.get(key), before.get(key)
        delta = tuple((a[i] if a else 0) - (b[i] if b else 0) for i in range(len(a or b or ())))
        if any(delta):
            deltas[key] = delta
    return deltas


def rollup_deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[Rollup, Rollup]:
    """The changes a booking's move from ``old`` to ``new`` makes to the rollups
    (non-zero ones only), so that they always equal a recount of the bookings."""
    (old_days, old_slots), (new_days, new_slots) = booking_contributions(old), booking_contributions(new)
    return _difference(old_days, new_days), _difference(old_slots, new_slots)


def order_contributions(row: dict[str, Any] | None, products: list[dict[str, Any]]) -> tuple[Rollup, Rollup]:
    """What one order adds to ``order_days`` (by day and state) and, once
    completed, its product shares to ``order_product_days``."""
    if row is None:
        return {}, {}
    completed = row["status"] == "completed"
    days: Rollup = {
        (row["stat_date"], row["status"]): (
            1,
            row["total"] if completed else 0,
            row["refunded_total"] if completed else 0,
        )
    }
    shares: Rollup = (
        {(row["stat_date"], p["product_id"]): (p["sales"], p["refunds"]) for p in products} if completed else {}
    )
    return days, shares


def order_rollup_deltas(
    old: dict[str, Any] | None,
    old_products: list[dict[str, Any]],
    new: dict[str, Any] | None,
    new_products: list[dict[str, Any]],
) -> tuple[Rollup, Rollup]:
    (old_days, old_shares), (new_days, new_shares) = (
        order_contributions(old, old_products),
        order_contributions(new, new_products),
    )
    return _difference(old_days, new_days), _difference(old_shares, new_shares)


def order_fact(event_type: str, payload: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    return {
        "partner_id": payload["partner_id"],
        "order_id": payload["order_id"],
        "channel": payload["channel"],
        "status": payload["status"],
        "total": int(payload.get("total") or 0),
        "refunded_total": int(payload.get("refunded_total") or 0),
        "discount_amount": int(payload.get("discount_amount") or 0),
        "coupon_id": payload.get("coupon_id"),
        "visited_at": occurred_at if event_type in VISIT_EVENTS else None,
        "occurred_at": occurred_at,
    }


def order_product_shares(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """An order's sales (what was paid for each product) and refunds (what was
    paid back for it), by the one allocation rule of chassis.money (the one
    orders refund by and settlement books by)."""
    products = products_of(payload.get("lines") or [], int(payload.get("discount_amount") or 0))
    return [
        {"product_id": p.product_id, "product_name": p.product_name, "sales": p.paid, "refunds": p.refunded}
        for p in products
    ]


def products_named(event_type: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(product id, name) pairs an event tells the names of."""
    if event_type.startswith("reservation."):
        return [(payload["product_id"], payload["product_name"])]
    return sorted({(line["product_id"], line["product_name"]) for line in payload.get("lines") or []})


def review_fact(event_type: str, payload: dict[str, Any], occurred_at: datetime) -> dict[str, Any] | None:
    """The review an event posts or replies to; None when the producer did
    not name it (nothing to show)."""
    posted = event_type.endswith(".review_posted")
    if event_type.startswith("reservation."):
        review_id, kind, subject, line_id = payload.get("review_id"), "reservation", payload["reservation_number"], None
        product_id = payload["product_id"]
    else:
        review_id, kind, subject, line_id = (
            payload.get("request_id"),
            "order",
            payload["order_id"],
            payload.get("review_line_id"),
        )
        product_id = _reviewed_product(payload, line_id)
    if not review_id or not product_id:
        return None
    return {
        "review_id": str(review_id),
        "partner_id": payload["partner_id"],
        "kind": kind,
        "subject_id": subject,
        "line_id": line_id,
        "product_id": product_id,
        "rating": payload.get("rating"),
        "body": payload.get("review_text"),
        "reply": payload.get("reply_text"),
        "posted_at": occurred_at,
        "replied_at": None if posted else occurred_at,
        "posted": posted,
        "booker_name_masked": payload.get("booker_name_masked"),
    }


def _reviewed_product(payload: dict[str, Any], line_id: str | None) -> str | None:
    lines = payload.get("lines") or []
    for line in lines:
        if line_id and line["line_id"] == line_id:
            return str(line["product_id"])
    products = {line["product_id"] for line in lines}
    return products.pop() if len(products) == 1 and not line_id else None


def author_of(contact: dict[str, Any] | None, booker_name_masked: str | None) -> str | None:
    """What a review shows of its author: the masked name (one rule, chassis.privacy)."""
    if contact and contact.get("erased"):
        return contact.get("pseudonym")
    if contact and contact.get("name"):
        return mask_name(contact["name"])
    return booker_name_masked


def contact_row(customer_id: str, contact: dict[str, Any] | None) -> dict[str, Any]:
    """What accounts answered (or None: unknown there) as a contacts row."""
    contact = contact or {}
    erased = bool(contact.get("erased"))
    return {
        "customer_id": customer_id,
        "name": None if erased else contact.get("name"),
        "phone": None if erased else contact.get("phone"),
        "erased": erased,
        "pseudonym": contact.get("pseudonym") if erased else None,
    }


PSEUDONYM = re.compile(r"^customer-[0-9a-f]{16}$")  # chassis.privacy.pseudonym("customer", ...)


def is_pseudonym(customer_id: str) -> bool:
    """Producers name an erased customer by their pseudonym in later events
    (reservations and orders pseudonymise too): nobody to ask accounts about."""
    return bool(PSEUDONYM.match(customer_id))


def phone_search_key(phone: str | None) -> str | None:
    return last_four_digits(phone)


# --- statistics ---------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def statistics_view(
    date_from: date,
    date_to: date,
    booking_groups: list[dict[str, Any]],
    slot_rows: list[dict[str, Any]],
    order_groups: list[dict[str, Any]],
    order_product_rows: list[dict[str, Any]],
    names: dict[str, str],
    with_money: bool,
) -> dict[str, Any]:
    """The statistics body from the rows of store.booking_groups, busiest_slots,
    order_groups and order_product_revenue (see the module doc for definitions)."""
    by_state = {state: 0 for state in BOOKING_STATES}
    people = 0
    days: dict[date, dict[str, Any]] = {}
    products: dict[str, dict[str, Any]] = {}
    fees = 0

    def money(bucket: dict[Any, dict[str, Any]], key: Any, **ident: Any) -> dict[str, Any]:
        return bucket.setdefault(key, {**ident, "sales": 0, "refunds": 0, "fees": 0})

    for row in booking_groups:
        grouping = row["grouping"]
        if grouping == "status":
            by_state[row["status"]] = by_state.get(row["status"], 0) + row["bookings"]
            people += row["people"]
            fees += row["fees"]
        elif grouping == "product":
            entry = money(products, row["product_id"], product_id=row["product_id"])
            entry["sales"] += row["sales"]
            entry["fees"] += row["fees"]
        elif grouping == "day":
            entry = money(days, row["stat_date"], date=row["stat_date"])
            entry["sales"] += row["sales"]
            entry["fees"] += row["fees"]

    orders_by_state = {state: 0 for state in ORDER_STATES}
    for row in order_groups:
        orders_by_state[row["status"]] = orders_by_state.get(row["status"], 0) + row["orders"]
        entry = money(days, row["stat_date"], date=row["stat_date"])
        entry["sales"] += row["sales"]
        entry["refunds"] += row["refunds"]
    for row in order_product_rows:
        entry = money(products, row["product_id"], product_id=row["product_id"])
        entry["sales"] += row["sales"]
        entry["refunds"] += row["refunds"]

    for entry in [*days.values(), *products.values()]:
        entry["net"] = entry["sales"] - entry["refunds"]
    for entry in products.values():
        entry["product_name"] = names.get(entry["product_id"])
    bookings_total = sum(by_state.values())
    slots = sorted(
        (
            {"date": r["use_date"], "time": r["use_time"], "bookings": r["bookings"], "people": r["people"]}
            for r in slot_rows
            if r["bookings"] > 0
        ),
        key=lambda s: (-s["bookings"], -s["people"], s["date"], s["time"] or datetime.min.time()),
    )
    body = {
        "from": date_from,
        "to": date_to,
        "time_zone": str(PARTNER_TIME_ZONE),
        "bookings": {
            "total": bookings_total,
            "by_state": by_state,
            "people": people,
            "cancellation_rate": rate(by_state["cancelled"], bookings_total),
            "no_show_rate": rate(by_state["no_show"], by_state["completed"] + by_state["no_show"]),
        },
        "orders": {"total": sum(orders_by_state.values()), "by_state": orders_by_state},
        "busiest_slots": slots[:BUSIEST_SLOTS],
    }
    if with_money:
        day_rows = [d for _, d in sorted(days.items()) if d["sales"] or d["refunds"] or d["fees"]]
        product_rows = sorted(
            (p for p in products.values() if p["sales"] or p["refunds"] or p["fees"]),
            key=lambda p: (-p["net"], p["product_id"]),
        )
        sales = sum(d["sales"] for d in day_rows)
        refunds = sum(d["refunds"] for d in day_rows)
        body["revenue"] = {
            "sales": sales,
            "refunds": refunds,
            "net": sales - refunds,
            "fees": fees,
            "by_day": day_rows,
            "by_product": product_rows,
        }
    return body


# --- the dashboard (R-ACC-11) ---------------------------------------------------------

FINANCE_ROLES = {"admin", "master"}


def may_see_money(role: str | None) -> bool:
    """Admins and masters read money figures (as the ledger and sales summary,
    ../shared/api.md Roles); members see counts and rates."""
    return role in FINANCE_ROLES


def dashboard_view(
    role: str, customers: dict[str, Any], reviews: dict[str, Any], month: dict[str, Any]
) -> dict[str, Any]:
    """The dashboard's insights section (the gateway's ``{"counts": {...}, ...}``)."""
    counts = {
        "customers": customers["customers"],
        "new_customers_month": customers["new_this_month"],
        "reviews": reviews["reviews"],
        "unreplied_reviews": reviews["unreplied"],
    }
    section = {
        "counts": counts,
        "rating": {"average": reviews["average"], "count": reviews["reviews"]},
        "month_to_date": pick(month, "bookings", "orders", "cancellation_rate", "no_show_rate"),
    }
    if may_see_money(role):
        section["month_to_date"]["revenue"] = month["revenue"]
    return section
