"""The order rules without I/O (domain.py): transitions per channel (R-ORD-2,
R-ORD-3), cancellation refusals (R-ORD-5), refunds and exchanges (R-ORD-8),
reviews (R-ORD-9), the auto-complete due time and the body fingerprint."""

import datetime as dt
import uuid

import pytest

from chassis import coupons, paging
from chassis.errors import Conflict, ValidationFailed
from orders import domain

ALL_STATES = ("received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled")


def an_order(channel="parcel", status="received", refunded=0):
    return {"order_id": "o-1", "channel": channel, "status": status, "refunded_amount": refunded}


def lines():
    return [
        {
            "line_id": "a",
            "quantity": 2,
            "refunded_quantity": 0,
            "unit_price": 1000,
            "option_id": "m",
            "product_id": "p",
            "product_name": "P",
        },
        {
            "line_id": "b",
            "quantity": 1,
            "refunded_quantity": 0,
            "unit_price": 3000,
            "option_id": "l",
            "product_id": "p",
            "product_name": "P",
        },
    ]


def code_of(call):
    with pytest.raises((Conflict, ValidationFailed)) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(
    "channel,path",
    [
        ("dine_in", ["start_preparing", "complete"]),
        ("takeout", ["start_preparing", "complete"]),
        ("delivery", ["prepare_shipment", "ship", "deliver"]),
        ("parcel", ["prepare_shipment", "ship", "deliver"]),
    ],
)
def test_r_ord_2_r_ord_3_each_channel_has_one_path_and_every_other_action_is_invalid_state(channel, path):
    order = an_order(channel)
    for action in domain.TRANSITIONS:
        if action != path[0]:
            assert code_of(lambda: domain.transition(order, action)).code == "invalid_state"
    for action in path:
        order["status"], _ = domain.transition(order, action)
    assert order["status"] == "completed"  # R-ORD-3: delivered completes the order
    for action in domain.TRANSITIONS:
        assert code_of(lambda: domain.transition(order, action)).details["status"] == "completed"


def test_r_ord_2_due_one_hour_after_receipt_for_dine_in_and_takeout_only():
    received = dt.datetime(2026, 5, 1, 12, 34, 56, tzinfo=dt.UTC)
    assert domain.auto_complete_at("dine_in", received) == received + dt.timedelta(hours=1)
    assert domain.auto_complete_at("takeout", received) == dt.datetime(2026, 5, 1, 13, 34, 56, tzinfo=dt.UTC)
    assert domain.auto_complete_at("delivery", received) is None
    assert domain.auto_complete_at("parcel", received) is None


@pytest.mark.parametrize("channel", ["dine_in", "takeout", "delivery", "parcel"])
def test_r_ord_5_who_may_cancel_in_which_state_and_the_reason_of_each_refusal(channel):
    states = (
        ("received", "preparing", "completed", "cancelled")
        if channel in domain.IN_STORE
        else ("received", "preparing_shipment", "shipped", "completed", "cancelled")
    )
    customer, partner = {}, {}
    for status in states:
        for by, seen in (("customer", customer), ("partner", partner)):
            try:
                domain.check_cancel(an_order(channel, status), by)
                seen[status] = "allowed"
            except Conflict as refusal:
                assert refusal.code == "cancel_not_allowed"
                seen[status] = refusal.details["reason"]
    if channel in domain.IN_STORE:
        assert customer == {
            "received": "allowed",
            "preparing": "preparation_started",
            "completed": "already_completed",
            "cancelled": "already_cancelled",
        }
        assert partner == {
            "received": "allowed",
            "preparing": "allowed",
            "completed": "already_completed",
            "cancelled": "already_cancelled",
        }
    else:
        assert customer == {
            "received": "allowed",
            "preparing_shipment": "shipment_started",
            "shipped": "already_shipped",
            "completed": "already_completed",
            "cancelled": "already_cancelled",
        }
        assert partner == {
            "received": "allowed",
            "preparing_shipment": "allowed",
            "shipped": "already_shipped",
            "completed": "already_completed",
            "cancelled": "already_cancelled",
        }
    domain.check_cancel(an_order(channel, "received", refunded=1000), "partner")  # the rest is refunded


