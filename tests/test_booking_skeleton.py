"""The booking skeleton that `make bench` measures as the floor of today's design
(tools/skeleton/README.md, issue 20) still books: the bench is not in CI, so this
keeps its two services from rotting unnoticed."""

import uuid
from pathlib import Path

import psycopg
import pytest

from chassis.errors import Conflict
from chassis.testing import eventually

SKELETON = Path(__file__).resolve().parents[1] / "tools" / "skeleton"
BODY = {
    "product_id": "p-1",
    "date": "2026-12-08",
    "time": "11:00",
    "lines": [{"price_id": "pr-1", "quantity": 2}],
    "booker": {"name": "김다온", "phone": "010-1234-5678"},
}


def test_a_skeleton_booking_takes_capacity_once_per_key_and_publishes_its_event(run_service, rpc):
    front = run_service(str(SKELETON / "skeleton_booking"))
    holder = run_service(str(SKELETON / "skeleton_hold"))
    customer, key = str(uuid.uuid4()), uuid.uuid4().hex

    booked = rpc.skeleton_booking.book(customer, BODY, key)
    with pytest.raises(Conflict):  # the key's second use takes nothing
        rpc.skeleton_booking.book(customer, BODY, key)

    assert booked["status"] == "requested"
    assert booked["slot"] == "p-1/2026-12-08/11:00:00"
    with psycopg.connect(holder.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT taken FROM slots").fetchall() == [(2,)]
        assert conn.execute("SELECT hold_id FROM holds").fetchall() == [(booked["hold_id"],)]
    with psycopg.connect(front.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT state, quantity FROM intents JOIN bookings USING (intent_id)").fetchall() == [
            ("done", 2)
        ]
        eventually(
            lambda: conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL").fetchone() == (1,),
            message="the booking's event published by the relay",
        )


def test_the_skeleton_holding_capacity_itself_books_in_one_transaction_and_refuses_what_is_not_left(run_service, rpc):
    front = run_service(str(SKELETON / "skeleton_booking"), SKELETON_CAPACITY=3)
    customer = str(uuid.uuid4())

    booked = rpc.skeleton_booking.book_holding_here(customer, BODY, "first")
    with pytest.raises(Conflict) as refused:  # 2 taken of 3: two more are not left
        rpc.skeleton_booking.book_holding_here(customer, BODY, "second")

    assert booked["status"] == "requested" and refused.value.code == "capacity_exhausted"
    with psycopg.connect(front.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT taken FROM slots").fetchall() == [(2,)]
        # the refused booking's key claim rolled back with it: only the first key is there
        assert conn.execute("SELECT idempotency_key, state FROM intents").fetchall() == [("first", "done")]
        eventually(
            lambda: conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL").fetchone() == (1,),
            message="the booking's event published by the relay",
        )
