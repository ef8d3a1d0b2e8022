"""The front half of the booking skeleton (tools/skeleton/README.md): a booking's
transactions, hop and event, in the order reservations makes them, and no rule."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from chassis import idempotency
from chassis.service import DataService, rpc
from chassis.validation import parse, require_id
from contract.reservations import ReservationCreate

# A registered event type with a subscriber (the chassis probe's handler), so the relay
# publishes it as it publishes reservation.requested; nothing in the bench consumes it.
EVENT = "chassis.probed"


class SkeletonBookingService(DataService):
    name = "skeleton_booking"

    @rpc
    def book(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        customer_id = require_id(customer_id, "customer_id")
        key = idempotency.check_key(idempotency_key, "a reservation")
        request = parse(ReservationCreate, body)
        intent_id = self._claim(customer_id, key)
        slot = f"{request.product_id}/{request.date}/{request.time}"
        quantity = sum(line.quantity for line in request.lines)
        hold = self.services.skeleton_hold.hold(f"{intent_id}:1", slot, quantity)
        return self._record(intent_id, slot, quantity, hold)

    def _claim(self, customer_id: str, key: str) -> int:
        with self.db.transaction() as uow:
            row = uow.fetch_one(
                """INSERT INTO intents (customer_id, idempotency_key) VALUES (%s, %s)
                   ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING intent_id""",
                (customer_id, key),
            )
        if row is None:
            raise idempotency.key_reused()
        intent_id: int = row["intent_id"]
        return intent_id

    def _record(self, intent_id: int, slot: str, quantity: int, hold: dict) -> dict[str, Any]:
        response = {"number": str(intent_id), "status": "requested", "slot": slot, "hold_id": hold["hold_id"]}
        with self.db.transaction() as uow:
            uow.execute(
                """WITH done AS (UPDATE intents SET state = 'done', response = %s
                                 WHERE intent_id = %s AND state = 'pending' RETURNING intent_id)
                   INSERT INTO bookings (intent_id, slot, quantity) SELECT intent_id, %s, %s FROM done""",
                (Jsonb(response), intent_id, slot, quantity),
            )
            uow.publish(EVENT, {"probe_id": f"skeleton-{intent_id}", "note": slot})
        return response
