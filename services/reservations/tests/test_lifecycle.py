"""The booking lifecycle through the gateway (R-RSV-1, R-RSV-2, R-RSV-6, R-RSV-7):
booking with Idempotency-Key, partner actions on whole reservations, invalid
transitions, tenancy, roles, and the events notifications and settlement read."""

import re

from nameko.standalone.rpc import ClusterRpcProxy

from support.api import assert_error, expect

from .helpers import book, booked, booking_body, day, live_product, outbox


def test_r_rsv_1_2_6_7_booking_confirm_complete_reject_cancel_through_the_gateway(partner_center):
    pc = partner_center("catalog", "reservations")
    partner = pc.create_partner(category="salon")
    product = live_product(pc, partner)
    url = pc.containers["reservations"].config["DATABASE_URL"]
    customer = pc.customer_session(name="김다온", phone="010-1234-5678")

    # Idempotency-Key is required; bad bodies are 422 naming the field, never a 5xx.
    error = assert_error(
        customer.client.post("/v1/shop/reservations", json=booking_body(product)), 422, "idempotency_key_required"
    )
    assert "Idempotency-Key" in error["details"]["fields"]
    error = assert_error(book(customer, product, quantities=(0,)), 422)
    assert "lines" in error["details"]["fields"]
    bad = {**booking_body(product), "status": "confirmed"}
    assert (
        "status"
        in assert_error(
            customer.client.post("/v1/shop/reservations", json=bad, headers={"Idempotency-Key": "k-bad"}), 422
        )["details"]["fields"]
    )

    # R-RSV-1: a manual product's booking waits for confirmation; prices come from the approved version.
    first = booked(customer, product, key="k-1", quantities=(2, 1))
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{10}", first["number"])
    assert (first["status"], first["total"], first["date"], first["time"]) == ("requested", 75000, day(), "10:00")
    assert first["cancel_deadline"].startswith(day(2) + "T10:00") and first["booker"]["phone"] == "010-1234-5678"
    # Replays of the key are test_use_cases' (in memory) and test_resilience's (50 copies at once).

    admin, member = partner.admin, pc.staff(partner, "member")
    path = f"{partner.path}/reservations/{first['number']}"
    listed = expect(member.client.get(f"{partner.path}/reservations?status=requested"), 200)
    assert [r["number"] for r in listed["items"]] == [first["number"]] and listed["next_cursor"] is None
    seen = listed["items"][0]
    assert seen["booker"] == {"name": "김다온", "phone": "010-****-5678"}  # masked for staff

    # R-RSV-2: whole reservations; invalid transitions name the current state.
    assert expect(member.client.post(f"{path}/confirm"), 200)["status"] == "confirmed"
    error = assert_error(member.client.post(f"{path}/confirm"), 409, "invalid_state")
    assert error["details"]["status"] == "confirmed"
    assert_error(member.client.post(f"{path}/reject", json={"reason": "full"}), 409, "invalid_state")
    assert_error(member.client.post(f"{path}/no-show"), 409, "no_show_not_allowed")  # unpaid product (R-CAT-6)
    # R-RSV-6: completed after the visit.
    done = expect(member.client.post(f"{path}/complete"), 200)
    assert done["status"] == "completed"
    assert [h["action"] for h in expect(admin.client.get(path), 200)["history"]] == ["booked", "confirm", "complete"]

    # Reject needs a reason; reject and partner cancel free the seats.
    second = booked(customer, product, quantities=(1, 0))
    third = booked(customer, product, quantities=(1, 0))
    reject = f"{partner.path}/reservations/{second['number']}/reject"
    assert "reason" in assert_error(member.client.post(reject, json={}), 422)["details"]["fields"]
    rejected = expect(member.client.post(reject, json={"reason": "closed that day"}), 200)
    assert (rejected["status"], rejected["reason"]) == ("rejected", "closed that day")
    cancelled = expect(
        admin.client.post(f"{partner.path}/reservations/{third['number']}/cancel", json={"reason": "staff ill"}), 200
    )
    assert cancelled["status"] == "cancelled"
    board = expect(
        admin.client.get(
            f"{partner.path}/reservation-board?product_id={product['product_id']}&from={day()}&to={day()}"
        ),
        200,
    )
    slot = board["slots"][0]
    assert (slot["completed"], slot["requested"], slot["confirmed"], slot["remaining"]) == (1, 0, 0, 2)

    # Booking settings: the defaults until the partner sets some (REQUEST_TTL_HOURS is 24).
    settings = expect(admin.client.get(f"{partner.path}/products/{product['product_id']}/booking-settings"), 200)
    assert (settings["confirmation"], settings["allow_partial_cancel"], settings["request_ttl_hours"]) == (
        "manual",
        True,
        24,
    )

    # Tenancy and roles: another partner, another customer, the wrong kind of caller.
    other = pc.create_partner(category="salon")
    assert_error(other.admin.client.get(f"{other.path}/reservations/{first['number']}"), 404, "reservation_not_found")
    assert_error(
        other.admin.client.post(f"{other.path}/reservations/{first['number']}/cancel", json={"reason": "x"}),
        404,
        "reservation_not_found",
    )
    # Another partner's product has no settings to read or write here (the catalog says whose it is).
    assert_error(
        other.admin.client.put(
            f"{other.path}/products/{product['product_id']}/booking-settings", json={"confirmation": "manual"}
        ),
        404,
        "product_not_found",
    )
    stranger = pc.customer_session()
    assert_error(stranger.client.get(f"/v1/shop/reservations/{first['number']}"), 404)
    assert_error(stranger.client.post(f"/v1/shop/reservations/{third['number']}/cancel", json={}), 404)
    assert_error(customer.client.get(f"{partner.path}/reservations"), 403)
    assert_error(
        member.client.post("/v1/shop/reservations", json=booking_body(product), headers={"Idempotency-Key": "k-m"}), 403
    )
    assert_error(
        member.client.put(
            f"{partner.path}/products/{product['product_id']}/booking-settings", json={"confirmation": "auto"}
        ),
        403,
    )
    assert [r["number"] for r in expect(customer.client.get("/v1/shop/reservations"), 200)["items"]] == [
        third["number"],
        second["number"],
        first["number"],
    ]

    # R-RSV-7 and settlement: one event per transition, complete for its readers, no phone in clear.
    kinds = [(e["type"], e["actor"]) for e in outbox(url, number=first["number"])]
    assert kinds == [
        ("reservation.requested", "customer"),
        ("reservation.confirmed", "partner"),
        ("reservation.completed", "partner"),
    ]
    completed = outbox(url, "reservation.completed")[0]
    assert completed["total"] == 75000 and completed["booker_name_masked"] == "김*온"
    assert completed["lines"] == [
        {"price_id": product["price_ids"][0], "label": "adult", "quantity": 2, "unit_price": 30000},
        {"price_id": product["price_ids"][1], "label": "child", "quantity": 1, "unit_price": 15000},
    ]
    assert "5678" not in str(outbox(url))
    assert outbox(url, "reservation.rejected")[0]["reason"] == "closed that day"
    with ClusterRpcProxy({"AMQP_URI": pc.containers["reservations"].config["AMQP_URI"]}) as rpc:
        totals = rpc.reservations.settlement_totals(partner.partner_id, day(-1), day(1))
    assert totals == {partner.partner_id: {"sales": 75000, "fees": 0, "refunds": 0, "sales_count": 1, "fees_count": 0}}
