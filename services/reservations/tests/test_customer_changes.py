"""A customer's cancellation (R-RSV-4) and date change (R-RSV-5) through the
gateway: every refusal code, refunds and fees from the policy as sold, and
capacity going back to the catalog (the board shows it)."""

from nameko.standalone.rpc import ClusterRpcProxy

from support.api import assert_error, expect

from .helpers import booked, day, live_product, outbox

PREPAID = {"payment": "prepaid"}


def confirmed(partner, reservation: dict) -> dict:
    expect(partner.admin.client.post(f"{partner.path}/reservations/{reservation['number']}/confirm"), 200)
    return reservation


def remaining(partner, product, date=None, time="10:00") -> int:
    board = expect(
        partner.admin.client.get(
            f"{partner.path}/reservation-board?product_id={product['product_id']}&from={date or day()}"
            f"&to={date or day()}"
        ),
        200,
    )
    return next(s["remaining"] for s in board["slots"] if s["time"] == time)


def test_r_rsv_4_cancellation_refunds_by_the_policy_as_sold_and_refuses_with_each_reason(partner_center):
    pc = partner_center("catalog", "reservations")
    partner = pc.create_partner(category="exhibition")
    customer = pc.customer_session()
    # Less than 10 days before the use, cancelling costs 20% (the booking is 3 days ahead).
    tiered = live_product(
        pc,
        partner,
        name="Tiered",
        **PREPAID,
        settings={"allow_partial_cancel": False},
        cancel_policy={"deadline_hours_before": 24, "fee_tiers": [{"hours_before": 240, "fee_percent": 20}]},
    )
    whole = booked(customer, tiered, quantities=(2, 0))
    path = f"/v1/shop/reservations/{whole['number']}"
    assert remaining(partner, tiered) == 3
    # Still requested: the partner has not committed, so cancelling would be free (issue 17 item 5).
    quote = expect(customer.client.get(f"{path}/cancellation-quote"), 200)
    assert (quote["allowed"], quote["fee"], quote["refund"]) == (True, 0, 60000)
    confirmed(partner, whole)

    refused = assert_error(
        customer.client.post(f"{path}/cancel", json={"lines": [{"line": 0, "quantity": 1}]}),
        409,
        "partial_cancel_not_allowed",
    )
    assert refused["details"]["number"] == whole["number"]
    quote = expect(customer.client.get(f"{path}/cancellation-quote"), 200)
    assert (quote["allowed"], quote["fee"], quote["refund"]) == (True, 12000, 48000)
    changed = assert_error(customer.client.post(f"{path}/cancel", json={"expected_fee": 0}), 409, "fee_changed")
    assert changed["details"]["fee"] == 12000
    assert_error(customer.client.post(f"{path}/cancel", json={"lines": [{"line": 7, "quantity": 1}]}), 422)
    done = expect(customer.client.post(f"{path}/cancel", json={"expected_fee": 12000, "reason": "plans changed"}), 200)
    assert (done["status"], done["refund_amount"], done["fee_amount"]) == ("cancelled", 48000, 12000)
    assert done["cancellation"] == {
        "partial": False,
        "amount": 60000,
        "refund": 48000,
        "fee": 12000,
        "lines": [{"line": 0, "quantity": 2}],
    }
    assert remaining(partner, tiered) == 5  # the catalog took the seats back
    assert_error(customer.client.post(f"{path}/cancel", json={}), 409, "not_cancellable_state")
    quote = expect(customer.client.get(f"{path}/cancellation-quote"), 200)
    assert (quote["allowed"], quote["reason"]) == (False, "not_cancellable_state")

    # Past the deadline (30 days before the use), and a sale that was final.
    late = live_product(pc, partner, name="Late", **PREPAID, cancel_policy={"deadline_hours_before": 720})
    late_booking = confirmed(partner, booked(customer, late))
    error = assert_error(
        customer.client.post(f"/v1/shop/reservations/{late_booking['number']}/cancel", json={}), 409, "deadline_passed"
    )
    assert error["details"]["cancel_deadline"]
    final = live_product(
        pc, partner, name="Final", **PREPAID, cancel_policy={"deadline_hours_before": 1, "non_refundable": True}
    )
    final_booking = confirmed(partner, booked(customer, final))
    assert final_booking["cancel_deadline"] is None  # no deadline would open it (issue 17 item 6)
    assert (
        expect(customer.client.get(f"/v1/shop/reservations/{final_booking['number']}"), 200)["cancel_deadline"] is None
    )
    assert_error(
        customer.client.post(f"/v1/shop/reservations/{final_booking['number']}/cancel", json={}), 409, "non_refundable"
    )

    # Partial cancellation where allowed: the fee is on the part, the seat comes back, the booking stays.
    partial = live_product(
        pc,
        partner,
        name="Partial",
        **PREPAID,
        cancel_policy={"deadline_hours_before": 24, "fee_tiers": [{"hours_before": 240, "fee_percent": 20}]},
    )
    family = confirmed(partner, booked(customer, partial, quantities=(2, 1)))
    part = expect(
        customer.client.post(
            f"/v1/shop/reservations/{family['number']}/cancel", json={"lines": [{"line": 1, "quantity": 1}]}
        ),
        200,
    )
    assert (part["status"], part["total"], part["cancellation"]["fee"], part["cancellation"]["refund"]) == (
        "confirmed",
        60000,
        3000,
        12000,
    )
    assert [(line["quantity"], line["cancelled"]) for line in part["lines"]] == [(2, 0), (0, 1)]
    assert remaining(partner, partial) == 3
    event = outbox(pc.containers["reservations"].config["DATABASE_URL"], "reservation.cancelled", family["number"])[0]
    assert (event["partial"], event["fee_amount"], event["refund_amount"], event["actor"]) == (
        True,
        3000,
        12000,
        "customer",
    )
    assert event["cancelled_lines"] == [
        {"price_id": partial["price_ids"][1], "label": "child", "quantity": 1, "unit_price": 15000}
    ]
    with ClusterRpcProxy({"AMQP_URI": pc.containers["reservations"].config["AMQP_URI"]}) as rpc:
        assert rpc.reservations.settlement_totals(None, day(0), day(0))[partner.partner_id] == {
            "sales": 0,
            "fees": 15000,
            "refunds": 0,
            "sales_count": 0,
            "fees_count": 2,
        }


