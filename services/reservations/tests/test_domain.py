"""Reservation rules without I/O: cancellation quotes and refusals (R-RSV-4),
partner transitions (R-RSV-2), date change refusals (R-RSV-5), timers (R-CAT-6),
the status board (R-RSV-9), search terms (R-RSV-8), numbers and keys."""

import datetime as dt

import pytest

from chassis import privacy
from chassis.partner_time import PARTNER_TIME_ZONE
from chassis.errors import Conflict, DomainError, ValidationFailed
from reservations import domain

SEOUL = PARTNER_TIME_ZONE
USE = dt.datetime(2026, 12, 10, 10, 0, tzinfo=SEOUL)
TIERED = {
    "kind": "fee_tiers",
    "deadline_hours_before": 24,
    "non_refundable": False,
    "auto_cancel_unused": False,
    "complete_after_use": False,
    "fee_tiers": [{"hours_before": 72, "fee_percent": 10}, {"hours_before": 48, "fee_percent": 30}],
}
FREE = {
    "kind": "free_until_deadline",
    "deadline_hours_before": 24,
    "fee_tiers": [],
    "non_refundable": False,
    "auto_cancel_unused": False,
    "complete_after_use": True,
}


def reservation(**overrides) -> dict:
    r = {
        "number": "ABCDEFGH23",
        "status": "confirmed",
        "payment": "prepaid",
        "cancel_policy": TIERED,
        "allow_partial_cancel": True,
        "use_date": USE.date(),
        "use_time": USE.time(),
        "schedule_type": "datetime",
        "lines": [
            {"line": 0, "price_id": "a", "label": "adult", "unit_price": 10000, "quantity": 2, "cancelled": 0},
            {"line": 1, "price_id": "c", "label": "child", "unit_price": 5000, "quantity": 1, "cancelled": 0},
        ],
    }
    r.update(overrides)
    return r


def hours_before(hours: float) -> dt.datetime:
    return USE - dt.timedelta(hours=hours)


def refusal(call) -> DomainError:
    with pytest.raises(Conflict) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(
    "hours,fee,refund", [(100, 0, 25000), (72, 0, 25000), (60, 2500, 22500), (30, 7500, 17500), (24, 7500, 17500)]
)
def test_r_rsv_4_fee_is_the_tier_closest_to_use_among_those_that_apply(hours, fee, refund):
    plan = domain.plan_customer_cancel(reservation(), None, None, hours_before(hours))
    assert (plan.partial, plan.amount, plan.fee, plan.refund) == (False, 25000, fee, refund)


def test_r_rsv_4_each_refusal_has_its_own_code():
    now = hours_before(60)
    assert (
        refusal(lambda: domain.plan_customer_cancel(reservation(status="completed"), None, None, now)).code
        == "not_cancellable_state"
    )
    partial = [{"line": 0, "quantity": 1}]
    assert (
        refusal(lambda: domain.plan_customer_cancel(reservation(allow_partial_cancel=False), partial, None, now)).code
        == "partial_cancel_not_allowed"
    )
    late = refusal(lambda: domain.plan_customer_cancel(reservation(), None, None, hours_before(23)))
    assert (late.code, late.details["cancel_deadline"]) == ("deadline_passed", hours_before(24).isoformat())
    sold_as_final = {**TIERED, "non_refundable": True, "fee_tiers": []}
    assert (
        refusal(lambda: domain.plan_customer_cancel(reservation(cancel_policy=sold_as_final), None, None, now)).code
        == "non_refundable"
    )
    changed = refusal(lambda: domain.plan_customer_cancel(reservation(), None, 0, now))
    assert (changed.code, changed.details["fee"], changed.details["expected_fee"]) == ("fee_changed", 2500, 0)
    assert domain.plan_customer_cancel(reservation(), None, 2500, now).fee == 2500  # the fee shown still holds


def test_r_rsv_4_a_request_not_yet_confirmed_is_cancelled_free_whatever_the_policy():
    for policy in (TIERED, {**TIERED, "non_refundable": True, "fee_tiers": []}):
        plan = domain.plan_customer_cancel(
            reservation(status="requested", cancel_policy=policy), None, None, hours_before(23)
        )  # past the deadline, inside every fee tier
        assert (plan.fee, plan.refund) == (0, 25000)
    assert domain.plan_customer_cancel(reservation(), None, None, hours_before(60)).fee == 2500  # once confirmed


def test_non_refundable_bookings_show_no_cancel_deadline():
    assert domain.cancel_deadline({**TIERED, "non_refundable": True}, USE) is None
    assert domain.cancel_deadline(TIERED, USE) == hours_before(24)


