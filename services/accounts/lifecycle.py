"""A partner's life after registration (R-ACC-8, R-ACC-14, R-ACC-15, issue 18 item 13):
operators' queue with what to check, re-submission after a rejection with what
changed, closing. Entrypoints of ``AccountsService`` (a mixin, to keep
service.py small); the rules are in domain.py, the SQL in store.py.

Events: ``partner.resubmitted`` (with ``changes`` and the rejection's ``reason``)
tells notifications to tell the operators, as ``partner.registered`` does;
``partner.closed`` (with ``open_bookings``) stops the catalog selling and makes
reservations cancel (full refund) or keep the open bookings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from chassis import Actor, paging
from chassis.service import rpc
from chassis.validation import parse, parse_query

from . import domain, errors, events, store
from .schemas import ClosePartner, PartnerQueueQuery
from .views import partner_view


class PartnerLifecycle:
    # What AccountsService, which this mixin is part of, gives it.
    db: Any
    _role: Callable[..., str]
    _operator: Callable[..., dict]
    _partner_view: Callable[..., dict]

    def _admin(self, uow, actor, partner_id, action: str) -> str:
        role = self._role(uow, actor, partner_id, person_only=True)
        if role != "admin":
            raise errors.admin_only(action, role)
        return role

    def _application(self, uow, partner: dict) -> dict:
        return domain.application_of(partner, store.all_places_of_partner(uow, partner["id"]))

    def _record_decision(self, uow, partner: dict, decision: str, reason: str | None, operator_id) -> None:
        store.insert_partner_review(
            uow, partner["id"], decision, reason, self._application(uow, partner), domain.as_uuid(operator_id)
        )

    @rpc
    def resubmit_partner(self, actor, partner_id, body=None) -> dict:
        """R-ACC-15: an admin re-submits a rejected partner once something the
        operator could have named changed; 409 ``nothing_changed`` otherwise."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._admin(uow, actor, partner_id, "resubmit")
            if body:
                raise errors.invalid_fields({"body": "resubmit takes no body: correct the partner or its places first"})
            partner = errors.found(store.partner_by_id(uow, partner_id, lock=True), "partner")
            if partner["status"] != "rejected":
                raise errors.invalid_state(partner["status"], "resubmit")
            rejection = store.last_rejections(uow, [partner["id"]]).get(str(partner["id"]))
            changes = domain.application_changes(rejection and rejection["snapshot"], self._application(uow, partner))
            if rejection is not None and not changes:
                raise errors.nothing_changed(partner["status_reason"])
            partner = errors.found(store.resubmit_partner(uow, partner["id"]), "partner")
            uow.publish(
                "partner.resubmitted",
                {**events.partner_changed(partner), "changes": changes, "reason": rejection and rejection["reason"]},
                partner_id=str(partner["id"]),
            )
        return {**partner_view(partner, role), "changes": changes}

    @rpc
    def close_partner(self, actor, partner_id, body) -> dict:
        """R-ACC-14: an admin stops the partner operating, once and for good; its
        members may then withdraw (R-ACC-4 no longer holds them)."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._admin(uow, actor, partner_id, "close")  # who may, before what they sent
            data = parse(ClosePartner, body)
            partner = errors.found(store.partner_by_id(uow, partner_id, lock=True), "partner")
            if not domain.may_close(partner["status"]):
                raise errors.invalid_state(partner["status"], "close")
            partner = errors.found(store.close_partner(uow, partner["id"], data.open_bookings), "partner")
            uow.publish(
                "partner.closed",
                {**events.partner_changed(partner), "open_bookings": data.open_bookings},
                partner_id=str(partner["id"]),
            )
        return partner_view(partner, role)

    @rpc
    def partner_queue(self, operator_id, query=None) -> dict:
        """Issue 18 item 13: partners in a status (default ``pending_verification``),
        oldest submission first, each with what to check and, for a
        re-submission, the last rejection and what changed since."""
        params = parse_query(PartnerQueueQuery, query or {})
        after = paging.decode_cursor(params.cursor, dt.datetime.fromisoformat, uuid.UUID)
        limit = paging.clamp_limit(params.limit)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            rows = store.partners_by_status(uow, params.status, limit, after)
            ids = [row["id"] for row in rows[:limit]]
            places = store.places_of_partners(uow, ids)
            rejections = store.last_rejections(uow, ids)
        items = [
            self._queue_entry(row, places.get(str(row["id"]), []), rejections.get(str(row["id"])))
            for row in rows[:limit]
        ]
        more = len(rows) > limit
        return {
            "items": items,
            "next_cursor": paging.encode_cursor(rows[limit - 1]["submitted_at"].isoformat(), rows[limit - 1]["id"])
            if more
            else None,
        }

    def _queue_entry(self, partner: dict, places: list[dict], rejection: dict | None) -> dict:
        application = domain.application_of(partner, places)
        submission = {
            "kind": "resubmission" if rejection else "application",
            "submitted_at": partner["submitted_at"].isoformat(),
        }
        if rejection:
            submission.update(
                previous_rejection={"reason": rejection["reason"], "rejected_at": rejection["decided_at"].isoformat()},
                changes=domain.application_changes(rejection["snapshot"], application),
            )
        return {
            **partner_view(partner),
            "application": application,
            "submission": submission,
            "checks": domain.checks_for(application),
        }

    @rpc
    def operator_ids(self) -> list[str]:
        """For notifications: the operators to tell of applications and re-submissions."""
        with self.db.transaction() as uow:
            return store.operator_ids(uow)
