"""Insights rules without I/O (issue #11): order revenue split by product,
statistics definitions, search terms, review facts, the dashboard by role."""

import uuid
from datetime import UTC, date, datetime, time

from chassis import privacy
from chassis.privacy import pseudonym
from insights import domain

AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 in Seoul


def test_order_sales_split_by_line_amounts_and_refunds_by_refunded_units():
    payload = {
        "total": 93000,
        "refunded_total": 15000,
        "lines": [
            {
                "line_id": "l1",
                "product_id": "shirt",
                "product_name": "Shirt",
                "quantity": 2,
                "unit_price": 39000,
                "amount": 78000,
                "refunded_quantity": 0,
            },
            {
                "line_id": "l2",
                "product_id": "cap",
                "product_name": "Cap",
                "quantity": 1,
                "unit_price": 15000,
                "amount": 15000,
                "refunded_quantity": 1,
            },
        ],
    }
    shares = {s["product_id"]: (s["sales"], s["refunds"]) for s in domain.order_product_shares(payload)}
    assert shares == {"shirt": (78000, 0), "cap": (15000, 15000)}
    # A discount (total below the line amounts) is spread too; nothing is lost to rounding.
    discounted = {**payload, "total": 90000, "discount_amount": 3000, "refunded_total": 0}
    assert sum(s["sales"] for s in domain.order_product_shares(discounted)) == 90000


def test_booking_fact_takes_the_snapshot_and_this_events_fee():
    payload = {
        "partner_id": "p",
        "reservation_number": "R1",
        "product_id": "cut",
        "product_name": "Cut",
        "customer_id": "c",
        "status": "no_show",
        "use_date": "2026-11-21",
        "use_time": "10:00",
        "total": 50000,
        "fee_amount": 50000,
        "lines": [{"price_id": "a", "label": "adult", "quantity": 2, "unit_price": 25000}],
    }
    fact = domain.booking_fact("reservation.no_show", payload, AT)
    assert (fact["status"], fact["quantity"], fact["fee"], fact["visited_at"]) == ("no_show", 2, 50000, None)
    without_fee = {k: v for k, v in payload.items() if k != "fee_amount"}  # only cancellations and no-shows have one
    completed = domain.booking_fact("reservation.completed", {**without_fee, "status": "completed"}, AT)
    assert (completed["visited_at"], completed["fee"]) == (AT, 0)
    # R-RSV-10: the holder is kept only when someone else holds the ticket.
    assert fact["holder_id"] is None
    assert domain.booking_fact("reservation.no_show", {**payload, "holder_customer_id": "c"}, AT)["holder_id"] is None
    handed = domain.booking_fact("reservation.transferred", {**without_fee, "to_customer_id": "friend"}, AT)
    assert handed["holder_id"] == "friend"
    assert (
        domain.booking_fact("reservation.confirmed", {**without_fee, "holder_customer_id": "friend"}, AT)["holder_id"]
        == "friend"
    )


def test_rollup_deltas_keep_the_rollups_equal_to_a_recount():
    """A booking moving from confirmed to completed leaves its day/product/state
    row for another and adds its sale; leaving the slot-holding states frees the slot."""
    day = date(2026, 11, 21)
    confirmed = {
        "stat_date": day,
        "product_id": "cut",
        "status": "confirmed",
        "use_date": day,
        "use_time": time(10),
        "quantity": 2,
        "total": 50000,
        "fees": 0,
    }
    days, slots = domain.rollup_deltas(None, confirmed)
    assert days == {(day, "cut", "confirmed"): (1, 2, 0, 0)} and slots == {(day, time(10)): (1, 2)}
    days, slots = domain.rollup_deltas(confirmed, {**confirmed, "status": "completed"})
    assert days == {(day, "cut", "confirmed"): (-1, -2, 0, 0), (day, "cut", "completed"): (1, 2, 50000, 0)}
    assert slots == {}
    days, slots = domain.rollup_deltas(confirmed, {**confirmed, "status": "cancelled", "quantity": 0, "fees": 5000})
    assert slots == {(day, time(10)): (-1, -2)}
    assert days[(day, "cut", "cancelled")] == (1, 0, 0, 5000)
    assert domain.rollup_deltas(confirmed, dict(confirmed)) == ({}, {})


def test_order_rollup_deltas_count_money_once_completed():
    day = date(2026, 11, 21)
    shipped = {"stat_date": day, "status": "shipped", "total": 93000, "refunded_total": 0}
    shares = [
        {"product_id": "shirt", "sales": 78000, "refunds": 0},
        {"product_id": "cap", "sales": 15000, "refunds": 0},
    ]
    days, products = domain.order_rollup_deltas(None, [], shipped, shares)
    assert days == {(day, "shipped"): (1, 0, 0)} and products == {}  # not a sale yet
    completed = {**shipped, "status": "completed"}
    days, products = domain.order_rollup_deltas(shipped, shares, completed, shares)
    assert days == {(day, "shipped"): (-1, 0, 0), (day, "completed"): (1, 93000, 0)}
    assert products == {(day, "shirt"): (78000, 0), (day, "cap"): (15000, 0)}
    refunded = [shares[0], {**shares[1], "refunds": 15000}]
    days, products = domain.order_rollup_deltas(completed, shares, {**completed, "refunded_total": 15000}, refunded)
    assert days == {(day, "completed"): (0, 0, 15000)} and products == {(day, "cap"): (0, 15000)}