@pytest.mark.parametrize("channel", ["dine_in", "takeout", "delivery", "parcel"])
def test_r_ord_5_every_open_state_has_a_way_out_and_every_refusal_names_it(channel):
    """The state machine (domain.EXITS): each state an order can be in before it is
    final has an exit for someone, each exit listed is one the rules accept, and
    every refusal names the state and the ways out (issue 18 item 1)."""
    states = [
        s
        for s in ALL_STATES
        if s not in ("completed", "cancelled")
        and (s in ("received", "preparing")) == (channel in domain.IN_STORE)
        or s == "received"
    ]
    for status in states:
        order = an_order(channel, status, refunded=1000)
        exits = domain.exits(order)
        assert any(exits.get(who) for who in ("customer", "partner")), status
        for who, actions in exits.items():
            for action in actions:
                if action == "cancel":
                    domain.check_cancel(order, who)
                elif action != "auto_complete":
                    domain.transition(order, action)
        for action in set(domain.TRANSITIONS) - set(exits.get("partner", ())):
            refusal = code_of(lambda: domain.transition(order, action))
            assert refusal.details["next"] == exits and status in refusal.message
            assert ("partner may" in refusal.message) and refusal.details["status"] == status
    for final in ("completed", "cancelled"):
        assert domain.exits(an_order(channel, final)) == {}


def test_r_ord_5_an_action_of_another_channel_names_the_channel():
    refusal = code_of(lambda: domain.transition(an_order("parcel", "received"), "start_preparing"))
    assert refusal.details["channels"] == ["dine_in", "takeout"] and refusal.details["channel"] == "parcel"
    assert "for dine_in and takeout orders, not parcel" in refusal.message
    assert "prepare shipment" in refusal.message


def test_r_ord_6_shipping_address_by_channel():
    domain.check_channel_fields("parcel", True)
    domain.check_channel_fields("dine_in", False)
    assert "shipping_address" in code_of(lambda: domain.check_channel_fields("delivery", False)).details["fields"]
    assert "shipping_address" in code_of(lambda: domain.check_channel_fields("takeout", True)).details["fields"]
    assert domain.offered_channels("cafe") == ("dine_in", "takeout", "delivery")
    assert domain.offered_channels("fashion") == ("parcel",) and domain.offered_channels("salon") == ()


def test_r_ord_8_refund_lines_count_open_requests_and_never_exceed_what_remains():
    order = an_order("parcel", "shipped")
    assert domain.refund_lines(order, lines(), None, []) == [
        {"line_id": "a", "quantity": 2},
        {"line_id": "b", "quantity": 1},
    ]
    open_request = [{"kind": "refund", "status": "requested", "lines": [{"line_id": "a", "quantity": 1}]}]
    assert domain.refund_lines(order, lines(), None, open_request) == [
        {"line_id": "a", "quantity": 1},
        {"line_id": "b", "quantity": 1},
    ]
    error = code_of(lambda: domain.refund_lines(order, lines(), [{"line_id": "a", "quantity": 2}], open_request))
    assert (error.code, error.details["available"]) == ("quantity_exceeds_order", 1)
    merged = domain.refund_lines(order, lines(), [{"line_id": "a", "quantity": 1}, {"line_id": "a", "quantity": 1}], [])
    assert merged == [{"line_id": "a", "quantity": 2}]
    assert (
        "lines.0.line_id"
        in code_of(lambda: domain.refund_lines(order, lines(), [{"line_id": "zz", "quantity": 1}], [])).details[
            "fields"
        ]
    )
    assert domain.refund_amount(lines(), merged) == 2000
    assert (
        code_of(lambda: domain.refund_lines(an_order("parcel", "cancelled"), lines(), None, [])).code == "invalid_state"
    )


def test_r_ord_8_before_shipment_a_refund_leaves_something_and_payment_state_follows():
    everything = [{"line_id": "a", "quantity": 2}, {"line_id": "b", "quantity": 1}]
    for status in domain.UNSHIPPED_STATES:
        assert (
            code_of(lambda: domain.check_refund_leaves_something(an_order("parcel", status), lines(), everything)).code
            == "cancel_instead"
        )
        domain.check_refund_leaves_something(an_order("parcel", status), lines(), everything[:1])
    domain.check_refund_leaves_something(an_order("parcel", "shipped"), lines(), everything)
    assert [domain.payment_status(5000, r) for r in (0, 1000, 5000)] == ["paid", "partially_refunded", "refunded"]


