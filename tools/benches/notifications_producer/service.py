"""Commits ``reservation.requested`` through the outbox (the reservations service's path, without its rules)."""

from chassis.service import DataService, rpc


class ReservationProducer(DataService):
    name = "notifications_producer"

    @rpc
    def commit(self, payload: dict) -> str:
        with self.db.transaction() as uow:
            envelope = uow.publish("reservation.requested", payload, partner_id=payload["partner_id"])
        return str(envelope.event_id)
