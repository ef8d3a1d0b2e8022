"""Who a channel message reaches (R-NTF-3), as insights answers notifications
(``channel_audience``; issue 19, one read model per question): the partner's
customers and the holders of a booking awaiting its visit on a day, a ticket
handed to a friend being the friend's (R-RSV-10); an older event arriving late
never moves a booking back; an erased customer is nobody's audience."""

import datetime as dt

import pytest

from chassis.envelope import Envelope
from chassis.errors import ValidationFailed
from chassis.testing import eventually
from chassis.tests.broker import publish_envelope
from notifications.tests.support import FAKE_ACCOUNTS, new_id, order, reservation, scalar

DAY = "2026-06-01"


def test_channel_audiences_follow_bookings_transfers_late_events_and_erasure(run_service, rpc, amqp_uri):
    run_service(FAKE_ACCOUNTS)
    db = run_service("insights", EVENT_RETRY_BASE_MS=100).config["DATABASE_URL"]
    partner, other = new_id("p"), new_id("p")
    booker, friend, cancelled, buyer, stranger = (new_id("c") for _ in range(5))
    now = dt.datetime.now(dt.UTC)

    def publish(event_type: str, payload: dict, minutes_ago: int) -> None:
        publish_envelope(
            amqp_uri,
            Envelope(
                type=event_type,
                source="test",
                partner_id=payload.get("partner_id"),
                occurred_at=now - dt.timedelta(minutes=minutes_ago),
                payload=payload,
            ),
        )

    handed_over = reservation(partner, booker, use_date=DAY, status="confirmed")
    publish("reservation.confirmed", handed_over, 10)
    publish("reservation.transferred", {**handed_over, "holder_customer_id": friend, "to_customer_id": friend}, 5)
    called_off = reservation(partner, cancelled, use_date=DAY, status="cancelled")
    publish("reservation.cancelled", called_off, 1)
    publish("reservation.requested", {**called_off, "status": "requested"}, 20)  # older, arriving last
    publish("order.received", order(partner, buyer), 3)
    publish("order.received", order(other, stranger), 3)
    eventually(lambda: scalar(db, "SELECT count(*) FROM inbox") == 6, timeout=30, message="events taken in")

    def audience(partner_id: str, **query) -> list[str]:
        return rpc.insights.channel_audience(partner_id, query)["customer_ids"]

    assert sorted(audience(partner, audience="all")) == sorted([booker, friend, cancelled, buyer])
    assert audience(partner, audience="booked_on", use_date=DAY) == [friend]  # not the booker, not the cancelled
    assert audience(partner, audience="customers", customer_ids=[booker, stranger]) == [booker]
    assert audience(other, audience="all") == [stranger]
    for bad, field in (
        ({"audience": "everyone"}, "audience"),
        ({"audience": "booked_on", "use_date": "soon"}, "use_date"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            audience(partner, **bad)
        assert field in refused.value.details["fields"], bad

    publish("customer.erased", {"customer_id": friend, "pseudonym": f"customer-{'0' * 16}"}, 0)
    eventually(lambda: audience(partner, audience="booked_on", use_date=DAY) == [], message="erased holder")
    assert sorted(audience(partner, audience="all")) == sorted([booker, cancelled, buyer])