def test_r_ord_8_exchanges_are_for_shipped_shop_goods_to_another_option():
    for status in ("received", "preparing_shipment", "cancelled"):
        assert code_of(lambda: domain.check_exchangeable(an_order("parcel", status))).code == "invalid_state"
    assert code_of(lambda: domain.check_exchangeable(an_order("delivery", "shipped"))).code == "not_a_shop_order"
    order = an_order("parcel", "completed")
    domain.check_exchangeable(order)
    assert (
        "lines.0.option_id"
        in code_of(
            lambda: domain.exchange_lines(order, lines(), [{"line_id": "a", "quantity": 1, "option_id": "m"}], [])
        ).details["fields"]
    )
    refund_open = [{"kind": "refund", "status": "requested", "lines": [{"line_id": "a", "quantity": 2}]}]
    assert (
        code_of(
            lambda: domain.exchange_lines(
                order, lines(), [{"line_id": "a", "quantity": 1, "option_id": "l"}], refund_open
            )
        ).code
        == "quantity_exceeds_order"
    )


def test_r_ord_9_reviews_on_completed_orders_of_their_own_lines():
    domain.check_reviewable(an_order("dine_in", "completed"), lines(), "a")
    assert (
        code_of(lambda: domain.check_reviewable(an_order("parcel", "shipped"), lines(), "a")).code
        == "review_not_allowed"
    )
    assert (
        "line_id"
        in code_of(lambda: domain.check_reviewable(an_order("parcel", "completed"), lines(), "zz")).details["fields"]
    )


def test_cursors_refuse_garbage():
    order_id = uuid.uuid4()
    cursor = paging.encode_cursor("2026-05-01T00:00:00+00:00", order_id)
    assert domain.list_position(cursor) == (dt.datetime(2026, 5, 1, tzinfo=dt.UTC), order_id)
    for garbage in (
        "%%%",
        paging.encode_cursor("only-one"),
        paging.encode_cursor("yesterday", order_id),
        paging.encode_cursor("2026-05-01T00:00:00", order_id),
        paging.encode_cursor("2026-05-01T00:00:00+00:00", "not-a-uuid"),
    ):
        assert "cursor" in code_of(lambda: domain.list_position(garbage)).details["fields"]


def test_business_dates_are_days_in_seoul():
    assert domain.business_date(dt.datetime(2026, 5, 1, 15, 30, tzinfo=dt.UTC)) == dt.date(2026, 5, 2)
    start, end = domain.day_bounds(dt.date(2026, 5, 2))
    assert (start.isoformat(), end - start) == ("2026-05-02T00:00:00+09:00", dt.timedelta(days=1))
    assert "period_end" in code_of(lambda: domain.parse_period("2026-05-02", "2026-05-01")).details["fields"]


def test_refunds_of_a_discounted_order_pay_back_what_was_paid_and_add_up_to_its_total():
    """Issue #11: each refund is the units' amount less their share of the coupon
    discount, counted on everything refunded so far, so all refunds make ``total``."""
    lines = [
        {
            "line_id": "a",
            "unit_price": 39000,
            "quantity": 2,
            "refunded_quantity": 0,
            "product_id": "shirt",
            "product_name": "Shirt",
        },
        {
            "line_id": "b",
            "unit_price": 41000,
            "quantity": 1,
            "refunded_quantity": 0,
            "product_id": "coat",
            "product_name": "Coat",
        },
    ]
    discount = 11111
    total = sum(line["unit_price"] * line["quantity"] for line in lines) - discount
    refunds = []
    for line_id in ("a", "b", "a"):
        refunds.append(domain.refund_amount(lines, [{"line_id": line_id, "quantity": 1}], discount))
        lines = [
            {**line, "refunded_quantity": line["refunded_quantity"] + (line["line_id"] == line_id)} for line in lines
        ]
    assert refunds[0] < 39000 and refunds[1] < 41000 and sum(refunds) == total
    assert domain.refund_amount(lines, [], 0) == 0
    assert domain.order_id_of(domain.new_hold_id()).version == 4
    hold_id = domain.new_hold_id()
    assert domain.redemption_key(hold_id) == f"order:{domain.order_id_of(hold_id)}"
    assert coupons.hold_coupon(None, None, "c1", domain.redemption_key(hold_id)) is None
    with pytest.raises(ValidationFailed):
        coupons.check_one_coupon("CODE1", "some-id")