def test_statistics_definitions():
    """Cancellation rate over all bookings, no-show rate over completed + no-show,
    revenue = completed sales - refunds, fees apart, busiest slots by bookings then people."""
    day = date(2026, 11, 21)
    booking_groups = [
        {"grouping": "status", "status": "completed", "bookings": 3, "people": 4, "fees": 0},
        {"grouping": "status", "status": "no_show", "bookings": 1, "people": 2, "fees": 30000},
        {"grouping": "status", "status": "cancelled", "bookings": 2, "people": 0, "fees": 5000},
        {"grouping": "product", "product_id": "cut", "sales": 90000, "fees": 35000},
        {"grouping": "day", "stat_date": day, "sales": 90000, "fees": 35000},
    ]
    slots = [
        {"use_date": day, "use_time": time(10), "bookings": 2, "people": 2},
        {"use_date": day, "use_time": time(14), "bookings": 2, "people": 3},
        {"use_date": day, "use_time": time(16), "bookings": 0, "people": 0},
    ]
    order_groups = [
        {"stat_date": day, "status": "completed", "orders": 1, "sales": 93000, "refunds": 15000},
        {"stat_date": day, "status": "cancelled", "orders": 1, "sales": 0, "refunds": 0},
    ]
    order_products = [{"product_id": "cap", "sales": 15000, "refunds": 15000}]
    body = domain.statistics_view(day, day, booking_groups, slots, order_groups, order_products, {"cut": "Cut"}, True)
    assert body["bookings"]["total"] == 6 and body["bookings"]["cancellation_rate"] == round(2 / 6, 4)
    assert body["bookings"]["no_show_rate"] == 0.25
    assert body["orders"]["by_state"]["completed"] == 1 and body["orders"]["total"] == 2
    assert [(s["time"], s["bookings"]) for s in body["busiest_slots"]] == [(time(14), 2), (time(10), 2)]
    revenue = body["revenue"]
    assert (revenue["sales"], revenue["refunds"], revenue["net"], revenue["fees"]) == (183000, 15000, 168000, 35000)
    assert [(p["product_id"], p["net"]) for p in revenue["by_product"]] == [("cut", 90000), ("cap", 0)]
    assert "revenue" not in domain.statistics_view(day, day, booking_groups, slots, [], [], {}, False)
    assert domain.statistics_view(day, day, [], [], [], [], {}, True)["bookings"]["no_show_rate"] is None


def test_periods_search_terms_and_review_facts():
    assert domain.period_problem(date(2026, 2, 1), date(2026, 1, 1))[0] == "from"
    assert domain.period_problem(date(2025, 1, 1), date(2026, 1, 2))[0] == "to"  # 367 days
    assert domain.period_problem(date(2025, 1, 1), date(2026, 1, 1)) is None  # 366 days
    assert domain.default_period(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert privacy.search_terms("5678") == ("5678", None)
    assert privacy.search_terms("Kim") == (None, "kim")
    order = {
        "partner_id": "p",
        "order_id": "o1",
        "request_id": "rv1",
        "review_line_id": "l2",
        "rating": 4,
        "review_text": "good",
        "lines": [{"line_id": "l1", "product_id": "shirt"}, {"line_id": "l2", "product_id": "cap"}],
    }
    fact = domain.review_fact("order.review_posted", order, AT)
    assert (fact["product_id"], fact["rating"], fact["posted"], fact["replied_at"]) == ("cap", 4, True, None)
    assert domain.review_fact("order.review_posted", {**order, "review_line_id": None}, AT) is None
    assert domain.author_of({"name": "김다온", "erased": False}, None) == "김*온"
    assert domain.author_of({"erased": True, "pseudonym": "customer-1"}, "김*온") == "customer-1"
    assert domain.is_pseudonym(pseudonym("customer", "c-1")) and not domain.is_pseudonym(str(uuid.uuid4()))


def test_r_acc_11_dashboard_shows_money_to_admins_and_masters_only():
    customers = {"customers": 3, "new_this_month": 1}
    reviews = {"reviews": 2, "unreplied": 1, "average": 4.5}
    month = {"bookings": 5, "orders": 0, "cancellation_rate": 0.2, "no_show_rate": None, "revenue": 10000}
    assert domain.dashboard_view("master", customers, reviews, month)["month_to_date"]["revenue"] == 10000
    member = domain.dashboard_view("member", customers, reviews, month)
    assert "revenue" not in member["month_to_date"] and member["counts"]["unreplied_reviews"] == 1
