"""Reservation events carry what their kind means (issue 19); partners' webhook
bodies keep every field they had when one model carried them all."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chassis.contracts import (
    PAYLOADS,
    RESERVATION_PAYLOADS,
    CustomerErased,
    ReservationCancelled,
    ReservationEvent,
    read_payload,
    validate_payload,
    webhook_data,
)

# The fields of a reservation webhook's ``data`` before issue 19, for every kind.
WEBHOOK_FIELDS_BEFORE_SPLIT = {
    "partner_id",
    "reservation_number",
    "product_id",
    "product_name",
    "customer_id",
    "status",
    "holder_customer_id",
    "use_date",
    "use_time",
    "total",
    "lines",
    "booker_name_masked",
    "customer_name_masked",
    "reason",
    "actor",
    "refund_amount",
    "fee_amount",
    "previous_date",
    "previous_time",
    "to_customer_id",
    "invitation_id",
    "conversation_id",
    "payment",
    "partial",
    "cancelled_lines",
    "coupon_id",
    "discount_amount",
    "review_id",
    "rating",
    "review_text",
    "reply_text",
}

BOOKING = {
    "partner_id": "p-1",
    "reservation_number": "R7K2Q9",
    "product_id": "prod-1",
    "product_name": "Haircut",
    "customer_id": "c-1",
    "status": "cancelled",
    "total": 20000,
    "lines": [{"price_id": "adult", "label": "Adult", "quantity": 1, "unit_price": 20000}],
    "actor": "customer",
}


def test_every_reservation_event_type_has_its_own_model_and_every_model_its_meaning():
    kinds = {t for t in PAYLOADS if t.startswith("reservation.")}
    assert kinds == set(RESERVATION_PAYLOADS)
    assert all(issubclass(model, ReservationEvent) for model in RESERVATION_PAYLOADS.values())
    assert "cancelled_lines" in ReservationCancelled.model_fields
    assert "cancelled_lines" not in RESERVATION_PAYLOADS["reservation.confirmed"].model_fields
    assert {"previous_date", "previous_time"} <= set(RESERVATION_PAYLOADS["reservation.date_changed"].model_fields)
    assert "review_text" in RESERVATION_PAYLOADS["reservation.review_replied"].model_fields
    assert "fee_amount" in RESERVATION_PAYLOADS["reservation.no_show"].model_fields  # R-CAT-6


@pytest.mark.parametrize("event_type", sorted(RESERVATION_PAYLOADS))
def test_a_webhook_body_keeps_every_field_it_had_before_the_split(event_type):
    body = {k: v for k, v in BOOKING.items() if k in RESERVATION_PAYLOADS[event_type].model_fields}
    data = webhook_data(event_type, validate_payload(event_type, body))
    assert set(data) == WEBHOOK_FIELDS_BEFORE_SPLIT
    foreign = set(data) - set(RESERVATION_PAYLOADS[event_type].model_fields)
    assert all(data[k] in (None, 0, False, []) for k in foreign), "another kind's field at its neutral value"


def test_a_body_written_before_the_split_is_still_read_but_another_kinds_value_is_refused():
    """Events in an outbox or a queue at deploy time carry every field."""
    legacy = {**webhook_data("reservation.confirmed", {}), **BOOKING, "status": "confirmed"}
    confirmed = read_payload("reservation.confirmed", legacy)
    assert "cancelled_lines" not in confirmed.model_dump()
    with pytest.raises(ValidationError, match="review_text"):
        read_payload("reservation.confirmed", {**legacy, "review_text": "great"})


def test_read_payload_types_the_answer_and_refuses_another_shape():
    cancelled = read_payload("reservation.cancelled", {**BOOKING, "fee_amount": 3000}, ReservationCancelled)
    assert cancelled.fee_amount == 3000 and cancelled.lines[0].unit_price == 20000
    with pytest.raises(TypeError, match="CustomerErased"):
        read_payload("reservation.cancelled", BOOKING, CustomerErased)


def test_other_events_webhook_data_is_their_payload():
    payload = {"customer_id": "c-1", "pseudonym": "anon-1", "phone_key": None}
    assert webhook_data("customer.erased", payload) is payload