def test_r_rsv_4_partial_cancellation_charges_the_part_and_names_bad_lines():
    plan = domain.plan_customer_cancel(reservation(), [{"line": 1, "quantity": 1}], None, hours_before(60))
    assert (plan.partial, plan.release, plan.amount, plan.fee, plan.refund) == (
        True,
        [{"line": 1, "quantity": 1}],
        5000,
        500,
        4500,
    )
    everything = [{"line": 0, "quantity": 2}, {"line": 1, "quantity": 1}]
    assert (
        domain.plan_customer_cancel(
            reservation(allow_partial_cancel=False), everything, None, hours_before(100)
        ).partial
        is False
    )
    with pytest.raises(ValidationFailed) as raised:
        domain.plan_customer_cancel(
            reservation(), [{"line": 0, "quantity": 3}, {"line": 5, "quantity": 1}], None, hours_before(100)
        )
    assert set(raised.value.details["fields"]) == {"lines.0.quantity", "lines.1.line"}
    after = domain.apply_cancellation(reservation()["lines"], [{"line": 0, "quantity": 1}])
    assert domain.amount_of(after) == 15000 and domain.active_quantity(after[0]) == 1


def test_r_cat_6_unpaid_bookings_move_no_money_and_anytime_ones_have_no_deadline():
    unpaid = reservation(payment="none", cancel_policy=FREE)
    plan = domain.plan_customer_cancel(unpaid, None, None, hours_before(30))
    assert (plan.fee, plan.refund) == (0, 0)
    anytime = reservation(use_date=None, use_time=None, schedule_type="anytime")
    assert domain.plan_customer_cancel(anytime, None, None, USE + dt.timedelta(days=300)).refund == 25000


def test_r_rsv_2_partner_transitions_name_the_current_state():
    now = USE + dt.timedelta(hours=1)
    for action, status in (
        ("confirm", "confirmed"),
        ("reject", "cancelled"),
        ("complete", "requested"),
        ("cancel", "completed"),
        ("no_show", "requested"),
    ):
        error = refusal(lambda: domain.partner_outcome(action, reservation(status=status), now))
        assert (error.code, error.details["status"], error.details["action"]) == ("invalid_state", status, action)
    assert domain.partner_outcome("reject", reservation(status="requested"), now) == domain.Outcome(
        "rejected", "reservation.rejected", refund=25000, release=True
    )
    assert domain.partner_outcome("complete", reservation(), now).sale == 25000
    assert domain.partner_outcome("no_show", reservation(), now).fee == 25000
    assert (
        refusal(lambda: domain.partner_outcome("no_show", reservation(), USE - dt.timedelta(minutes=1))).code
        == "use_time_not_reached"
    )
    assert (
        refusal(lambda: domain.partner_outcome("no_show", reservation(payment="none"), now)).code
        == "no_show_not_allowed"
    )


def test_r_rsv_5_each_date_change_condition_has_its_own_code():
    free = reservation(
        lines=[{"line": 0, "price_id": "a", "label": "adult", "unit_price": 0, "quantity": 1, "cancelled": 0}],
        payment="none",
        cancel_policy=FREE,
    )
    before = dt.datetime(2026, 12, 9, 23, 0, tzinfo=SEOUL)
    new = (dt.date(2026, 12, 12), dt.time(11, 0))
    domain.check_date_change(free, *new, before)  # allowed
    cases = [
        ({**free, "status": "completed"}, before, "line_completed"),
        ({**free, "status": "rejected"}, before, "not_changeable_state"),
        ({**free, "schedule_type": "anytime"}, before, "anytime_product"),
        (reservation(), before, "priced_product"),
        (free, dt.datetime(2026, 12, 10, 0, 0, tzinfo=SEOUL), "use_date_passed"),
    ]
    for r, now, code in cases:
        assert refusal(lambda: domain.check_date_change(r, *new, now)).code == code
    assert refusal(lambda: domain.check_direct_listing(free, {"via_agency": True})).code == "not_direct_listing"
    domain.check_direct_listing(free, {"via_agency": False})
    with pytest.raises(ValidationFailed):
        domain.check_date_change(free, new[0], None, before)  # a datetime product needs a time
    with pytest.raises(ValidationFailed):
        domain.check_date_change(free, USE.date(), USE.time(), before)  # nothing would change


def test_r_cat_6_timers_due_times_and_outcomes():
    booked_at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=SEOUL)
    assert domain.due_at("requested", TIERED, USE.date(), USE.time(), booked_at, 24) == booked_at + dt.timedelta(days=1)
    late_booking = USE - dt.timedelta(hours=2)
    assert domain.due_at("requested", TIERED, USE.date(), USE.time(), late_booking, 24) == USE  # never past use
    assert domain.due_at("confirmed", FREE, USE.date(), USE.time(), booked_at, 24) == dt.datetime(
        2026, 12, 11, 0, 0, tzinfo=SEOUL
    )
    assert domain.due_at("confirmed", TIERED, USE.date(), USE.time(), booked_at, 24) is None  # no auto-cancel
    assert domain.due_at("confirmed", FREE, None, None, booked_at, 24) is None  # anytime
    assert domain.timer_outcome(reservation(status="requested")) == domain.Outcome(
        "cancelled", "reservation.expired", refund=25000, release=True, action="expired", reason="request_expired"
    )
    assert domain.timer_outcome(reservation(payment="none", cancel_policy=FREE)).status == "completed"
    auto_cancel = {**TIERED, "auto_cancel_unused": True}
    assert domain.timer_outcome(reservation(cancel_policy=auto_cancel)) == domain.Outcome(
        "no_show", "reservation.no_show", fee=25000
    )


