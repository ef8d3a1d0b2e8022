"""The front half of the booking skeleton (tools/skeleton/README.md): a booking's
transactions, hop and event, in the order reservations makes them, and no rule."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from chassis import idempotency
from chassis.errors import Conflict
from chassis.service import DataService, rpc
from chassis.validation import parse, require_id
from contract.reservations import ReservationCreate

# A registered event type with a subscriber (the chassis probe's handler), so the relay
# publishes it as it publishes reservation.requested; nothing in the bench consumes it.
EVENT = "chassis.probed"
DEFAULT_CAPACITY = 1_000_000  # per slot: the bench measures the path, never a refusal


class SkeletonBookingService(DataService):
    name = "skeleton_booking"

    @rpc
    def book(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """Today's design: the key claimed, capacity held by another service, the booking recorded."""
        customer_id, key, slot, quantity = self._request(customer_id, body, idempotency_key)
        with self.db.statement() as uow:  # as reservations claims the key
            intent_id = claim(uow, customer_id, key)
        hold = self.services.skeleton_hold.hold(f"{intent_id}:1", slot, quantity)
        return self._record(intent_id, slot, quantity, hold)

    @rpc
    def book_holding_here(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """The other design: this service keeps the capacity, so one transaction claims
        the key, takes the capacity and records the booking, and no second hop is made."""
        customer_id, key, slot, quantity = self._request(customer_id, body, idempotency_key)
        with self.db.transaction() as uow:
            intent_id = claim(uow, customer_id, key)
            response = booked_response(intent_id, slot, None)
            booked = uow.fetch_one(
                """WITH taken AS (
                       INSERT INTO slots (slot, capacity, taken) VALUES (%(slot)s, %(capacity)s, %(quantity)s)
                       ON CONFLICT (slot) DO UPDATE SET taken = slots.taken + EXCLUDED.taken
                       WHERE slots.taken + EXCLUDED.taken <= slots.capacity RETURNING slot),
                   done AS (
                       UPDATE intents SET state = 'done', response = %(response)s
                       WHERE intent_id = %(intent_id)s AND EXISTS (SELECT 1 FROM taken) RETURNING intent_id)
                   INSERT INTO bookings (intent_id, slot, quantity)
                   SELECT intent_id, %(slot)s, %(quantity)s FROM done RETURNING intent_id""",
                {
                    "slot": slot,
                    "capacity": int(self.config.get("SKELETON_CAPACITY", DEFAULT_CAPACITY)),
                    "quantity": quantity,
                    "response": Jsonb(response),
                    "intent_id": intent_id,
                },
            )
            if booked is None:
                raise Conflict("capacity_exhausted", "no capacity left", {"slot": slot})  # the claim rolls back too
            publish_booked(uow, intent_id, slot)
        return response

    @staticmethod
    def _request(customer_id: str, body: dict, idempotency_key: str | None) -> tuple[str, str, str, int]:
        customer_id = require_id(customer_id, "customer_id")
        key = idempotency.check_key(idempotency_key, "a reservation")
        request = parse(ReservationCreate, body)
        slot = f"{request.product_id}/{request.date}/{request.time}"
        return customer_id, key, slot, sum(line.quantity for line in request.lines)

    def _record(self, intent_id: int, slot: str, quantity: int, hold: dict) -> dict[str, Any]:
        response = booked_response(intent_id, slot, hold["hold_id"])
        with self.db.transaction() as uow:
            uow.execute(
                """WITH done AS (UPDATE intents SET state = 'done', response = %s
                                 WHERE intent_id = %s AND state = 'pending' RETURNING intent_id)
                   INSERT INTO bookings (intent_id, slot, quantity) SELECT intent_id, %s, %s FROM done""",
                (Jsonb(response), intent_id, slot, quantity),
            )
            publish_booked(uow, intent_id, slot)
        return response


def claim(uow: Any, customer_id: str, key: str) -> int:
    """The Idempotency-Key's row; a key used before is refused (the skeleton never replays)."""
    row = uow.fetch_one(
        """INSERT INTO intents (customer_id, idempotency_key) VALUES (%s, %s)
           ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING intent_id""",
        (customer_id, key),
    )
    if row is None:
        raise idempotency.key_reused()
    intent_id: int = row["intent_id"]
    return intent_id


def booked_response(intent_id: int, slot: str, hold_id: str | None) -> dict[str, Any]:
    return {"number": str(intent_id), "status": "requested", "slot": slot, "hold_id": hold_id}


def publish_booked(uow: Any, intent_id: int, slot: str) -> None:
    """The booking's event, into the outbox of the transaction that records it."""
    uow.publish(EVENT, {"probe_id": f"skeleton-{intent_id}", "note": slot})