def test_r_rsv_5_date_change_holds_the_new_slot_first_and_refuses_with_each_reason(partner_center):
    pc = partner_center("catalog", "reservations")
    partner = pc.create_partner(category="salon")
    customer = pc.customer_session()
    free = [{"label": "visit", "amount": 0}]
    slots = [{"date": day(3), "time": "10:00", "capacity": 1}, {"date": day(4), "time": "10:00", "capacity": 1}]
    product = live_product(pc, partner, name="Consultation", prices=free, slots=slots)

    moved = booked(customer, product)
    path = f"/v1/shop/reservations/{moved['number']}"
    assert (
        "time"
        in assert_error(customer.client.post(f"{path}/change-date", json={"date": day(4)}), 422)["details"]["fields"]
    )
    after = expect(customer.client.post(f"{path}/change-date", json={"date": day(4), "time": "10:00"}), 200)
    assert (after["date"], after["time"], after["status"]) == (day(4), "10:00", "requested")
    assert (remaining(partner, product, day(3)), remaining(partner, product, day(4))) == (1, 0)
    event = outbox(pc.containers["reservations"].config["DATABASE_URL"], "reservation.date_changed", moved["number"])[0]
    assert (event["previous_date"], event["previous_time"], event["use_date"]) == (day(3), "10:00", day(4))

    # The refusals that need only the reservation are test_domain's, a full new slot test_use_cases';
    # the one that needs accounts is here: a partner onboarded through an agency (not_direct_listing).
    agency = pc.create_partner(category="salon", via_agency=True)
    listed = live_product(pc, agency, name="Via agency", prices=free, slots=slots)
    assert_error(
        customer.client.post(
            f"/v1/shop/reservations/{booked(customer, listed)['number']}/change-date",
            json={"date": day(5), "time": "10:00"},
        ),
        409,
        "not_direct_listing",
    )
    # Only the booker moves a booking.
    assert_error(
        pc.customer_session().client.post(f"{path}/change-date", json={"date": day(5), "time": "10:00"}),
        404,
        "reservation_not_found",
    )
