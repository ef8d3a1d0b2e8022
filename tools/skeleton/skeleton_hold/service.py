"""The holding half of the booking skeleton (tools/skeleton/README.md): one
transaction takes capacity and writes the hold, as the catalog's hold does."""

from __future__ import annotations

from chassis.errors import Conflict
from chassis.service import DataService, rpc

SLOT_CAPACITY = 1_000_000  # the bench measures the path, never a refusal


class SkeletonHoldService(DataService):
    name = "skeleton_hold"

    @rpc
    def hold(self, hold_id: str, slot: str, quantity: int) -> dict:
        with self.db.transaction() as uow:
            taken = uow.fetch_one(
                """INSERT INTO slots (slot, capacity, taken) VALUES (%s, %s, %s)
                   ON CONFLICT (slot) DO UPDATE SET taken = slots.taken + EXCLUDED.taken
                   WHERE slots.taken + EXCLUDED.taken <= slots.capacity RETURNING taken""",
                (slot, SLOT_CAPACITY, quantity),
            )
            if taken is None:
                raise Conflict("capacity_exhausted", "no capacity left", {"slot": slot})
            uow.execute("INSERT INTO holds (hold_id, slot, quantity) VALUES (%s, %s, %s)", (hold_id, slot, quantity))
        return {"hold_id": hold_id, "status": "held", "taken": taken["taken"]}
