"""The reservations service: the booking lifecycle, customer and partner sides
(R-RSV-1..11). Entrypoints only: they validate (schemas.py), apply the rules
(domain.py, whose docstring lists the choices made where the rules are
silent), run SQL (store.py) and serialise (views.py).

Capacity lives in the catalog (its module docstring is the contract used
here): a booking holds it with one hold id per reservation and schedule
(``rsv:<reservation_id>:<n>``), so a retry never holds twice; what a change
frees goes back through ``pending_releases``, written in the transaction of
the change and sent right after it commits (the timer retries what failed).

Creating a booking, safe under retries and crashes:
1. the ``Idempotency-Key`` row (``booking_intents``: fingerprint of the body,
   pre-drawn reservation id and number) commits first, ``pending``;
2. catalog ``hold`` (idempotent by hold id: 50 copies of one request hold once);
3. one transaction inserts the reservation, its event and the response, and
   marks the key ``done``; every copy then answers with that stored response.
A refusal by the catalog (409 ``capacity_exhausted``, ``partner_not_open``
(R-ACC-8), ``coupon_*``, ...) is stored as the key's response too. A coupon
(``coupon_code`` / ``coupon_id``, issue #11) is redeemed by that same hold,
under the redemption key ``reservation:<id>`` that a date change's hold
shares (domain.py's docstring has the money rules). A process that dies between 1 and 3 leaves a ``pending``
key: after ``INTENT_GRACE_SECONDS`` the timer releases its hold and marks it
``abandoned``; a retry with the key starts again with the next hold id.

Reviews (R-RSV-6, R-CAT-6): ``post_review`` (the booker, once the reservation
is completed; Idempotency-Key honoured) and ``reply_review`` (the partner, once),
in the shapes and codes of chassis.reviews; the gateway's reply route asks here
first, then orders.

RPCs for other services: ``dashboard_summary(partner_id, role)`` (gateway),
``settlement_totals(partner_id, period_start, period_end)`` (settlement's
reconciliation: sales, fees and refunds per partner as the ledger books them).
Ops and tests: ``run_timers({as_of, ...})``, the timer pass "as of" a time.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import uuid

import psycopg
from nameko.timer import timer

from chassis import coupons, paging, privacy
from chassis.consumer import event_handler
from chassis.errors import Conflict, DomainError, NotFound, ServiceUnavailable, ValidationFailed
from chassis.logging import get_logger
from chassis.reviews import ReplyIn, ReviewIn
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import domain, errors, events, store, views
from .schemas import (BoardQuery, ChangeDateIn, ChatInvitationQuery, CustomerCancelIn, CustomerListQuery, OptionalReasonIn,
                      PartnerListQuery, Paging, PeriodIn, ProductSettingsIn, QuoteQuery, RequiredReasonIn,
                      ReservationCreate, TimerPassIn, TransferIn)

log = get_logger(__name__)
OPEN_CONVERSATION_TIMEOUT = 2.0   # seconds the customer's accept waits for the partner's list to show it

TIMER_INTERVAL_SECONDS = 10
DEFAULT_INTENT_GRACE_SECONDS = 60
FAULT_ENV = "PC_FAULT_INJECT"   # crash tests: "kill_after_hold" dies with a hold taken and nothing recorded


def require_id(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationFailed(message=f"{name} is required", details={"fields": {name: "required"}})
    return value


def actor_of(actor) -> tuple[str, str | None]:
    """(kind, id) of the gateway's principal: a member, an API key (recorded
    as ``api_key:<id>``, R-ACC-13) or an operator."""
    if isinstance(actor, dict):
        if actor.get("kind") == "api_key":
            return "api_key", f"api_key:{actor['api_key_id']}" if actor.get("api_key_id") else None
        return actor.get("kind") or "member", actor.get("member_id")
    return ("member", actor) if actor else ("system", None)


class ReservationsService(DataService):
    name = "reservations"

    product_owners: dict[str, tuple[str, str]] = {}   # product id -> (partner id, kind): never changes

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    @property
    def default_ttl_hours(self) -> int:
        return int(self.config.get("REQUEST_TTL_HOURS") or domain.DEFAULT_REQUEST_TTL_HOURS)

    @property
    def intent_grace(self) -> float:
        return float(self.config.get("INTENT_GRACE_SECONDS") or DEFAULT_INTENT_GRACE_SECONDS)

    # --- customers: booking (R-RSV-1, R-RSV-3) ------------------------------------------

    @rpc
    def create_reservation(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """201 body, or the first response of this key replayed; see the module docstring."""
        customer_id = require_id(customer_id, "customer_id")
        key = domain.check_idempotency_key(idempotency_key)
        request = parse(ReservationCreate, body)
        coupons.check_one_coupon(request.coupon_code, request.coupon_id)
        fingerprint = domain.request_fingerprint(coupons.without_unnamed_coupon(request.model_dump(mode="json")))
        intent = self._intent(customer_id, key, fingerprint, request.product_id)
        if intent["state"] in ("done", "failed"):
            return self._replay(intent)
        hold_id = domain.hold_id(intent["reservation_id"], intent["hold_sequence"])
        coupon = coupons.hold_coupon(request.coupon_code, request.coupon_id, customer_id,
                                     domain.redemption_key(intent["reservation_id"]))
        try:
            hold = self.services.catalog.hold(hold_id, intent["partner_id"], self._hold_lines(request),
                                              coupon=coupon)
        except DomainError as refusal:
            if refusal.status >= 500:
                raise   # no answer: the key stays pending, a retry holds with the same id
            return self._replay(self._finish_refused(intent, refusal))
        if os.environ.get(FAULT_ENV) == "kill_after_hold":
            os.kill(os.getpid(), signal.SIGKILL)
        return self._finish_booked(intent, request, hold)

    def _intent(self, customer_id: str, key: str, fingerprint: str, product_id: str) -> dict:
        partner_id = self._partner_of_product(product_id)
        for _ in range(5):   # a drawn number already taken: draw again
            try:
                with self.db.transaction() as uow:
                    intent = store.claim_intent(uow, customer_id, key, fingerprint, uuid.uuid4(),
                                                domain.new_number(), partner_id) or store.intent(uow, customer_id, key)
                break
            except psycopg.errors.UniqueViolation:
                continue
        else:
            raise ServiceUnavailable(message="could not draw a reservation number")
        if intent["fingerprint"] != fingerprint:
            raise errors.idempotency_key_reused()
        if intent["state"] == "abandoned":
            with self.db.transaction() as uow:
                intent = store.restart_intent(uow, customer_id, key) or store.intent(uow, customer_id, key)
        return intent

    def _partner_of_product(self, product_id: str) -> str:
        known = self.product_owners.get(product_id)
        if known is None:
            product = self.services.catalog.shop_get_product(product_id)
            known = (product["partner_id"], product["kind"])
            self.product_owners[product_id] = known
        if known[1] != "booking":
            raise ValidationFailed(message="this product is not booked",
                                   details={"fields": {"product_id": "goods are ordered, not booked"}})
        return known[0]

    @staticmethod
    def _hold_lines(request: ReservationCreate) -> list[dict]:
        return [{"product_id": request.product_id, "price_id": line.price_id, "quantity": line.quantity,
                 "date": request.date.isoformat() if request.date else None,
                 "time": request.time.strftime("%H:%M") if request.time else None} for line in request.lines]

    def _replay(self, intent: dict) -> dict:
        if intent["response"] is None:   # the customer's data was erased since
            raise errors.idempotency_key_reused()
        if intent["state"] == "done":
            return intent["response"]
        error = intent["response"]["error"]
        raise DomainError(error["code"], error["message"], error["details"], status=intent["response_status"])

    def _finish_refused(self, intent: dict, refusal: DomainError) -> dict:
        """The catalog's refusal becomes this key's response (unless another copy finished first)."""
        with self.db.transaction() as uow:
            current = store.intent(uow, intent["customer_id"], intent["idempotency_key"], lock=True)
            if current["state"] == "pending" and current["hold_sequence"] == intent["hold_sequence"]:
                store.finish_intent(uow, intent["customer_id"], intent["idempotency_key"], "failed",
                                    refusal.status, refusal.to_body())
                return store.intent(uow, intent["customer_id"], intent["idempotency_key"])
        if current["state"] in ("done", "failed"):
            return current
        raise errors.booking_interrupted(intent["number"])

    def _finish_booked(self, intent: dict, request: ReservationCreate, hold: dict) -> dict:
        hold_id = domain.hold_id(intent["reservation_id"], intent["hold_sequence"])
        response = None
        with self.db.transaction() as uow:
            if hold["status"] == "held":
                response = self._record_booking(uow, intent, request, hold)
            current = None if response else store.intent(uow, intent["customer_id"], intent["idempotency_key"])
        if response is not None:
            return response
        if current["state"] == "done" and current["hold_sequence"] == intent["hold_sequence"]:
            return self._replay(current)   # another copy of this request finished first
        # This attempt was abandoned (or refused by another copy) meanwhile: its hold must not stay.
        self._release_now(f"{hold_id}:orphan", hold_id, intent["partner_id"])
        if current["state"] in ("done", "failed"):
            return self._replay(current)
        raise errors.booking_interrupted(intent["number"])

    def _record_booking(self, uow, intent: dict, request: ReservationCreate, hold: dict) -> dict | None:
        """The reservation as the held catalog version priced it, with the product's
        policy and booking settings copied onto it; its event; the stored response."""
        product = hold["products"][hold["lines"][0]["product_id"]]
        settings = store.product_settings(uow, intent["partner_id"], request.product_id) or {}
        confirmation = settings.get("confirmation", "manual")
        ttl = settings.get("request_ttl_hours") or self.default_ttl_hours
        lines = domain.lines_from_hold(hold)
        discount = hold.get("discount_amount", 0)
        status = domain.CONFIRMED if confirmation == "auto" else domain.REQUESTED
        now = self.now()
        policy = product["cancel_policy"]
        phone = domain.phone_digits(request.booker.phone)
        row = {"reservation_id": intent["reservation_id"], "number": intent["number"],
               "partner_id": intent["partner_id"], "product_id": hold["lines"][0]["product_id"],
               "product_name": product["name"], "product_version": product["version"],
               "schedule_type": product["schedule_type"], "payment": product["payment"] or "none",
               "cancel_policy": policy, "confirmation": confirmation,
               "allow_partial_cancel": settings.get("allow_partial_cancel", True), "request_ttl_hours": ttl,
               "customer_id": intent["customer_id"], "holder_customer_id": intent["customer_id"],
               "booker_name": request.booker.name, "booker_phone": phone, "booker_phone_last4": phone[-4:],
               "status": status, "use_date": request.date, "use_time": request.time, "lines": lines,
               "total": domain.paid_amount(lines, discount), "refund_amount": 0, "fee_amount": 0, "reason": None,
               "coupon": coupons.coupon_of_hold(hold), "discount_amount": discount,
               "conversation_id": None, "hold_sequence": intent["hold_sequence"], "created_at": now,
               "updated_at": now, "due_at": domain.due_at(status, policy, request.date, request.time, now, ttl)}
        response = store.record_booking(uow, intent["customer_id"], intent["idempotency_key"],
                                        intent["hold_sequence"], row, views.creation_view(row),
                                        {"status": status, "confirmation": confirmation})
        if response is not None:
            actor = "system" if status == domain.CONFIRMED else "customer"
            events.publish(uow, f"reservation.{status}", events.reservation_event(row, actor=actor))
        return response

    # --- customers: their reservations ----------------------------------------------------

    @rpc
    def list_customer_reservations(self, customer_id: str, query: dict | None = None) -> dict:
        """Booked, held (after a transfer) or saved from a friend's share; newest first."""
        customer_id = require_id(customer_id, "customer_id")
        q = parse_query(CustomerListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.customer_reservations(uow, customer_id, status=q.status, after=after, limit=q.limit)
        return paging.page(rows, q.limit, _cursor, lambda r: self._customer_view(r, customer_id))

    def _customer_view(self, r: dict, customer_id: str, pending_transfer: dict | None = None) -> dict:
        if customer_id in (r["customer_id"], r["holder_customer_id"]):
            return views.customer_view(r, customer_id, pending_transfer)
        return views.shared_view(r)

    @rpc
    def get_customer_reservation(self, customer_id: str, number: str) -> dict:
        customer_id = require_id(customer_id, "customer_id")
        with self.db.transaction() as uow:
            r = self._visible_to_customer(uow, customer_id, number)
            transfer = store.pending_transfer(uow, r["reservation_id"]) if r["customer_id"] == customer_id else None
        return self._customer_view(r, customer_id, transfer)

    def _visible_to_customer(self, uow, customer_id: str, number) -> dict:
        r = self._reservation(uow, number)
        if customer_id in (r["customer_id"], r["holder_customer_id"]) or store.saved_by(
                uow, customer_id, r["reservation_id"]):
            return r
        raise errors.reservation_not_found(r["number"])

    def _reservation(self, uow, number, *, partner_id: str | None = None, lock: bool = False) -> dict:
        canonical = domain.canonical_number(number)
        r = store.reservation(uow, canonical, partner_id=partner_id, lock=lock) if canonical else None
        if r is None:
            raise errors.reservation_not_found(number if isinstance(number, str) else None)
        return r

    def _held_by(self, uow, customer_id: str, number, lock: bool = False) -> dict:
        """Cancelling, moving and reviewing are for the ticket's holder: the booker
        until a hand-over, then the friend (R-RSV-10)."""
        r = self._reservation(uow, number, lock=lock)
        domain.check_holder(r, customer_id)
        return r

    # --- customers: cancellation (R-RSV-4) -------------------------------------------------

    @rpc
    def cancellation_quote(self, customer_id: str, number: str, query: dict | None = None) -> dict:
        """What cancelling now would refund and cost, or why it is refused (R-RSV-4)."""
        wanted = parse_query(QuoteQuery, query).cancel_lines()
        with self.db.transaction() as uow:
            r = self._held_by(uow, require_id(customer_id, "customer_id"), number)
        try:
            plan = domain.plan_customer_cancel(r, wanted, None, self.now())
        except Conflict as refusal:
            return {"number": r["number"], "allowed": False, "reason": refusal.code, "details": refusal.details}
        return {"number": r["number"], "allowed": True, "reason": None, "amount": plan.amount, "fee": plan.fee,
                "refund": plan.refund, "partial": plan.partial, "lines": plan.release}

    @rpc
    def cancel_by_customer(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """The whole booking or some lines; refund and fee from the policy as sold and
        the clock; refused with a reason code (R-RSV-4). Capacity goes back to the catalog."""
        customer_id = require_id(customer_id, "customer_id")
        data = parse(CustomerCancelIn, body)
        wanted = [l.model_dump() for l in data.lines] if data.lines is not None else None
        with self.db.transaction() as uow:
            r = self._held_by(uow, customer_id, number, lock=True)
            plan = domain.plan_customer_cancel(r, wanted, data.expected_fee, self.now())
            updated, release_id = self._cancel(uow, r, plan, data.reason or None)
        self._send_releases([release_id])
        return {**views.customer_view(updated, customer_id),
                "cancellation": {"partial": plan.partial, "amount": plan.amount, "refund": plan.refund,
                                 "fee": plan.fee, "lines": plan.release}}

    def _cancel(self, uow, r: dict, plan: domain.CancelPlan, reason: str | None) -> tuple[dict, str]:
        hold_id = domain.hold_id(r["reservation_id"], r["hold_sequence"])
        by_line = {l["line"]: l for l in r["lines"]}
        cancelled_lines = [{**by_line[p["line"]], "quantity": p["quantity"]} for p in plan.release]
        changes = {"refund_amount": r["refund_amount"] + plan.refund, "fee_amount": r["fee_amount"] + plan.fee}
        if plan.partial:
            release_id = f"{hold_id}:part:{uuid.uuid4().hex[:12]}"
            lines = domain.apply_cancellation(r["lines"], plan.release)
            changes.update(lines=lines, total=domain.paid_amount(lines, r["discount_amount"]))
            store.queue_release(uow, release_id, hold_id, r["partner_id"], plan.release)
        else:
            release_id = f"{hold_id}:all"
            changes.update(status=domain.CANCELLED, reason=reason, due_at=None)
            store.queue_release(uow, release_id, hold_id, r["partner_id"], None)
        updated = store.update_reservation(uow, r["reservation_id"], changes)
        store.record_money(uow, r["partner_id"], r["number"], "fee", plan.fee)
        store.record_history(uow, r["reservation_id"], "partially_cancelled" if plan.partial else "cancelled",
                             "customer", r["customer_id"],
                             {"lines": plan.release, "refund": plan.refund, "fee": plan.fee, "reason": reason})
        events.publish(uow, "reservation.cancelled", events.reservation_event(
            updated, actor="customer", reason=reason, refund=plan.refund, fee=plan.fee,
            cancelled_lines=cancelled_lines, partial=plan.partial))
        return updated, release_id

    # --- customers: date change (R-RSV-5) ----------------------------------------------------

    @rpc
    def change_date(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """Each condition of R-RSV-5 has its own refusal code; the new slot is held
        before the old one is released, so a refused move keeps the booking as it was."""
        customer_id = require_id(customer_id, "customer_id")
        data = parse(ChangeDateIn, body)
        with self.db.transaction() as uow:
            r = self._held_by(uow, customer_id, number)
        domain.check_date_change(r, data.date, data.time, self.now())
        domain.check_direct_listing(r, self.services.accounts.partner_info(r["partner_id"]))
        new_sequence, new_hold = self._guarded_hold_number(r)
        guard = f"{new_hold}:guard"
        # The booking's coupon goes with it: the new hold joins its redemption (kept, not counted again).
        coupon = coupons.hold_coupon(None, r["coupon"]["coupon_id"], r["customer_id"],
                                     domain.redemption_key(r["reservation_id"])) \
            if r["coupon"] else None
        try:
            hold = self.services.catalog.hold(new_hold, r["partner_id"], [
                {"product_id": r["product_id"], "price_id": l["price_id"], "quantity": domain.active_quantity(l),
                 "date": data.date.isoformat(), "time": data.time.strftime("%H:%M") if data.time else None}
                for l in r["lines"] if domain.active_quantity(l) > 0], coupon=coupon)
        except DomainError as refusal:
            if refusal.status < 500:   # refused: nothing was held, the guard has nothing to do
                with self.db.transaction() as uow:
                    store.release_done(uow, guard)
            raise
        refusal = None
        with self.db.transaction() as uow:
            current = self._held_by(uow, customer_id, number, lock=True)
            try:
                if current["hold_sequence"] != r["hold_sequence"] or hold["status"] != "held":
                    raise Conflict("concurrent_change", "the booking changed meanwhile; try again",
                                   {"number": r["number"]})
                domain.check_date_change(current, data.date, data.time, self.now())
            except DomainError as exc:
                refusal = exc
                store.queue_release(uow, f"{new_hold}:all", new_hold, r["partner_id"], None)
                release_id = f"{new_hold}:all"
            else:
                store.release_done(uow, guard)
                updated, release_id = self._move(uow, current, data, new_sequence)
        self._send_releases([release_id])
        if refusal is not None:
            raise refusal
        return views.customer_view(updated, customer_id)

    def _guarded_hold_number(self, r: dict) -> tuple[int, str]:
        """A fresh hold number, with a delayed release of it committed first: if the
        move never commits (the process dies after the catalog held), the timer gives
        the capacity back after the grace period; the move's transaction cancels it."""
        with self.db.transaction() as uow:
            sequence = store.next_hold_number(uow, r["reservation_id"])
            hold = domain.hold_id(r["reservation_id"], sequence)
            store.queue_release(uow, f"{hold}:guard", hold, r["partner_id"], None, delay_seconds=self.intent_grace)
        return sequence, hold

    def _move(self, uow, r: dict, data: ChangeDateIn, new_sequence: int) -> tuple[dict, str]:
        old_hold = domain.hold_id(r["reservation_id"], r["hold_sequence"])
        store.queue_release(uow, f"{old_hold}:all", old_hold, r["partner_id"], None)
        updated = store.update_reservation(uow, r["reservation_id"], {
            "use_date": data.date, "use_time": data.time, "hold_sequence": new_sequence,
            "due_at": domain.due_at(r["status"], r["cancel_policy"], data.date, data.time, r["created_at"],
                                    r["request_ttl_hours"])})
        previous = (r["use_date"], r["use_time"])
        store.record_history(uow, r["reservation_id"], "date_changed", "customer", r["customer_id"],
                             {"from": [views.iso(v) for v in previous], "to": [views.iso(data.date),
                                                                               views.iso(data.time)]})
        events.publish(uow, "reservation.date_changed",
                       events.reservation_event(updated, actor="customer", previous=previous))
        return updated, f"{old_hold}:all"

    # --- customers: sharing and tickets (R-RSV-10) ---------------------------------------------

    @rpc
    def share(self, customer_id: str, number: str) -> dict:
        """A token the booker (or the ticket's holder) sends to friends; each may save it."""
        customer_id = require_id(customer_id, "customer_id")
        token = domain.new_token()
        with self.db.transaction() as uow:
            r = self._reservation(uow, number)
            if customer_id not in (r["customer_id"], r["holder_customer_id"]):
                raise errors.reservation_not_found(r["number"])
            if r["status"] not in domain.OPEN:
                raise errors.invalid_state(r["number"], r["status"], "share")
            store.insert_share(uow, domain.token_hash(token), r["reservation_id"], customer_id)
            store.record_history(uow, r["reservation_id"], "shared", "customer", customer_id)
            events.publish(uow, "reservation.shared", events.reservation_event(r, actor="customer"))
        return {"number": r["number"], "share_token": token}

    @rpc
    def get_shared(self, customer_id: str, token: str) -> dict:
        with self.db.transaction() as uow:
            return views.shared_view(self._shared(uow, token))

    @rpc
    def save_shared(self, customer_id: str, token: str) -> dict:
        """A friend keeps the shared reservation in their list (read only)."""
        customer_id = require_id(customer_id, "customer_id")
        with self.db.transaction() as uow:
            r = self._shared(uow, token)
            own = customer_id in (r["customer_id"], r["holder_customer_id"])
            newly = False if own else store.save_for(uow, customer_id, r["reservation_id"])
            if newly:
                store.record_history(uow, r["reservation_id"], "saved_by_friend", "customer", customer_id)
        return {**(views.customer_view(r, customer_id) if own else views.shared_view(r)), "saved": not own}

    def _shared(self, uow, token) -> dict:
        reservation_id = store.shared_reservation_id(uow, domain.token_hash(token)) \
            if isinstance(token, str) and 0 < len(token) <= 100 else None
        if reservation_id is None:
            raise errors.share_not_found()
        return store.reservation_by_id(uow, reservation_id)

    @rpc
    def transfer(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """The ticket's holder hands it to a friend's phone: the friend accepts with
        the token (the service knows customers by id, not by phone); until then the
        holder keeps it and a new transfer replaces the pending one."""
        customer_id = require_id(customer_id, "customer_id")
        to_phone = domain.phone_digits(parse(TransferIn, body).to_phone)
        token = domain.new_token()
        with self.db.transaction() as uow:
            r = self._reservation(uow, number, lock=True)
            domain.check_holder(r, customer_id)
            if r["status"] not in domain.OPEN:
                raise errors.invalid_state(r["number"], r["status"], "transfer")
            if r["customer_id"] == customer_id and to_phone == r["booker_phone"]:
                raise ValidationFailed(message="the ticket is already yours",
                                       details={"fields": {"to_phone": "this is the booker's own phone"}})
            store.withdraw_pending_transfer(uow, r["reservation_id"])
            transfer = store.insert_transfer(uow, domain.token_hash(token), r["reservation_id"], customer_id, to_phone)
            store.record_history(uow, r["reservation_id"], "transfer_offered", "customer", customer_id,
                                 {"to_phone": views.mask_phone(to_phone)})
        return {"number": r["number"], "transfer": views.transfer_view(transfer), "transfer_token": token}

    @rpc
    def accept_transfer(self, customer_id: str, token: str) -> dict:
        """Only the customer whose verified phone (as accounts knows it, R-ACC-12) is
        the transfer's ``to_phone`` takes the ticket; anyone else gets the 404 of an
        unknown token. The transfer row is locked, so of two racing accepts one wins."""
        customer_id = require_id(customer_id, "customer_id")
        contact = self.services.accounts.customer_contact(customer_id)
        with self.db.transaction() as uow:
            transfer = store.transfer_by_token(uow, domain.token_hash(token)) \
                if isinstance(token, str) and 0 < len(token) <= 100 else None
            if not domain.transfer_open_to(transfer, customer_id, contact.get("phone")):
                raise errors.transfer_not_found()
            r = store.reservation_by_id(uow, transfer["reservation_id"], lock=True)
            if transfer["state"] == "pending":
                if r["status"] not in domain.OPEN:
                    raise errors.invalid_state(r["number"], r["status"], "transfer")
                store.accept_transfer(uow, transfer["transfer_id"], customer_id)
                r = store.update_reservation(uow, r["reservation_id"], {
                    "holder_customer_id": customer_id, "holder_name": contact.get("name"),
                    "holder_phone": domain.phone_digits(contact.get("phone"))})
                store.record_history(uow, r["reservation_id"], "transferred", "customer", customer_id,
                                     {"from": transfer["from_customer_id"]})
                events.publish(uow, "reservation.transferred",
                               events.reservation_event(r, actor="customer", to_customer_id=customer_id))
        return views.customer_view(r, customer_id)

    # --- chat (R-RSV-11) ---------------------------------------------------------------------

    @rpc
    def request_chat(self, partner_id: str, number: str, actor=None) -> dict:
        """An invitation to the ticket's holder; the conversation exists only once they accept."""
        kind, actor_id = actor_of(actor)
        with self.db.transaction() as uow:
            r = self._reservation(uow, number, partner_id=partner_id, lock=True)
            if r["conversation_id"]:
                raise Conflict("chat_already_open", "this reservation already has a conversation",
                               {"number": r["number"], "conversation_id": r["conversation_id"]})
            invitation = store.open_invitation(uow, r["reservation_id"])
            if invitation is None:
                invitation = store.insert_invitation(uow, r, actor_id)
                store.record_history(uow, r["reservation_id"], "chat_requested", kind, actor_id,
                                     {"invitation_id": invitation["invitation_id"]})
                events.publish(uow, "reservation.chat_requested", {
                    **events.reservation_event(r, actor="partner", invitation_id=invitation["invitation_id"]),
                    "customer_id": r["holder_customer_id"]})
        return {**views.invitation_view(invitation), "number": r["number"]}

    @rpc
    def list_chat_invitations(self, customer_id: str, query: dict | None = None) -> dict:
        customer_id = require_id(customer_id, "customer_id")
        q = parse_query(ChatInvitationQuery, query)
        state = q.state
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.customer_invitations(uow, customer_id, state, after, q.limit)
        return paging.page(rows, q.limit, lambda i: (i["created_at"].isoformat(), i["invitation_id"]),
                           views.invitation_view)

    @rpc
    def answer_chat(self, customer_id: str, invitation_id: str, accept: bool) -> dict:
        """Accepting creates the conversation (its id is linked to the reservation and
        carried by ``reservation.chat_accepted``, which notifications opens it from)."""
        customer_id = require_id(customer_id, "customer_id")
        wanted = "accepted" if accept else "declined"
        with self.db.transaction() as uow:
            invitation = store.invitation_for_customer(uow, invitation_id, customer_id)
            if invitation is None:
                raise errors.invitation_not_found(invitation_id if isinstance(invitation_id, str) else None)
            if invitation["state"] == wanted:
                return views.invitation_view(invitation)
            if invitation["state"] != "pending":
                raise Conflict("invalid_state", f"the invitation is already {invitation['state']}",
                               {"invitation_id": invitation["invitation_id"], "status": invitation["state"]})
            r = store.reservation_by_id(uow, invitation["reservation_id"], lock=True)
            conversation_id = str(uuid.uuid4()) if accept else None
            invitation = {**store.decide_invitation(uow, invitation["invitation_id"], wanted, conversation_id),
                          "number": r["number"]}
            if accept:
                r = store.update_reservation(uow, r["reservation_id"], {"conversation_id": conversation_id})
            store.record_history(uow, r["reservation_id"], f"chat_{wanted}", "customer", customer_id,
                                 {"invitation_id": invitation["invitation_id"]})
            answered = {**events.reservation_event(r, actor="customer", invitation_id=invitation["invitation_id"],
                                                   conversation_id=conversation_id),
                        "customer_id": customer_id, "customer_name_masked": views.holder_name_masked(r)}
            events.publish(uow, f"reservation.chat_{wanted}", answered)
        if accept:
            self._open_conversation_now(answered)
        return views.invitation_view(invitation)

    def _open_conversation_now(self, answered: dict) -> None:
        """The partner's list shows the conversation as soon as the customer accepts
        (issue 17 item 9); if notifications does not answer in time, the
        ``reservation.chat_accepted`` event opens the same one a moment later."""
        try:
            self.services.notifications.call_with_timeout("open_conversation", OPEN_CONVERSATION_TIMEOUT, {
                key: answered[key] for key in ("partner_id", "customer_id", "reservation_number", "invitation_id",
                                               "conversation_id", "customer_name_masked")})
        except Exception as exc:   # the acceptance is committed; the event is the way that never fails
            log.warning("conversation_opened_by_event_instead", error=repr(exc)[:300])

    # --- partners: reading (R-RSV-8, R-RSV-9) ---------------------------------------------------

    @rpc
    def list_reservations(self, partner_id: str, query: dict | None = None) -> dict:
        """Newest first, by status, product, use date, and ``q`` (R-RSV-8)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(PartnerListQuery, query)
        last4, name_part = privacy.search_terms(q.q)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.partner_reservations(uow, partner_id, status=q.status, last4=last4, name_part=name_part,
                                              product_id=q.product_id, use_date=q.date, after=after, limit=q.limit)
        return paging.page(rows, q.limit, _cursor, views.partner_view)

    @rpc
    def get_reservation(self, partner_id: str, number: str) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        with self.db.transaction() as uow:
            r = self._reservation(uow, number, partner_id=partner_id)
            steps = store.history(uow, r["reservation_id"])
            transfer = store.pending_transfer(uow, r["reservation_id"])
        return {**views.partner_view(r), "history": [views.history_view(s) for s in steps],
                "transfer": views.transfer_view(transfer) if transfer else None}

    @rpc
    def reservation_board(self, partner_id: str, query: dict | None = None) -> dict:
        """Per slot: requested, confirmed, completed, booked quantity, and the catalog's
        capacity, remaining, blocked and past (R-RSV-9)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(BoardQuery, query)
        if not q.date_from <= q.date_to <= q.date_from + dt.timedelta(days=92):
            raise ValidationFailed(message="request query is invalid", details={"fields": {
                "to": "from <= to, at most 93 days"}})
        slots = self.services.catalog.slot_board(partner_id, q.product_id, q.date_from.isoformat(),
                                                 q.date_to.isoformat())
        with self.db.transaction() as uow:
            counts = store.board_counts(uow, partner_id, slots["product_id"], q.date_from, q.date_to, dated=True)
            counts += [c for c in store.board_counts(uow, partner_id, slots["product_id"], q.date_from, q.date_to,
                                                     dated=False) if c["use_date"] is None]
        return domain.board(slots, [{"date": views.iso(c["use_date"]), "time": views.iso(c["use_time"]),
                                     "status": c["status"], "reservations": c["reservations"],
                                     "quantity": c["quantity"]} for c in counts])

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """R-ACC-11: counts by state and today's bookings (created today, visits today,
        requests for today awaiting confirmation). Every staff role sees the same."""
        partner_id = require_id(partner_id, "partner_id")
        now = self.now()
        today = domain.local_today(now)
        start = dt.datetime.combine(today, dt.time(0, 0), domain.PARTNER_TIME_ZONE)
        with self.db.transaction() as uow:
            counts = store.status_counts(uow, partner_id)
            today_figures = store.today_counts(uow, partner_id, today, start)
        return domain.dashboard(counts, {"date": today.isoformat(), **today_figures})

    # --- partners: acting on a whole reservation (R-RSV-2, R-RSV-6) ---------------------------

    @rpc
    def reveal_phone(self, partner_id: str, number: str, actor: dict) -> dict:
        """R-RSV-12: an admin or master (the gateway's access level) sees the
        booker's whole phone, to call them; the reveal is a step of the
        reservation's history (who and when), as any other act on it."""
        partner_id = require_id(partner_id, "partner_id")
        kind, actor_id = actor_of(actor)
        with self.db.transaction() as uow:
            r = self._reservation(uow, number, partner_id=partner_id)
            store.record_history(uow, r["reservation_id"], "phone_revealed", kind, actor_id)
        return {"number": r["number"], "phone": privacy.format_phone(r["booker_phone"])}

    @rpc
    def partner_action(self, partner_id: str, number: str, action: str, body: dict | None = None, actor=None) -> dict:
        """confirm, reject (reason), complete, cancel (reason), no_show; 409 ``invalid_state``
        naming the current state. Reject and cancel refund in full and free the capacity."""
        partner_id = require_id(partner_id, "partner_id")
        if action not in domain.PARTNER_ACTIONS:
            raise NotFound("action_not_found", "no such action", {"action": action})
        transition = domain.PARTNER_ACTIONS[action]
        reason = parse(RequiredReasonIn if transition.needs_reason else OptionalReasonIn, body).reason or None
        kind, actor_id = actor_of(actor)
        with self.db.transaction() as uow:
            r = self._reservation(uow, number, partner_id=partner_id, lock=True)
            outcome = domain.partner_outcome(action, r, self.now())
            updated, release_id = self._apply(uow, r, outcome, action, kind, actor_id, "partner", reason)
        self._send_releases([release_id] if release_id else [])
        return views.partner_view(updated)

    def _apply(self, uow, r: dict, outcome: domain.Outcome, action: str, actor_kind: str, actor_id: str | None,
               event_actor: str, reason: str | None) -> tuple[dict, str | None]:
        """One transition: the row, the money as settlement books it, the capacity, the history, the event."""
        changes = {"status": outcome.status, "reason": reason,
                   "refund_amount": r["refund_amount"] + outcome.refund, "fee_amount": r["fee_amount"] + outcome.fee,
                   "due_at": domain.due_at(outcome.status, r["cancel_policy"], r["use_date"], r["use_time"],
                                           r["created_at"], r["request_ttl_hours"])}
        updated = store.update_reservation(uow, r["reservation_id"], changes)
        release_id = None
        if outcome.release:
            hold_id = domain.hold_id(r["reservation_id"], r["hold_sequence"])
            release_id = f"{hold_id}:all"
            store.queue_release(uow, release_id, hold_id, r["partner_id"], None)
        store.record_money(uow, r["partner_id"], r["number"], "sale", outcome.sale)
        store.record_money(uow, r["partner_id"], r["number"], "fee", outcome.fee)
        store.record_history(uow, r["reservation_id"], action, actor_kind, actor_id,
                             {"reason": reason, "refund": outcome.refund, "fee": outcome.fee})
        events.publish(uow, outcome.event, events.reservation_event(
            updated, actor=event_actor, reason=reason, refund=outcome.refund, fee=outcome.fee))
        return updated, release_id

    # --- reviews (R-RSV-6, R-CAT-6) --------------------------------------------------------------

    @rpc
    def post_review(self, customer_id: str, number: str, body: dict | None = None,
                    idempotency_key: str | None = None) -> dict:
        """The booker reviews a completed reservation, once: 201 body (chassis.reviews' view).
        404 unless they booked it; 409 ``review_not_allowed`` naming the state, ``review_exists``.
        The same Idempotency-Key and body get the first response again; another body 409."""
        customer_id = require_id(customer_id, "customer_id")
        key = domain.check_idempotency_key(idempotency_key) if idempotency_key else None
        data = parse(ReviewIn, body)
        with self.db.transaction() as uow:
            r = self._held_by(uow, customer_id, number, lock=True)   # one review decision at a time
            fingerprint = domain.request_fingerprint({"review_of": r["number"], **data.model_dump()})
            if key and (first := self._first_review_response(uow, customer_id, key, fingerprint)) is not None:
                return first
            domain.check_reviewable(r)
            review = store.insert_review(uow, {
                "review_id": uuid.uuid4(), "reservation_id": r["reservation_id"], "number": r["number"],
                "partner_id": r["partner_id"], "product_id": r["product_id"], "customer_id": customer_id,
                "rating": data.rating, "body": data.body, "request_key": key,
                "request_fingerprint": fingerprint if key else None})
            if review is None:
                if store.review_of_reservation(uow, r["reservation_id"]) is None:
                    raise errors.idempotency_key_reused()   # the key went to another reservation's review meanwhile
                raise errors.review_exists(r["number"])
            events.publish(uow, "reservation.review_posted", events.review_event(r, review, actor="customer"))
        return views.review_view(review)

    @staticmethod
    def _first_review_response(uow, customer_id: str, key: str, fingerprint: str) -> dict | None:
        first = store.review_by_key(uow, customer_id, key)
        if first is None:
            return None
        if first["request_fingerprint"] != fingerprint:
            raise errors.idempotency_key_reused()
        return views.review_view({**first, "reply": None, "replied_at": None})   # as it was first answered

    @rpc
    def reply_review(self, partner_id: str, review_id: str, body: dict | None = None, actor=None) -> dict:
        """The partner replies once; another partner's or an unknown review is 404
        ``review_not_found`` (the gateway then asks orders), a second reply 409 ``already_replied``."""
        partner_id = require_id(partner_id, "partner_id")
        text = parse(ReplyIn, body).body
        with self.db.transaction() as uow:
            review = store.review(uow, partner_id, review_id)
            if review is None:
                raise errors.review_not_found(review_id)
            replied = store.reply_review(uow, partner_id, review["review_id"], text, actor_of(actor)[1])
            if replied is None:
                raise errors.already_replied(review["review_id"])
            r = store.reservation_by_id(uow, review["reservation_id"])
            events.publish(uow, "reservation.review_replied", events.review_event(r, replied, actor="partner"))
        return views.review_view(replied)

    # --- partners: booking settings per product ------------------------------------------------

    @rpc
    def get_product_settings(self, partner_id: str, product_id: str) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        product = self.services.catalog.get_product(partner_id, product_id)   # 404 unless the partner's
        with self.db.transaction() as uow:
            row = store.product_settings(uow, partner_id, product["product_id"])
        return views.settings_view(partner_id, product["product_id"], row, self.default_ttl_hours)

    @rpc
    def set_product_settings(self, partner_id: str, product_id: str, body: dict | None = None, actor=None) -> dict:
        """Applies to bookings made from now on (a reservation keeps what it was made with)."""
        partner_id = require_id(partner_id, "partner_id")
        data = parse(ProductSettingsIn, body)
        changes = data.model_dump(exclude_unset=True)
        if any(v is None for k, v in changes.items() if k != "request_ttl_hours"):
            raise ValidationFailed(message="request body is invalid", details={"fields": {
                k: "may not be null" for k, v in changes.items() if v is None and k != "request_ttl_hours"}})
        product = self.services.catalog.get_product(partner_id, product_id)
        if product.get("kind") != "booking":
            raise ValidationFailed(message="goods have no booking settings",
                                   details={"fields": {"product_id": "not a booking product"}})
        with self.db.transaction() as uow:
            row = store.save_product_settings(uow, partner_id, product["product_id"], changes, actor_of(actor)[1])
        return views.settings_view(partner_id, product["product_id"], row, self.default_ttl_hours)

    # --- timers and reconciliation (R-CAT-6) ----------------------------------------------------

    @timer(interval=TIMER_INTERVAL_SECONDS)
    def timers(self):
        """Every few seconds on every instance; rows are claimed with SKIP LOCKED, so
        instances share the work. Off with TIMERS=false (the RPC still runs a pass)."""
        if str(self.config.get("TIMERS", True)).lower() in ("false", "0", "no"):
            return
        try:
            self._timer_pass(self.now(), 200, self.intent_grace)
        except (ServiceUnavailable, psycopg.OperationalError) as exc:
            log.warning("timer_pass_failed", error=repr(exc))

    @rpc
    def run_timers(self, body: dict | None = None) -> dict:
        """The timer pass "as of" a time (tests, ops): expiries, completions, no-shows
        due by then; plus booking attempts pending for longer than
        ``abandon_after_seconds`` (default the grace) and queued releases."""
        data = parse(TimerPassIn, body)
        grace = self.intent_grace if data.abandon_after_seconds is None else data.abandon_after_seconds
        return self._timer_pass(data.as_of or self.now(), data.batch_size, grace)

    def _timer_pass(self, as_of: dt.datetime, batch_size: int, grace: float) -> dict:
        done = {"expired": 0, "completed": 0, "no_show": 0}
        while True:
            released = []
            with self.db.transaction() as uow:
                rows = store.due_reservations(uow, as_of, batch_size)
                for r in rows:
                    outcome = domain.timer_outcome(r)
                    if outcome is None:
                        store.update_reservation(uow, r["reservation_id"], {"due_at": None})
                        continue
                    reason = "request_expired" if outcome.event == "reservation.expired" else None
                    action = {"reservation.expired": "expired"}.get(outcome.event, outcome.status)
                    _, release_id = self._apply(uow, r, outcome, action, "system", None, "system", reason)
                    released += [release_id] if release_id else []
                    done["expired" if action == "expired" else outcome.status] += 1
            self._send_releases(released)
            if len(rows) < batch_size:
                break
        done["abandoned_attempts"] = self._abandon_stale_intents(grace)
        done["releases_sent"] = self._send_due_releases()
        return done

    def _abandon_stale_intents(self, grace: float) -> int:
        """Booking attempts that never finished (their process died, or the catalog
        did not answer): their hold goes back, a retry of the key books afresh."""
        count = 0
        older_than = self.now() - dt.timedelta(seconds=grace)
        while True:
            with self.db.transaction() as uow:
                stale = store.stale_intents(uow, older_than, 50)
                for intent in stale:
                    self.services.catalog.release(domain.hold_id(intent["reservation_id"], intent["hold_sequence"]),
                                                  intent["partner_id"])
                    store.abandon_intent(uow, intent["customer_id"], intent["idempotency_key"])
                    log.info("booking_attempt_abandoned", number=intent["number"])
            count += len(stale)
            if len(stale) < 50:
                return count

    # --- releases to the catalog ------------------------------------------------------------------

    def _send_releases(self, release_ids: list[str]) -> None:
        for release_id in release_ids:
            with self.db.transaction() as uow:
                row = store.claim_release(uow, release_id)
                if row is not None:
                    self._send_release(uow, row)

    def _send_due_releases(self) -> int:
        sent = 0
        while True:
            with self.db.transaction() as uow:
                rows = store.due_releases(uow, 50)
                for row in rows:
                    sent += self._send_release(uow, row)
            if len(rows) < 50:
                return sent

    def _send_release(self, uow, row: dict) -> int:
        try:
            self.services.catalog.release(row["hold_id"], row["partner_id"], row["lines"],
                                          row["release_id"] if row["lines"] is not None else None)
        except ServiceUnavailable as exc:
            store.release_failed(uow, row["release_id"], str(exc))
            return 0
        except DomainError as exc:   # refused for good: retrying cannot help, someone must look
            log.error("release_refused", release_id=row["release_id"], code=exc.code, details=exc.details)
        store.release_done(uow, row["release_id"])
        return 1

    def _release_now(self, release_id: str, hold_id: str, partner_id: str) -> None:
        with self.db.transaction() as uow:
            store.queue_release(uow, release_id, hold_id, partner_id, None)
        self._send_releases([release_id])

    # --- settlement (reconciliation) --------------------------------------------------------------

    @rpc
    def settlement_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict:
        """What settlement's ledger should hold from reservations over business dates
        (Asia/Seoul), as its ``ledger_totals`` answers for source "reservations":
        ``{partner_id: {"sales", "fees", "refunds", "sales_count", "fees_count"}}``.
        Sales are completed reservations' totals, fees those of cancellations and
        no-shows; customers' refunds of cancelled bookings are not ledger
        refunds (no sale was booked), so ``refunds`` is 0."""
        period = parse(PeriodIn, {"period_start": period_start, "period_end": period_end})
        if period.period_end < period.period_start:
            raise ValidationFailed(message="request is invalid",
                                   details={"fields": {"period_end": "must not be before period_start"}})
        start = dt.datetime.combine(period.period_start, dt.time(0, 0), domain.PARTNER_TIME_ZONE)
        end = dt.datetime.combine(period.period_end + dt.timedelta(days=1), dt.time(0, 0), domain.PARTNER_TIME_ZONE)
        with self.db.transaction() as uow:
            rows = store.money_totals(uow, partner_id or None, start, end)
        totals: dict = {}
        for row in rows:
            entry = totals.setdefault(row["partner_id"], {"sales": 0, "fees": 0, "refunds": 0, "sales_count": 0,
                                                          "fees_count": 0})
            plural = {"sale": "sales", "fee": "fees", "refund": "refunds"}[row["kind"]]
            entry[plural] = int(row["amount"])
            if plural != "refunds":
                entry[f"{plural}_count"] = int(row["n"])
        return totals

    # --- erasure (R-ACC-3) -------------------------------------------------------------------------

    @event_handler("customer.erased")
    def on_customer_erased(self, event):
        """Booker name and phone go, the customer id becomes the pseudonym (of reviews too); amounts stay.
        A ticket handed to the erased customer's phone loses it (withdrawn if still pending)."""
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            counts = store.pseudonymise_customer(uow, event.payload["customer_id"], event.payload["pseudonym"])
            counts["reviews"] = store.pseudonymise_customer_reviews(uow, event.payload["customer_id"],
                                                                    event.payload["pseudonym"])
            if event.payload.get("phone_key"):   # tickets handed to their phone (issue 16, R-RSV-10)
                counts["transfers_to_phone"] = store.forget_transfers_to_phone(uow, event.payload["phone_key"])
        log.info("customer_pseudonymised", **counts)

    @event_handler("partner.closed")
    def on_partner_closed(self, event):
        """R-ACC-14: the admin chose what becomes of the open bookings. ``cancel``:
        each is cancelled by the partner with a full refund (its customer is told,
        its seats go back); ``serve``: they stay and are served to the end, while
        the catalog refuses new ones."""
        if event.payload.get("open_bookings") != "cancel":
            return
        releases = []
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            for r in store.open_reservations_of(uow, event.payload["partner_id"]):
                outcome = domain.partner_outcome("cancel", r, self.now())
                _, release_id = self._apply(uow, r, outcome, "cancel", "system", None, "partner",
                                            domain.PARTNER_CLOSED_REASON)
                releases.append(release_id)
        self._send_releases(releases)
        log.info("partner_closed", partner_id=event.payload["partner_id"], cancelled=len(releases))

    @event_handler("member.withdrawn")
    def on_member_withdrawn(self, event):
        """A withdrawn staff member stays only as a pseudonym in who-did-what."""
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            counts = store.pseudonymise_member(uow, event.payload["member_id"], event.payload["pseudonym"])
            counts["replies"] = store.pseudonymise_member_reviews(uow, event.payload["member_id"],
                                                                  event.payload["pseudonym"])
        log.info("member_pseudonymised", **counts)


def _cursor(r: dict) -> tuple:
    return r["created_at"].isoformat(), r["reservation_id"]
