"""Pure rules of the catalog (no broker, no database): content, policies,
display state, what a hold line takes, lock order."""

import datetime as dt

import pytest

from catalog import domain
from chassis.errors import Conflict, ValidationFailed

UTC = dt.UTC
NOW = dt.datetime(2025, 5, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
TODAY, NOW_TIME = domain.local_now(NOW)


def booking(**raw):
    return domain.normalize_content(
        "booking",
        {
            "name": "Cut",
            "schedule_type": "datetime",
            "quantity_mode": "slot",
            "prices": [{"label": "adult", "amount": 30000}],
            **raw,
        },
    )


def fields_of(raised) -> dict:
    return raised.value.details["fields"]


def test_r_cat_1_schedule_type_is_required_and_limits_the_quantity_modes():
    with pytest.raises(ValidationFailed) as raised:
        domain.normalize_content("booking", {"name": "x", "prices": [{"label": "a", "amount": 1}]})
    assert "schedule_type" in fields_of(raised)
    for schedule, refused in (("date", "slot"), ("anytime", "slot"), ("anytime", "date")):
        with pytest.raises(ValidationFailed) as raised:
            booking(schedule_type=schedule, quantity_mode=refused)
        assert "quantity_mode" in fields_of(raised)
    assert booking(schedule_type="anytime", quantity_mode="period")["quantity_mode"] == "period"
    assert booking(schedule_type="date", quantity_mode=None)["quantity_mode"] == "none"


def test_r_cat_2_price_maximum_only_with_a_quantity_mode():
    with pytest.raises(ValidationFailed) as raised:
        booking(
            quantity_mode="none", prices=[{"label": "a", "amount": 1}, {"label": "b", "amount": 1, "max_quantity": 3}]
        )
    assert fields_of(raised) == {"prices.1.max_quantity": domain.R_CAT_2_MAX}
    for mode in ("slot", "date", "period"):
        assert booking(quantity_mode=mode, prices=[{"label": "a", "amount": 1, "max_quantity": 3}])


def test_r_cat_3_prices_per_person_type_and_goods_options_get_stable_ids():
    content = domain.normalize_content(
        "goods", {"name": "Shirt", "options": [{"label": "S", "amount": 1000}, {"label": "M", "amount": 1000}]}
    )
    ids = [o["option_id"] for o in content["options"]]
    assert len(set(ids)) == 2 and content["goods_type"] == "shop" and content["payment"] == "prepaid"
    kept = domain.normalize_content(
        "goods", {"name": "Shirt", "options": [{"option_id": ids[0], "label": "S", "amount": 1200}]}, frozenset(ids)
    )
    assert kept["options"][0]["option_id"] == ids[0]
    with pytest.raises(ValidationFailed) as raised:
        domain.normalize_content(
            "goods",
            {
                "name": "Shirt",
                "options": [{"option_id": "op_forged", "label": "S", "amount": 1}, {"label": "S", "amount": 2}],
                "prices": [{"label": "x", "amount": 1}],
            },
        )
    assert set(fields_of(raised)) == {"options.0.option_id", "options.1.label", "prices"}
    with pytest.raises(ValidationFailed) as raised:
        domain.normalize_content("goods", {"name": "Shirt", "options": []})
    assert "options" in fields_of(raised)


def test_r_cat_6_without_payment_the_policy_is_fixed():
    policy = booking(payment="none")["cancel_policy"]
    assert policy == {
        "kind": "free_until_deadline",
        "deadline_hours_before": 24,
        "fee_tiers": [],
        "non_refundable": False,
        "auto_cancel_unused": False,
        "complete_after_use": True,
    }
    with pytest.raises(ValidationFailed) as raised:
        booking(
            payment="none",
            cancel_policy={
                "fee_tiers": [{"hours_before": 48, "fee_percent": 10}],
                "non_refundable": True,
                "auto_cancel_unused": True,
            },
        )
    assert set(fields_of(raised)) == {
        "cancel_policy.fee_tiers",
        "cancel_policy.non_refundable",
        "cancel_policy.auto_cancel_unused",
    }


def test_r_cat_6_prepaid_policies_fees_non_refundable_and_auto_cancel():
    policy = booking(
        payment="prepaid",
        cancel_policy={
            "deadline_hours_before": 2,
            "auto_cancel_unused": True,
            "fee_tiers": [{"hours_before": 24, "fee_percent": 50}, {"hours_before": 72, "fee_percent": 10}],
        },
    )["cancel_policy"]
    assert policy["kind"] == "fee_tiers" and policy["auto_cancel_unused"] and not policy["complete_after_use"]
    assert [t["hours_before"] for t in policy["fee_tiers"]] == [72, 24]
    use = NOW + dt.timedelta(hours=100)
    assert domain.quote_cancellation(policy, 10001, use, NOW)["fee"] == 0
    assert domain.quote_cancellation(policy, 10001, use, use - dt.timedelta(hours=48))["fee"] == 1000
    assert domain.quote_cancellation(policy, 10000, use, use - dt.timedelta(hours=12)) == {
        "allowed": True,
        "reason": None,
        "fee": 5000,
        "refund": 5000,
        "fee_percent": 50,
    }
    assert domain.quote_cancellation(policy, 10000, use, use - dt.timedelta(hours=1))["reason"] == "deadline_passed"
    final = booking(payment="prepaid", cancel_policy={"non_refundable": True})["cancel_policy"]
    assert domain.quote_cancellation(final, 10000, use, NOW)["reason"] == "non_refundable"
    with pytest.raises(ValidationFailed) as raised:
        booking(
            payment="prepaid",
            cancel_policy={
                "deadline_hours_before": 48,
                "non_refundable": True,
                "fee_tiers": [{"hours_before": 24, "fee_percent": 10}],
            },
        )
    assert set(fields_of(raised)) == {"cancel_policy.fee_tiers", "cancel_policy.non_refundable"}


def test_r_cat_5_review_fields_and_what_changed():
    live = booking()
    edited = domain.normalize_content(
        "booking", domain.patched_review_fields(live, {"name": "Cut & wash"}), domain.known_ids_of([live])
    )
    assert edited["prices"] == live["prices"]  # ids kept across versions
    assert domain.changed_fields(live, edited) == ["name"]
    assert "prices" in domain.changed_fields(None, live)
    assert set(domain.REVIEW_FIELDS).isdisjoint(domain.SETTINGS_FIELDS)


def availability(**kinds):
    a = domain.Availability()
    for kind, (offered, open_) in kinds.items():
        a.offered[kind], a.open[kind] = offered, open_
    return a


def state(content, avail, **settings):
    return domain.display_state(approved=True, settings=settings, now=NOW, content=content, availability=avail)


def test_r_cat_4_display_state_is_derived():
    content = booking()
    assert state(content, availability(slot=(3, 1))) == "bookable"
    assert state(content, availability(slot=(3, 0))) == "closed"  # sold out
    assert state(content, availability()) == "unavailable"  # nothing offered
    assert state(content, availability(slot=(3, 1)), paused=True) == "unavailable"
    assert state(content, availability(slot=(3, 1)), sale_starts_at=NOW + dt.timedelta(days=1)) == "upcoming"
    assert state(content, availability(slot=(3, 1)), sale_ends_at=NOW) == "closed"
    assert (
        domain.display_state(approved=False, settings={}, now=NOW, content=None, availability=availability(slot=(1, 1)))
        == "unavailable"
    )
    voucher = booking(schedule_type="anytime", quantity_mode="none")
    assert state(voucher, availability()) == "bookable"
    period = booking(schedule_type="date", quantity_mode="period")
    assert state(period, availability(date=(5, 0), period=(1, 1))) == "bookable"
    assert state(period, availability(date=(5, 0), period=(1, 0))) == "closed"


def test_r_cat_3_goods_option_at_zero_stock_is_sold_out():
    goods = domain.normalize_content(
        "goods", {"name": "Shirt", "options": [{"label": "S", "amount": 1}, {"label": "M", "amount": 1}]}
    )
    ids = [o["option_id"] for o in goods["options"]]
    assert state(goods, domain.Availability(options={ids[0]: 0, ids[1]: 0})) == "closed"
    assert state(goods, domain.Availability(options={ids[0]: 0})) == "bookable"  # the other is untracked
    assert state(goods, domain.Availability(options={ids[0]: 0, ids[1]: 2})) == "bookable"


def product(content, kind="booking"):
    return {"product_id": "p1", "kind": kind, "live": content, "settings": {}}


def keys(needs):
    return [(n.key, n.enforce, n.upsert_capacity) for n in needs]


def test_r_cat_2_a_line_takes_its_slot_and_its_price_maximum_across_every_schedule():
    day = TODAY + dt.timedelta(days=2)
    line = {"quantity": 2, "date": day, "time": dt.time(10, 0)}
    slot = booking(prices=[{"label": "a", "amount": 5, "max_quantity": 3}])
    pid = slot["prices"][0]["price_id"]
    needs, priced = domain.hold_line_needs(0, {**line, "price_id": pid}, product(slot), set(), TODAY, NOW_TIME)
    assert keys(needs) == [(f"slot:{day}T10:00", True, None), (f"price:{pid}", True, 3)]
    assert priced == {"price_id": pid, "label": "a", "unit_price": 5, "date": day.isoformat(), "time": "10:00"}

    per_date = booking(quantity_mode="date", prices=[{"label": "a", "amount": 5, "max_quantity": 3}])
    pid = per_date["prices"][0]["price_id"]
    needs, _ = domain.hold_line_needs(0, {**line, "price_id": pid}, product(per_date), set(), TODAY, NOW_TIME)
    assert keys(needs) == [(f"slot:{day}T10:00", False, None), (f"date:{day}", True, None), (f"price:{pid}", True, 3)]

    period = booking(
        schedule_type="anytime", quantity_mode="period", prices=[{"label": "a", "amount": 5, "max_quantity": 3}]
    )
    pid = period["prices"][0]["price_id"]
    needs, _ = domain.hold_line_needs(0, {"quantity": 1, "price_id": pid}, product(period), set(), TODAY, NOW_TIME)
    assert keys(needs) == [("period", True, None), (f"price:{pid}", True, 3)]


def test_hold_lines_that_do_not_fit_past_or_blocked_are_refused_naming_the_line():
    content = booking()
    pid = content["prices"][0]["price_id"]
    day = TODAY + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as raised:
        domain.hold_line_needs(
            4,
            {"quantity": 1, "price_id": "pr_x", "date": day, "time": dt.time(9)},
            product(content),
            set(),
            TODAY,
            NOW_TIME,
        )
    assert fields_of(raised) == {"lines.4.price_id": "not a price of this product"}
    with pytest.raises(ValidationFailed) as raised:
        domain.hold_line_needs(
            0, {"quantity": 1, "price_id": pid, "date": day}, product(content), set(), TODAY, NOW_TIME
        )
    assert "lines.0.time" in fields_of(raised)
    for when, blocks, code in (
        (TODAY, set(), "slot_past"),
        (day, {day}, "slot_blocked"),
        (day, {(day, dt.time(9))}, "slot_blocked"),
    ):
        with pytest.raises(Conflict) as raised:
            at = dt.time(11) if when == TODAY else dt.time(9)  # 11:00 today has passed (it is 12:00)
            domain.hold_line_needs(
                2, {"quantity": 1, "price_id": pid, "date": when, "time": at}, product(content), blocks, TODAY, NOW_TIME
            )
        assert raised.value.code == code and raised.value.details["line"] == 2


def test_needs_are_merged_per_row_and_sorted_in_the_fixed_lock_order():
    need = domain.BucketNeed
    merged = domain.merge_needs(
        [
            need("p2", "slot:b", "slot", 1, True, True, lines=[0]),
            need("p1", "slot:z", "slot", 1, True, True, lines=[1]),
            need("p2", "slot:b", "slot", 2, True, True, lines=[2]),
            need("p1", "period", "period", 1, True, True, lines=[3]),
        ]
    )
    assert [(n.product_id, n.key, n.quantity, n.lines) for n in merged] == [
        ("p1", "period", 1, [3]),
        ("p1", "slot:z", 1, [1]),
        ("p2", "slot:b", 3, [0, 2]),
    ]


def test_refusals_name_the_line_and_what_is_left():
    need = domain.BucketNeed(
        "p1", "option:o1", "option", 3, True, False, lines=[1], detail={"product_id": "p1", "option_id": "o1"}
    )
    error = domain.refuse_need(need, 2, True)
    assert (error.code, error.status, error.details) == (
        "out_of_stock",
        409,
        {"line": 1, "product_id": "p1", "option_id": "o1", "bucket": "option", "remaining": 2, "requested": 3},
    )
    slot = domain.BucketNeed("p1", "slot:x", "slot", 1, True, True, lines=[0], detail={"date": "d"})
    assert domain.refuse_need(slot, 0, True).code == "capacity_exhausted"
    assert domain.refuse_need(slot, None, False).code == "slot_not_offered"


def test_release_plan_gives_back_what_is_held_and_never_more():
    held = [{"line": 0, "quantity": 3, "released": 1}, {"line": 1, "quantity": 2, "released": 2}]
    assert domain.release_plan(held, None, "h") == {0: 2}
    assert domain.release_plan(held, [{"line": 0, "quantity": 1}], "h") == {0: 1}
    with pytest.raises(Conflict) as raised:
        domain.release_plan(held, [{"line": 0, "quantity": 2}, {"line": 0, "quantity": 1}], "h")
    assert raised.value.code == "release_exceeds_hold" and raised.value.details["held"] == 2


def test_inventory_rows_fit_the_schedule_and_quantity_mode():
    day = dt.date(2025, 5, 2)
    rows = domain.inventory_rows(booking(), [{"date": day, "time": dt.time(10), "capacity": 4}], False, None)
    assert rows == [
        {"bucket_key": "slot:2025-05-02T10:00", "kind": "slot", "day": day, "at_time": dt.time(10), "capacity": 4}
    ]
    with pytest.raises(ValidationFailed) as raised:
        domain.inventory_rows(
            booking(),
            [{"date": day, "time": dt.time(10), "capacity": None}, {"date": day, "time": None, "capacity": 3}],
            True,
            5,
        )
    assert set(fields_of(raised)) == {"slots.0.capacity", "slots.1.time", "period_capacity"}
    per_date = booking(quantity_mode="date")
    rows = domain.inventory_rows(
        per_date,
        [{"date": day, "time": dt.time(10), "capacity": None}, {"date": day, "time": None, "capacity": 8}],
        False,
        None,
    )
    assert [r["bucket_key"] for r in rows] == ["slot:2025-05-02T10:00", "date:2025-05-02"]


# --- coupons (issue #11) --------------------------------------------------------------

COUPON = {
    "coupon_id": "c",
    "name": "Spring",
    "discount_type": "percent",
    "amount": None,
    "percent": 10,
    "max_discount": 3000,
    "min_spend": 20000,
    "starts_at": None,
    "ends_at": None,
    "product_ids": ["p1"],
    "total_limit": 2,
    "per_customer_limit": 1,
    "distribution": "issued",
    "code": None,
    "paused": False,
    "redeemed": 0,
}


def test_coupon_refusals_come_in_order_and_the_discount_covers_only_its_products():
    lines = [{"product_id": "p1", "amount": 40000}, {"product_id": "p2", "amount": 90000}]
    assert domain.coupon_discount(COUPON, lines) == (40000, 3000)  # 10 % of 40,000, capped
    assert domain.check_redeemable(COUPON, NOW, lines, issued=True, used=0) == 3000

    def code(coupon, lines=lines, issued=True, used=0):
        with pytest.raises(Conflict) as raised:
            domain.check_redeemable({**COUPON, **coupon}, NOW, lines, issued=issued, used=used)
        return raised.value.code

    assert code({"paused": True, "ends_at": NOW}) == "coupon_paused"
    assert code({"starts_at": NOW + dt.timedelta(seconds=1)}) == "coupon_not_started"
    assert code({"ends_at": NOW}) == "coupon_expired"
    assert code({}, issued=False) == "coupon_not_issued"
    assert code({}, lines=[lines[1]]) == "coupon_not_applicable"
    assert code({"min_spend": 40001}) == "coupon_min_spend"
    assert code({"redeemed": 2}, used=1) == "coupon_exhausted"
    assert code({}, used=1) == "coupon_limit_reached"
    held = domain.discounted_hold(
        {"lines": [{"amount": 2000}], "total": 2000}, {**COUPON, "discount_type": "fixed", "amount": 5000}, "k", 5000
    )
    assert (held["subtotal"], held["discount_amount"], held["total"]) == (2000, 2000, 0)  # never below zero


def test_coupon_settings_switch_type_and_name_every_field_that_does_not_fit():
    switched = domain.coupon_settings(COUPON, {"discount_type": "fixed", "amount": 1000})
    assert (switched["amount"], switched["percent"], switched["max_discount"]) == (1000, None, None)
    with pytest.raises(ValidationFailed) as raised:
        domain.coupon_settings(COUPON, {"name": None, "amount": 5, "code": "ABC", "ends_at": NOW, "starts_at": NOW})
    assert set(raised.value.details["fields"]) == {"name", "amount", "code", "ends_at"}


def goods_product(*labels: str) -> dict:
    content = domain.normalize_content(
        "goods", {"name": "Americano", "options": [{"label": label, "amount": 4500} for label in labels]}
    )
    return {"product_id": "p-1", "kind": "goods", "live": content, "blocks": set()}


def line_fields_refused(call) -> dict:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.details["fields"]


def test_a_goods_line_naming_no_option_takes_the_only_one_and_is_refused_when_there_is_a_choice():
    # #20: orders no longer looks the product up before holding; the hold decides.
    today, now_time = dt.date(2026, 12, 6), dt.time(9)
    only = goods_product("hot")
    line = {"product_id": "p-1", "quantity": 2, "option_id": None}
    needs, priced = domain.hold_line_needs(0, line, only, set(), today, now_time)
    only_id = only["live"]["options"][0]["option_id"]
    assert (priced["option_id"], line["option_id"], needs[0].quantity) == (only_id, only_id, 2)
    two = goods_product("hot", "iced")
    fields = line_fields_refused(
        lambda: domain.hold_line_needs(
            3, {"product_id": "p-1", "quantity": 1, "option_id": None}, two, set(), today, now_time
        )
    )
    assert fields == {"lines.3.option_id": "choose one of the product's options"}


def test_a_hold_for_goods_refuses_a_booking_product_and_one_for_bookings_refuses_goods():
    booking = {"product_id": "p-2", "kind": "booking"}
    assert line_fields_refused(lambda: domain.check_kind(booking, "goods", 1)) == {
        "lines.1.product_id": "not a menu item or shop product"
    }
    assert "lines.0.product_id" in line_fields_refused(lambda: domain.check_kind(goods_product("hot"), "booking", 0))
    domain.check_kind(booking, "booking", 0)
    domain.check_kind(booking, None, 0)  # a caller that names no kind takes either
