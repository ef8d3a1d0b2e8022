"""The chassis probe: a real service whose entrypoints exercise each promise."""

from __future__ import annotations

from chassis.consumer import event_handler
from chassis.errors import Conflict
from chassis.logging import get_logger
from chassis.service import DataService, rpc

log = get_logger(__name__)


class ProbeFailure(Exception):
    pass


class ChassisProbeService(DataService):
    name = "chassis_probe"

    @rpc
    def echo(self, value):
        return value

    @rpc
    def sleep_query(self, seconds: float) -> float:
        with self.db.transaction() as uow:
            uow.execute("SELECT pg_sleep(%s)", (seconds,))
        return seconds

    @rpc
    def wait_for_lock(self, key: int) -> int:
        """Holds a pooled connection until the advisory lock ``key`` (taken by a test) is free."""
        with self.db.transaction() as uow:
            uow.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        return key

    @rpc
    def record(self, probe_id: str, note: str = "") -> dict:
        """A change and its event, committed together."""
        with self.db.transaction() as uow:
            uow.execute("INSERT INTO probe_records (probe_id, note) VALUES (%s, %s)", (probe_id, note))
            envelope = uow.publish("chassis.probed", {"probe_id": probe_id, "note": note})
        log.info("probe_recorded", probe_id=probe_id)
        return {"event_id": str(envelope.event_id), "correlation_id": envelope.correlation_id}

    @rpc
    def record_then_fail(self, probe_id: str) -> None:
        """Nothing of a failed unit of work survives: no row, no event."""
        with self.db.transaction() as uow:
            uow.execute("INSERT INTO probe_records (probe_id, note) VALUES (%s, 'x')", (probe_id,))
            uow.publish("chassis.probed", {"probe_id": probe_id})
            raise Conflict("probe_conflict", "refused on purpose", {"probe_id": probe_id})

    @rpc
    def connection_states(self, probe_id: str) -> dict:
        """PostgreSQL's state after a statement in each kind of unit of work, and
        whether ``statement()`` refused an event (issue 20)."""
        with self.db.transaction() as uow:
            uow.execute("SELECT 1")
            in_transaction = uow.conn.info.transaction_status.name
        with self.db.statement() as uow:
            uow.execute("INSERT INTO probe_records (probe_id, note) VALUES (%s, 'alone')", (probe_id,))
            in_statement = uow.conn.info.transaction_status.name
            try:
                uow.publish("chassis.probed", {"probe_id": probe_id})
                refused = False
            except TypeError:
                refused = True
        return {"transaction": in_transaction, "statement": in_statement, "event_refused": refused}

    @rpc
    def set_failing(self, probe_id: str, failing: bool) -> None:
        with self.db.transaction() as uow:
            if failing:
                uow.execute("INSERT INTO probe_failures VALUES (%s) ON CONFLICT DO NOTHING", (probe_id,))
            else:
                uow.execute("DELETE FROM probe_failures WHERE probe_id = %s", (probe_id,))

    @rpc
    def effects(self, probe_id: str) -> list[dict]:
        with self.db.transaction() as uow:
            return [
                {"event_id": str(r["event_id"]), "correlation_id": r["correlation_id"]}
                for r in uow.fetch_all(
                    "SELECT event_id, correlation_id FROM probe_effects WHERE probe_id = %s ORDER BY id", (probe_id,)
                )
            ]

    @rpc
    def correlation(self) -> str:
        return self.context

    @event_handler("chassis.probed")
    def on_probed(self, event):
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # already processed: a duplicate delivery has no second effect
            probe_id = event.payload["probe_id"]
            uow.execute(
                "INSERT INTO probe_effects (probe_id, event_id, correlation_id) VALUES (%s, %s, %s)",
                (probe_id, event.event_id, self.context),
            )
            log.info("probe_effect", probe_id=probe_id)
            if uow.fetch_one("SELECT 1 FROM probe_failures WHERE probe_id = %s", (probe_id,)):
                raise ProbeFailure(f"probe {probe_id} is set to fail")
