"""Reviews of completed reservations through the gateway (R-RSV-6, R-CAT-6,
issue #11): the booker reviews once a reservation completed by the partner or
by the timer; refusals (not completed, not theirs, twice, bad bodies); the
Idempotency-Key; the partner replies once on the route that also replies to
order reviews (R-ORD-9); the events in the outbox; erasure of the reviewer
and of the replying staff member."""

import datetime as dt
import uuid

from chassis.privacy import pseudonym
from chassis.testing import eventually
from chassis.tests.broker import erasure, publish_envelope
from chassis.partner_time import PARTNER_TIME_ZONE
from support.api import assert_error, expect

from .helpers import booked, day, db_rows, live_product, outbox


def reviews_of(number: str) -> str:
    return f"/v1/shop/reservations/{number}/reviews"


def a_completed_order_review(pc, customer) -> tuple:
    """A cafe whose customer reviewed a completed takeout order (R-ORD-9): (cafe, review)."""
    cafe = pc.create_partner(category="cafe")
    admin = cafe.admin.client
    draft = expect(
        admin.post(
            f"{cafe.path}/products",
            json={
                "kind": "goods",
                "goods_type": "menu",
                "name": "Americano",
                "options": [{"label": "regular", "amount": 4500}],
            },
        ),
        201,
    )
    revision = expect(admin.post(f"{cafe.path}/products/{draft['product_id']}/submit"), 201)
    expect(pc.operator().client.post(f"/v1/ops/reviews/{revision['revision_id']}/approve"), 200)
    order = expect(
        customer.client.post(
            "/v1/shop/orders",
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json={
                "partner_id": cafe.partner_id,
                "channel": "takeout",
                "lines": [{"product_id": draft["product_id"], "quantity": 1}],
            },
        ),
        201,
    )
    for action in ("start-preparing", "complete"):
        expect(admin.post(f"{cafe.path}/orders/{order['order_id']}/{action}"), 200)
    review = expect(
        customer.client.post(
            f"/v1/shop/orders/{order['order_id']}/reviews",
            json={"line_id": order["lines"][0]["line_id"], "rating": 4, "body": "Good coffee"},
        ),
        201,
    )
    return cafe, review