def test_r_rsv_9_board_adds_counts_per_slot_day_and_period():
    slots = {
        "product_id": "p",
        "date_from": "2026-12-10",
        "date_to": "2026-12-10",
        "period": None,
        "blocks": [],
        "slots": [
            {
                "date": "2026-12-10",
                "time": "10:00",
                "capacity": 5,
                "taken": 3,
                "remaining": 2,
                "blocked": False,
                "past": False,
            },
            {
                "date": "2026-12-10",
                "time": None,
                "capacity": 9,
                "taken": 4,
                "remaining": 5,
                "blocked": False,
                "past": False,
            },
        ],
    }
    counts = [
        {"date": "2026-12-10", "time": "10:00", "status": "requested", "reservations": 1, "quantity": 2},
        {"date": "2026-12-10", "time": "10:00", "status": "confirmed", "reservations": 1, "quantity": 1},
        {"date": "2026-12-10", "time": "11:00", "status": "completed", "reservations": 1, "quantity": 1},
        {"date": "2026-12-10", "time": "11:00", "status": "no_show", "reservations": 1, "quantity": 2},
        {"date": "2026-12-10", "time": "11:00", "status": "cancelled", "reservations": 4, "quantity": 4},
    ]
    board = domain.board(slots, counts)
    ten, day = board["slots"]
    assert (ten["requested"], ten["confirmed"], ten["completed"], ten["booked_quantity"], ten["remaining"]) == (
        1,
        1,
        0,
        3,
        2,
    )
    assert (day["requested"], day["confirmed"], day["completed"], day["no_show"], day["booked_quantity"]) == (
        1,
        1,
        1,
        1,
        6,
    )
    assert board["totals"] == {"requested": 1, "confirmed": 1, "completed": 1, "no_show": 1, "booked_quantity": 6}


def test_r_rsv_8_search_terms_and_identifiers():
    assert privacy.search_terms("5678") == ("5678", None)
    assert privacy.search_terms(" 김다 ") == (None, "김다")
    assert privacy.search_terms("Kim") == (None, "kim")
    assert privacy.search_terms("010-1234-5678") == ("5678", None)  # a whole phone: its last 4 digits
    assert privacy.search_terms("010 98761111") == ("1111", None)
    assert privacy.search_terms("길동") == (None, "길동") and privacy.search_terms("  ") == (None, None)
    assert privacy.name_grams("길") == ["길"] and privacy.name_grams("홍길동") == ["길동", "홍길"]
    numbers = {domain.new_number() for _ in range(2000)}
    assert len(numbers) == 2000 and all(domain.canonical_number(n) == n for n in numbers)
    assert domain.canonical_number("abcd-efgh-23") == "ABCDEFGH23"
    assert domain.canonical_number("0000000000") is None and domain.canonical_number(None) is None
    assert domain.hold_id("r1", 2) == "rsv:r1:2"
    assert domain.request_fingerprint({"a": 1, "b": [1]}) == domain.request_fingerprint({"b": [1], "a": 1})


def test_coupon_discount_is_shared_by_what_each_cancellation_takes_and_refunds_add_up_to_what_was_paid():
    """Issue #11: a partial cancellation keeps the coupon and refunds what was paid for
    the units (their share of the discount taken off); every refund adds up to the total paid."""
    booked = reservation(discount_amount=2501)  # lines sold for 25,000; an odd discount
    paid = domain.paid_amount(booked["lines"], 2501)
    assert paid == 25000 - 2501
    refunds, current = [], booked
    for release in ([{"line": 0, "quantity": 1}], [{"line": 1, "quantity": 1}], [{"line": 0, "quantity": 1}]):
        plan = domain.plan_customer_cancel(current, release, None, hours_before(100))
        refunds.append(plan.refund)
        current = {**current, "lines": domain.apply_cancellation(current["lines"], release)}
    assert refunds[0] < 10000 and refunds[1] < 5000  # less than the listed prices: what was paid
    assert sum(refunds) == paid
    assert domain.discount_left(current["lines"], 2501) == 0 and domain.paid_amount(current["lines"], 2501) == 0
    completed = domain.partner_outcome("complete", booked, hours_before(1))
    assert completed.sale == paid  # the sale settlement books is what was paid


def test_issue_15_a_quote_of_no_line_is_a_422_on_lines_not_a_500():
    from chassis.validation import parse
    from reservations.schemas import QuoteQuery

    for bad in ("0:0", "25:1", "1:101"):
        with pytest.raises(ValidationFailed) as refused:
            parse(QuoteQuery, {"lines": bad})
        assert list(refused.value.details["fields"]) == ["lines"]
    assert parse(QuoteQuery, {"lines": "0:1,2:3"}).cancel_lines() == [
        {"line": 0, "quantity": 1},
        {"line": 2, "quantity": 3},
    ]