def test_r_rsv_6_r_cat_6_completed_reservations_reviewed_once_and_replied_once_on_the_shared_route(partner_center, rpc):
    pc = partner_center("catalog", "reservations", "orders")
    url = pc.containers["reservations"].config["DATABASE_URL"]
    partner = pc.create_partner(category="salon")
    staff = pc.staff(partner, "member")
    # Unpaid and confirmed at once: completed by the partner, or by the timer after the use date (R-CAT-6).
    product = live_product(
        pc, partner, slots=[{"date": day(1), "time": "10:00", "capacity": 5}], settings={"confirmation": "auto"}
    )
    customer, stranger = pc.customer_session(), pc.customer_session()
    visited = booked(customer, product, date=day(1))["number"]
    auto = booked(customer, product, date=day(1))["number"]
    good = {"rating": 5, "body": "Great cut"}

    # Not completed yet: 409 naming the current state; nothing written.
    error = assert_error(customer.client.post(reviews_of(visited), json=good), 409, "review_not_allowed")
    assert error["details"] == {"number": visited, "status": "confirmed"}
    expect(staff.client.post(f"{partner.path}/reservations/{visited}/complete"), 200)  # R-RSV-6
    # Another customer's or an unknown reservation: 404, as if it did not exist.
    assert_error(stranger.client.post(reviews_of(visited), json=good), 404, "reservation_not_found")
    assert_error(customer.client.post(reviews_of("ZZZZZZZZZZ"), json=good), 404, "reservation_not_found")
    # Bad bodies: 422 naming the field.
    for bad, field in (
        ({"rating": 6, "body": "x"}, "rating"),
        ({"rating": 0, "body": "x"}, "rating"),
        ({"rating": 5}, "body"),
        ({"rating": 5, "body": "  "}, "body"),
        ({**good, "customer_id": "c-1"}, "customer_id"),
        ({**good, "body": "a\x00b"}, "body"),
    ):
        assert field in assert_error(customer.client.post(reviews_of(visited), json=bad), 422)["details"]["fields"], bad
    assert db_rows(url, "SELECT count(*) FROM reviews") == [(0,)]

    # Reviewed once; the same Idempotency-Key and body answer the first response, another body 409.
    key = {"Idempotency-Key": "review-1"}
    review = expect(customer.client.post(reviews_of(visited.lower()), json=good, headers=key), 201)
    assert (
        review["number"],
        review["product_id"],
        review["rating"],
        review["body"],
        review["reply"],
        review["replied_at"],
    ) == (visited, product["product_id"], 5, "Great cut", None, None)
    assert expect(customer.client.post(reviews_of(visited), json=good, headers=key), 201) == review
    assert_error(
        customer.client.post(reviews_of(visited), json={**good, "rating": 4}, headers=key),
        409,
        "idempotency_key_reused",
    )
    assert_error(customer.client.post(reviews_of(auto), json=good, headers=key), 409, "idempotency_key_reused")
    error = assert_error(
        customer.client.post(reviews_of(visited), json={"rating": 1, "body": "changed my mind"}), 409, "review_exists"
    )
    assert error["details"] == {"number": visited}

    # R-CAT-6: the timer completes the unpaid booking the day after its use date; then it can be reviewed.
    assert_error(customer.client.post(reviews_of(auto), json=good), 409, "review_not_allowed")
    day_after_use = dt.datetime.combine(dt.date.fromisoformat(day(2)), dt.time(1, 0), PARTNER_TIME_ZONE)
    assert rpc.reservations.run_timers({"as_of": day_after_use.isoformat()})["completed"] == 1
    later = expect(customer.client.post(reviews_of(auto), json={"rating": 3, "body": "Fine"}), 201)
    assert (later["number"], later["rating"]) == (auto, 3)

    # The partner replies once; another partner's staff or an unknown id: 404; a bad body: 422.
    cafe, order_review = a_completed_order_review(pc, customer)
    reply = f"{partner.path}/reviews/{review['review_id']}/reply"
    assert_error(
        cafe.admin.client.post(f"{cafe.path}/reviews/{review['review_id']}/reply", json={"body": "x"}),
        404,
        "review_not_found",
    )
    assert_error(
        staff.client.post(f"{partner.path}/reviews/{uuid.uuid4()}/reply", json={"body": "x"}), 404, "review_not_found"
    )
    assert_error(
        staff.client.post(f"{partner.path}/reviews/not-an-id/reply", json={"body": "x"}), 404, "review_not_found"
    )
    assert "body" in assert_error(staff.client.post(reply, json={"body": ""}), 422)["details"]["fields"]
    answered = expect(staff.client.post(reply, json={"body": "Thank you!"}), 200)
    assert (answered["review_id"], answered["number"], answered["body"], answered["reply"]) == (
        review["review_id"],
        visited,
        "Great cut",
        "Thank you!",
    ) and answered["replied_at"]
    error = assert_error(partner.admin.client.post(reply, json={"body": "Again"}), 409, "already_replied")
    assert error["details"] == {"id": review["review_id"]}
    assert expect(customer.client.post(reviews_of(visited), json=good, headers=key), 201) == review  # first answer

    # The same route replies to an order's review (R-ORD-9), with the same view shape and codes.
    assert set(order_review) - {"order_id", "line_id"} == set(review) - {"number", "product_id"}
    order_reply = f"{cafe.path}/reviews/{order_review['review_id']}/reply"
    assert_error(
        staff.client.post(f"{partner.path}/reviews/{order_review['review_id']}/reply", json={"body": "x"}),
        404,
        "review_not_found",
    )
    replied_order = expect(cafe.admin.client.post(order_reply, json={"body": "Come again"}), 200)
    assert (replied_order["review_id"], replied_order["reply"]) == (order_review["review_id"], "Come again")
    assert_error(cafe.admin.client.post(order_reply, json={"body": "x"}), 409, "already_replied")

    # The events, through the outbox, with what notifications and insights read.
    fields = (
        "type",
        "reservation_number",
        "review_id",
        "rating",
        "review_text",
        "reply_text",
        "product_id",
        "customer_id",
        "actor",
    )
    events = [tuple(e[f] for f in fields) for e in outbox(url) if e["type"].startswith("reservation.review_")]
    assert events == [
        (
            "reservation.review_posted",
            visited,
            review["review_id"],
            5,
            "Great cut",
            None,
            product["product_id"],
            customer.customer_id,
            "customer",
        ),
        (
            "reservation.review_posted",
            auto,
            later["review_id"],
            3,
            "Fine",
            None,
            product["product_id"],
            customer.customer_id,
            "customer",
        ),
        (
            "reservation.review_replied",
            visited,
            review["review_id"],
            5,
            "Great cut",
            "Thank you!",
            product["product_id"],
            customer.customer_id,
            "partner",
        ),
    ]

    # Erasure: the reviewer and the replying member become pseudonyms; rating and text stay.
    amqp = pc.containers["reservations"].config["AMQP_URI"]
    erased, withdrawn = pseudonym("customer", customer.customer_id), pseudonym("member", staff.member_id)
    publish_envelope(amqp, erasure("customer", customer.customer_id))
    publish_envelope(amqp, erasure("member", staff.member_id))
    query = "SELECT customer_id, replied_by, request_key, rating, body FROM reviews ORDER BY created_at"
    eventually(
        lambda: db_rows(url, query) == [(erased, withdrawn, None, 5, "Great cut"), (erased, None, None, 3, "Fine")],
        message="reviewer and replier pseudonymised",
    )
    assert_error(customer.client.post(reviews_of(visited), json=good, headers=key), 404, "reservation_not_found")
