"""The application layer of reservations: what each request and event does, in
order, through a unit of work (``Transactions``), the repository (``Store``,
store.py's SQL) and the ports of other services (``CatalogPort``,
``AccountsPort``, ``NotificationsPort``). Rules are domain.py's; the nameko
class in service.py only parses, calls one method here and serialises.

Nothing here knows nameko, psycopg or RabbitMQ, so the orchestration runs in
memory with fakes of all three (tests/test_use_cases.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chassis.ports import HoldingUseCases, UnitOfWork
from chassis import Actor, coupons, idempotency, paging
from chassis.errors import Conflict, DomainError, ServiceUnavailable, ValidationFailed
from chassis.logging import get_logger
from chassis.privacy import mask_phone, search_terms
from chassis.reviews import ReviewIn
from contract.reservations import (
    ChangeDateIn,
    ChatInvitationQuery,
    CustomerListQuery,
    Paging,
    PartnerListQuery,
    ReservationCreate,
)

from . import domain, errors, events, views

log = get_logger(__name__)

Row = dict[str, Any]
NUMBER_DRAWS = 5  # a drawn number already taken is drawn again, this many times at most
ABANDON_BATCH = 50
RELEASE_BATCH = 50
RELEASE_LEASE_SECONDS = 30  # a claimed release is another instance's to send again after this (RPC_TIMEOUT is 5)


# --- what the use cases work through ------------------------------------------------------------


class CatalogPort(Protocol):
    def product_owner(self, product_id: str) -> tuple[str, str]:
        """(partner id, kind) of a live product; 404 for an unknown one."""

    def hold(self, hold_id: str, partner_id: str, lines: list[Row], coupon: Row | None = None) -> Row: ...

    def release(
        self, hold_id: str, partner_id: str, lines: list[Row] | None = None, release_id: str | None = None
    ) -> Row: ...

    def get_product(self, partner_id: str, product_id: str) -> Row: ...

    def slot_board(self, partner_id: str, product_id: str, date_from: str, date_to: str) -> Row: ...


class AccountsPort(Protocol):
    def partner_info(self, partner_id: str) -> Row: ...

    def customer_contact(self, customer_id: str) -> Row: ...


class NotificationsPort(Protocol):
    def open_conversation(self, conversation: Row) -> None:
        """Opens it now; may fail (the ``reservation.chat_accepted`` event opens it anyway)."""


@dataclass(frozen=True)
class Settings:
    default_ttl_hours: int = domain.DEFAULT_REQUEST_TTL_HOURS
    intent_grace_seconds: float = 60.0


@dataclass(frozen=True)
class Cancelled:
    reservation: Row
    plan: domain.CancelPlan


@dataclass(eq=False)
class Reservations(HoldingUseCases[CatalogPort, AccountsPort, Settings]):
    """Every use case of the service, one method each."""

    notifications: NotificationsPort = field(kw_only=True)

    # --- booking (R-RSV-1, R-RSV-3): see service.py's docstring -------------------------------------

    def book(self, customer_id: str, key: str, request: ReservationCreate) -> Row:
        """The 201 body, or the first response of this key replayed (refusals too)."""
        coupons.check_one_coupon(request.coupon_code, request.coupon_id)
        fingerprint = domain.request_fingerprint(coupons.without_unnamed_coupon(request.model_dump(mode="json")))
        intent = self._intent(customer_id, key, fingerprint, request.product_id)
        replayed = idempotency.replay(intent)
        if replayed is not None:
            return replayed
        hold_id = domain.hold_id(intent["reservation_id"], intent["hold_sequence"])
        coupon = coupons.hold_coupon(
            request.coupon_code, request.coupon_id, customer_id, domain.redemption_key(intent["reservation_id"])
        )
        try:
            hold = self.catalog.hold(hold_id, intent["partner_id"], domain.hold_lines(request), coupon=coupon)
        except DomainError as refusal:
            if refusal.status >= 500:
                raise  # no answer: the key stays pending, a retry holds with the same id
            return self._replay(self._finish_refused(intent, refusal), intent["number"])
        self.after_hold()
        return self._finish_booked(intent, request, hold)

    def _intent(self, customer_id: str, key: str, fingerprint: str, product_id: str) -> Row:
        partner_id = self._partner_of_booking_product(product_id)
        for _ in range(NUMBER_DRAWS):
            try:
                # Each statement stands alone: the claim is one INSERT (a concurrent first use
                # waits for the other to commit), the read after it sees what is committed.
                with self.db.statement() as uow:
                    intent: Row = self.store.claim_intent(
                        uow, customer_id, key, fingerprint, uuid.uuid4(), domain.new_number(), partner_id
                    ) or self.store.intent(uow, customer_id, key)
                break
            except domain.NumberTaken:
                continue
        else:
            raise ServiceUnavailable(message="could not draw a reservation number")
        idempotency.check_same_body(intent["fingerprint"], fingerprint)
        if intent["state"] == "abandoned":
            with self.db.statement() as uow:
                intent = self.store.restart_intent(uow, customer_id, key) or self.store.intent(uow, customer_id, key)
        return intent

    def _partner_of_booking_product(self, product_id: str) -> str:
        partner_id, kind = self.catalog.product_owner(product_id)
        if kind != "booking":
            raise ValidationFailed(
                message="this product is not booked",
                details={"fields": {"product_id": "goods are ordered, not booked"}},
            )
        return partner_id

    @staticmethod
    def _replay(intent: Row, number: str) -> Row:
        """The key's first answer; 409 ``booking_interrupted`` while it has none (the
        attempt was abandoned or restarted meanwhile: sending it again books afresh)."""
        replayed = idempotency.replay(intent)
        if replayed is None:
            raise errors.booking_interrupted(number)
        return replayed

    def _finish_refused(self, intent: Row, refusal: DomainError) -> Row:
        """The catalog's refusal becomes this key's response (unless another copy finished first)."""
        customer_id, key = intent["customer_id"], intent["idempotency_key"]
        with self.db.transaction() as uow:
            current = self.store.intent(uow, customer_id, key, lock=True)
            if current["state"] == idempotency.PENDING and current["hold_sequence"] == intent["hold_sequence"]:
                self.store.finish_intent(uow, customer_id, key, idempotency.refused(refusal))
                return dict(self.store.intent(uow, customer_id, key))
        return dict(current)

    def _finish_booked(self, intent: Row, request: ReservationCreate, hold: Row) -> Row:
        hold_id = domain.hold_id(intent["reservation_id"], intent["hold_sequence"])
        with self.db.transaction() as uow:
            if hold["status"] == "held":
                response = self._record_booking(uow, intent, request, hold)
                if response is not None:
                    return response  # the usual case: no second look at the intent (#20)
            current: Row = self.store.intent(uow, intent["customer_id"], intent["idempotency_key"])
        if current["state"] == idempotency.DONE and current["hold_sequence"] == intent["hold_sequence"]:
            return self._replay(current, intent["number"])  # another copy of this request finished first
        # This attempt was abandoned (or refused by another copy) meanwhile: its hold must not stay.
        self._release_now(f"{hold_id}:orphan", hold_id, intent["partner_id"])
        return self._replay(current, intent["number"])

    def _record_booking(self, uow: UnitOfWork, intent: Row, request: ReservationCreate, hold: Row) -> Row | None:
        """The reservation as the held catalog version priced it, with the product's
        policy and booking settings copied onto it; its event; the stored response."""
        settings = domain.BookingSettings.of(self.store.product_settings(uow, intent["partner_id"], request.product_id))
        booked = domain.Reservation.book(intent, request, hold, settings, self.settings.default_ttl_hours, self.now())
        row = booked.as_row()
        response: Row | None = self.store.record_booking(
            uow,
            intent["customer_id"],
            intent["idempotency_key"],
            intent["hold_sequence"],
            row,
            views.creation_view(row),
            {"status": booked.status, "confirmation": booked.confirmation},
        )
        if response is not None:
            actor = "system" if booked.booked_by_system else "customer"
            events.publish(uow, f"reservation.{booked.status}", events.reservation_event(row, actor=actor))
        return response

    # --- finding reservations -----------------------------------------------------------------------

    def reservation(self, uow: UnitOfWork, number: Any, *, partner_id: str | None = None, lock: bool = False) -> Row:
        canonical = domain.canonical_number(number)
        r = self.store.reservation(uow, canonical, partner_id=partner_id, lock=lock) if canonical else None
        if r is None:
            raise errors.reservation_not_found(number if isinstance(number, str) else None)
        return dict(r)

    def held_by(self, uow: UnitOfWork, customer_id: str, number: Any, lock: bool = False) -> Row:
        """Cancelling, moving and reviewing are for the ticket's holder: the booker
        until a hand-over, then the friend (R-RSV-10)."""
        r = self.reservation(uow, number, lock=lock)
        domain.check_holder(r, customer_id)
        return r

    def visible_to_customer(self, uow: UnitOfWork, customer_id: str, number: Any) -> Row:
        r = self.reservation(uow, number)
        if customer_id in (r["customer_id"], r["holder_customer_id"]) or self.store.saved_by(
            uow, customer_id, r["reservation_id"]
        ):
            return r
        raise errors.reservation_not_found(r["number"])

    def customer_reservations(self, customer_id: str, q: CustomerListQuery) -> Row:
        """Booked, held (after a transfer) or saved from a friend's share; newest first."""
        return self._page(
            q,
            lambda uow, after: self.store.customer_reservations(
                uow, customer_id, status=q.status, after=after, limit=q.limit
            ),
            _by_creation,
            lambda r: views.reader_view(r, customer_id),
        )

    def partner_reservations(self, partner_id: str, q: PartnerListQuery) -> Row:
        """Newest first, by status, product, use date, and ``q`` (R-RSV-8)."""
        last4, name_part = search_terms(q.q)
        return self._page(
            q,
            lambda uow, after: self.store.partner_reservations(
                uow,
                partner_id,
                status=q.status,
                last4=last4,
                name_part=name_part,
                product_id=q.product_id,
                use_date=q.date,
                after=after,
                limit=q.limit,
            ),
            _by_creation,
            views.partner_view,
        )

    def _page(
        self,
        q: Paging,
        fetch: Callable[[UnitOfWork, tuple[Any, ...] | None], list[Row]],
        cursor_of: Callable[[Row], tuple[Any, ...]],
        render: Callable[[Row], Row],
    ) -> Row:
        """One page of a list, newest first: ``fetch`` the rows after ``q.cursor`` (a
        creation time and an id) in one transaction, then ``render`` each."""
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = fetch(uow, after)
        return paging.page(rows, q.limit, cursor_of, render)

    def customer_reservation(self, customer_id: str, number: Any) -> tuple[Row, Row | None]:
        """The reservation and, for its booker, the pending hand-over."""
        with self.db.transaction() as uow:
            r = self.visible_to_customer(uow, customer_id, number)
            transfer = (
                self.store.pending_transfer(uow, r["reservation_id"]) if r["customer_id"] == customer_id else None
            )
        return r, transfer

    def partner_reservation(self, partner_id: str, number: Any) -> tuple[Row, list[Row], Row | None]:
        """The reservation, its history and its pending hand-over."""
        with self.db.transaction() as uow:
            r = self.reservation(uow, number, partner_id=partner_id)
            steps = self.store.history(uow, r["reservation_id"])
            transfer = self.store.pending_transfer(uow, r["reservation_id"])
        return r, steps, transfer

    # --- customers: cancellation (R-RSV-4) ------------------------------------------------------------

    def cancellation_quote(self, customer_id: str, number: Any, wanted: list[Row] | None) -> Row:
        with self.db.transaction() as uow:
            r = self.held_by(uow, customer_id, number)
        try:
            plan = domain.plan_customer_cancel(r, wanted, None, self.now())
        except Conflict as refusal:
            return {"number": r["number"], "allowed": False, "reason": refusal.code, "details": refusal.details}
        return {
            "number": r["number"],
            "allowed": True,
            "reason": None,
            "amount": plan.amount,
            "fee": plan.fee,
            "refund": plan.refund,
            "partial": plan.partial,
            "lines": plan.release,
        }

    def cancel_by_customer(
        self, customer_id: str, number: Any, wanted: list[Row] | None, expected_fee: int | None, reason: str | None
    ) -> Cancelled:
        with self.db.transaction() as uow:
            r = self.held_by(uow, customer_id, number, lock=True)
            plan = domain.plan_customer_cancel(r, wanted, expected_fee, self.now())
            updated, release_id = self._cancel(uow, r, plan, reason)
        self.send_releases([release_id])
        return Cancelled(updated, plan)

    def _cancel(self, uow: UnitOfWork, r: Row, plan: domain.CancelPlan, reason: str | None) -> tuple[Row, str]:
        hold_id = domain.hold_id(r["reservation_id"], r["hold_sequence"])
        by_line = {line["line"]: line for line in r["lines"]}
        cancelled_lines = [{**by_line[p["line"]], "quantity": p["quantity"]} for p in plan.release]
        changes = {"refund_amount": r["refund_amount"] + plan.refund, "fee_amount": r["fee_amount"] + plan.fee}
        if plan.partial:
            release_id = f"{hold_id}:part:{uuid.uuid4().hex[:12]}"
            lines = domain.apply_cancellation(r["lines"], plan.release)
            changes.update(lines=lines, total=domain.paid_amount(lines, r["discount_amount"]))
            self.store.queue_release(uow, release_id, hold_id, r["partner_id"], plan.release)
        else:
            release_id = f"{hold_id}:all"
            changes.update(status=domain.CANCELLED, reason=reason, due_at=None)
            self.store.queue_release(uow, release_id, hold_id, r["partner_id"], None)
        updated = self.store.update_reservation(uow, r["reservation_id"], changes)
        self.store.record_money(uow, r["partner_id"], r["number"], "fee", plan.fee)
        self.store.record_history(
            uow,
            r["reservation_id"],
            "partially_cancelled" if plan.partial else "cancelled",
            "customer",
            r["customer_id"],
            {"lines": plan.release, "refund": plan.refund, "fee": plan.fee, "reason": reason},
        )
        events.publish(
            uow,
            "reservation.cancelled",
            events.reservation_event(
                updated,
                actor="customer",
                reason=reason,
                refund_amount=plan.refund,
                fee_amount=plan.fee,
                cancelled_lines=events.cancelled_lines(cancelled_lines),
                partial=plan.partial,
            ),
        )
        return updated, release_id

    # --- customers: date change (R-RSV-5) ---------------------------------------------------------------

    def change_date(self, customer_id: str, number: Any, change: ChangeDateIn) -> Row:
        """Each condition of R-RSV-5 has its own refusal code; the new slot is held
        before the old one is released, so a refused move keeps the booking as it was."""
        with self.db.transaction() as uow:
            r = self.held_by(uow, customer_id, number)
        domain.check_date_change(r, change.date, change.time, self.now())
        domain.check_direct_listing(r, self.accounts.partner_info(r["partner_id"]))
        new_sequence, new_hold = self._guarded_hold_number(r)
        guard = f"{new_hold}:guard"
        # The booking's coupon goes with it: the new hold joins its redemption (kept, not counted again).
        coupon = (
            coupons.hold_coupon(
                None, r["coupon"]["coupon_id"], r["customer_id"], domain.redemption_key(r["reservation_id"])
            )
            if r["coupon"]
            else None
        )
        try:
            hold = self.catalog.hold(
                new_hold, r["partner_id"], domain.moved_hold_lines(r, change.date, change.time), coupon=coupon
            )
        except DomainError as not_held:
            if not_held.status < 500:  # refused: nothing was held, the guard has nothing to do
                with self.db.transaction() as uow:
                    self.store.release_done(uow, guard)
            raise
        refusal: DomainError | None = None
        with self.db.transaction() as uow:
            current = self.held_by(uow, customer_id, number, lock=True)
            try:
                domain.check_move(r, current, hold["status"], change.date, change.time, self.now())
            except DomainError as exc:
                refusal = exc
                release_id = f"{new_hold}:all"
                self.store.queue_release(uow, release_id, new_hold, r["partner_id"], None)
            else:
                self.store.release_done(uow, guard)
                updated, release_id = self._move(uow, current, change, new_sequence)
        self.send_releases([release_id])
        if refusal is not None:
            raise refusal
        return updated

    def _guarded_hold_number(self, r: Row) -> tuple[int, str]:
        """A fresh hold number, with a delayed release of it committed first: if the
        move never commits (the process dies after the catalog held), the timer gives
        the capacity back after the grace period; the move's transaction cancels it."""
        with self.db.transaction() as uow:
            sequence = self.store.next_hold_number(uow, r["reservation_id"])
            hold = domain.hold_id(r["reservation_id"], sequence)
            self.store.queue_release(
                uow, f"{hold}:guard", hold, r["partner_id"], None, delay_seconds=self.settings.intent_grace_seconds
            )
        return sequence, hold

    def _move(self, uow: UnitOfWork, r: Row, change: ChangeDateIn, new_sequence: int) -> tuple[Row, str]:
        old_hold = domain.hold_id(r["reservation_id"], r["hold_sequence"])
        self.store.queue_release(uow, f"{old_hold}:all", old_hold, r["partner_id"], None)
        updated = self.store.update_reservation(
            uow,
            r["reservation_id"],
            {
                "use_date": change.date,
                "use_time": change.time,
                "hold_sequence": new_sequence,
                "due_at": domain.due_at(
                    r["status"], r["cancel_policy"], change.date, change.time, r["created_at"], r["request_ttl_hours"]
                ),
            },
        )
        previous = (r["use_date"], r["use_time"])
        self.store.record_history(
            uow,
            r["reservation_id"],
            "date_changed",
            "customer",
            r["customer_id"],
            {"from": [views.iso(v) for v in previous], "to": [views.iso(change.date), views.iso(change.time)]},
        )
        events.publish(
            uow,
            "reservation.date_changed",
            events.reservation_event(updated, actor="customer", **events.previous_slot(previous)),
        )
        return updated, f"{old_hold}:all"

    # --- customers: sharing and tickets (R-RSV-10) ----------------------------------------------------

    def share(self, customer_id: str, number: Any) -> tuple[Row, str]:
        """The reservation and a token the booker (or the ticket's holder) sends to friends."""
        token = domain.new_token()
        with self.db.transaction() as uow:
            r = self.reservation(uow, number)
            step = domain.Reservation.of(r).share(customer_id)
            self.store.insert_share(uow, domain.token_hash(token), r["reservation_id"], customer_id)
            self._record_step(uow, r, step, "customer", customer_id)
        return r, token

    def shared(self, token: Any) -> Row:
        with self.db.transaction() as uow:
            return self._shared(uow, token)

    def save_shared(self, customer_id: str, token: Any) -> tuple[Row, bool]:
        """The shared reservation, and whether it is the customer's own (then nothing is saved)."""
        with self.db.transaction() as uow:
            r = self._shared(uow, token)
            own = customer_id in (r["customer_id"], r["holder_customer_id"])
            if not own and self.store.save_for(uow, customer_id, r["reservation_id"]):
                self.store.record_history(uow, r["reservation_id"], "saved_by_friend", "customer", customer_id)
        return r, own

    def _shared(self, uow: UnitOfWork, token: Any) -> Row:
        reservation_id = (
            self.store.shared_reservation_id(uow, domain.token_hash(token)) if domain.is_token(token) else None
        )
        if reservation_id is None:
            raise errors.share_not_found()
        return dict(self.store.reservation_by_id(uow, reservation_id))

    def transfer(self, customer_id: str, number: Any, to_phone: str) -> tuple[Row, Row, str]:
        """The ticket's holder hands it to a friend's phone: (reservation, transfer, token)."""
        to_phone_digits = domain.phone_digits(to_phone)
        token = domain.new_token()
        with self.db.transaction() as uow:
            r = self.reservation(uow, number, lock=True)
            step = domain.Reservation.of(r).offer_transfer(customer_id, to_phone_digits)
            self.store.withdraw_pending_transfer(uow, r["reservation_id"])
            transfer = self.store.insert_transfer(
                uow, domain.token_hash(token), r["reservation_id"], customer_id, to_phone_digits
            )
            self._record_step(uow, r, step, "customer", customer_id, {"to_phone": mask_phone(to_phone_digits)})
        return r, transfer, token

    def accept_transfer(self, customer_id: str, token: Any) -> Row:
        """Only the customer whose verified phone (as accounts knows it, R-ACC-12) is
        the transfer's ``to_phone`` takes the ticket; anyone else gets the 404 of an
        unknown token. The transfer row is locked, so of two racing accepts one wins."""
        contact = self.accounts.customer_contact(customer_id)
        with self.db.transaction() as uow:
            transfer = self.store.transfer_by_token(uow, domain.token_hash(token)) if domain.is_token(token) else None
            if transfer is None or not domain.transfer_open_to(transfer, customer_id, contact.get("phone")):
                raise errors.transfer_not_found()
            r = self.store.reservation_by_id(uow, transfer["reservation_id"], lock=True)
            if transfer["state"] == "pending":  # not yet taken (an accepted one is this customer's retry)
                step, changes = domain.Reservation.of(r).accept_transfer(customer_id, contact)
                self.store.accept_transfer(uow, transfer["transfer_id"], customer_id)
                r = self.store.update_reservation(uow, r["reservation_id"], changes)
                self._record_step(
                    uow,
                    r,
                    step,
                    "customer",
                    customer_id,
                    {"from": transfer["from_customer_id"]},
                    event=events.reservation_event(r, actor="customer", to_customer_id=customer_id),
                )
        return dict(r)

    def _record_step(
        self,
        uow: UnitOfWork,
        r: Row,
        step: domain.Step,
        actor_kind: str,
        actor_id: str | None,
        details: Row | None = None,
        event: Row | None = None,
    ) -> None:
        """A step's history, and its event (by default the reservation as the customer changed it)."""
        self.store.record_history(uow, r["reservation_id"], step.history, actor_kind, actor_id, details)
        if step.event is not None:
            events.publish(uow, step.event, event or events.reservation_event(r, actor="customer"))

    # --- chat (R-RSV-11) --------------------------------------------------------------------------------

    def request_chat(self, partner_id: str, number: Any, actor: Actor) -> tuple[Row, Row]:
        """An invitation to the ticket's holder; the conversation exists only once they accept."""
        with self.db.transaction() as uow:
            r = self.reservation(uow, number, partner_id=partner_id, lock=True)
            step = domain.Reservation.of(r).request_chat()
            invitation = self.store.open_invitation(uow, r["reservation_id"])
            if invitation is None:  # one open invitation: asking again shows it
                invitation = self.store.insert_invitation(uow, r, actor.recorded_as)
                self._record_step(
                    uow,
                    r,
                    step,
                    actor.kind,
                    actor.recorded_as,
                    {"invitation_id": invitation["invitation_id"]},
                    event=events.reservation_event(
                        r,
                        actor="partner",
                        invitation_id=invitation["invitation_id"],
                        customer_id=r["holder_customer_id"],
                    ),
                )
        return r, invitation

    def customer_invitations(self, customer_id: str, q: ChatInvitationQuery) -> Row:
        """The customer's chat invitations, newest first, by state."""
        return self._page(
            q,
            lambda uow, after: self.store.customer_invitations(uow, customer_id, q.state, after, q.limit),
            lambda i: (i["created_at"].isoformat(), i["invitation_id"]),
            views.invitation_view,
        )

    def answer_chat(self, customer_id: str, invitation_id: Any, accept: bool) -> Row:
        """Accepting creates the conversation (its id is linked to the reservation and
        carried by ``reservation.chat_accepted``, which notifications opens it from)."""
        wanted = "accepted" if accept else "declined"
        with self.db.transaction() as uow:
            invitation = self.store.invitation_for_customer(uow, invitation_id, customer_id)
            if invitation is None:
                raise errors.invitation_not_found(invitation_id if isinstance(invitation_id, str) else None)
            if invitation["state"] == wanted:
                return dict(invitation)
            domain.check_invitation_pending(invitation)
            r = self.store.reservation_by_id(uow, invitation["reservation_id"], lock=True)
            conversation_id = str(uuid.uuid4()) if accept else None
            step, changes = domain.Reservation.of(r).answer_chat(wanted, conversation_id)
            invitation = {
                **self.store.decide_invitation(uow, invitation["invitation_id"], wanted, conversation_id),
                "number": r["number"],
            }
            if changes:
                r = self.store.update_reservation(uow, r["reservation_id"], changes)
            answered = events.reservation_event(
                r,
                actor="customer",
                invitation_id=invitation["invitation_id"],
                conversation_id=conversation_id or r.get("conversation_id"),
                customer_id=customer_id,
                customer_name_masked=views.holder_name_masked(r),
            )
            self._record_step(
                uow, r, step, "customer", customer_id, {"invitation_id": invitation["invitation_id"]}, event=answered
            )
        if conversation_id:
            self._open_conversation_now(answered)
        return invitation

    def _open_conversation_now(self, answered: Row) -> None:
        """The partner's list shows the conversation as soon as the customer accepts
        (issue 17 item 9); if notifications does not answer in time, the
        ``reservation.chat_accepted`` event opens the same one a moment later."""
        try:
            self.notifications.open_conversation(
                {
                    key: answered[key]
                    for key in (
                        "partner_id",
                        "customer_id",
                        "reservation_number",
                        "invitation_id",
                        "conversation_id",
                        "customer_name_masked",
                    )
                }
            )
        except Exception as exc:  # the acceptance is committed; the event is the way that never fails
            log.warning("conversation_opened_by_event_instead", error=repr(exc)[:300])

    # --- partners: reading (R-RSV-9, R-ACC-11) ------------------------------------------------------------

    def board(self, partner_id: str, product_id: str, date_from: dt.date, date_to: dt.date) -> Row:
        """Per slot: the reservations per state and the catalog's capacity (R-RSV-9)."""
        domain.check_board_period(date_from, date_to)
        slots = self.catalog.slot_board(partner_id, product_id, date_from.isoformat(), date_to.isoformat())
        with self.db.transaction() as uow:
            counts = self.store.board_counts(uow, partner_id, slots["product_id"], date_from, date_to, dated=True)
            counts += [
                c
                for c in self.store.board_counts(uow, partner_id, slots["product_id"], date_from, date_to, dated=False)
                if c["use_date"] is None
            ]
        return domain.board(
            slots,
            [
                {
                    "date": views.iso(c["use_date"]),
                    "time": views.iso(c["use_time"]),
                    "status": c["status"],
                    "reservations": c["reservations"],
                    "quantity": c["quantity"],
                }
                for c in counts
            ],
        )

    def dashboard(self, partner_id: str) -> Row:
        today = domain.local_today(self.now())
        start, _ = domain.business_days(today, today)
        with self.db.transaction() as uow:
            counts = self.store.status_counts(uow, partner_id)
            today_figures = self.store.today_counts(
                uow, partner_id, today, start, visiting=domain.VISITING, awaiting=domain.REQUESTED
            )
        return domain.dashboard(counts, {"date": today.isoformat(), **today_figures})

    # --- partners: acting on a whole reservation (R-RSV-2, R-RSV-6, R-RSV-12) -----------------------------

    def reveal_phone(self, partner_id: str, number: Any, actor: Actor) -> Row:
        with self.db.transaction() as uow:
            r = self.reservation(uow, number, partner_id=partner_id)
            self.store.record_history(uow, r["reservation_id"], "phone_revealed", actor.kind, actor.recorded_as)
        return r

    def partner_action(self, partner_id: str, number: Any, action: str, reason: str | None, actor: Actor) -> Row:
        with self.db.transaction() as uow:
            r = self.reservation(uow, number, partner_id=partner_id, lock=True)
            outcome = domain.partner_outcome(action, r, self.now())
            updated, release_id = self._apply(uow, r, outcome, action, actor.kind, actor.recorded_as, "partner", reason)
        self.send_releases([release_id] if release_id else [])
        return updated

    def _apply(
        self,
        uow: UnitOfWork,
        r: Row,
        outcome: domain.Outcome,
        action: str,
        actor_kind: str,
        actor_id: str | None,
        event_actor: str,
        reason: str | None,
    ) -> tuple[Row, str | None]:
        """One transition: the row, the money as settlement books it, the capacity, the history, the event."""
        changes = {
            "status": outcome.status,
            "reason": reason,
            "refund_amount": r["refund_amount"] + outcome.refund,
            "fee_amount": r["fee_amount"] + outcome.fee,
            "due_at": domain.due_at(
                outcome.status,
                r["cancel_policy"],
                r["use_date"],
                r["use_time"],
                r["created_at"],
                r["request_ttl_hours"],
            ),
        }
        updated = self.store.update_reservation(uow, r["reservation_id"], changes)
        release_id = None
        if outcome.release:
            hold_id = domain.hold_id(r["reservation_id"], r["hold_sequence"])
            release_id = f"{hold_id}:all"
            self.store.queue_release(uow, release_id, hold_id, r["partner_id"], None)
        self.store.record_money(uow, r["partner_id"], r["number"], "sale", outcome.sale)
        self.store.record_money(uow, r["partner_id"], r["number"], "fee", outcome.fee)
        self.store.record_history(
            uow,
            r["reservation_id"],
            action,
            actor_kind,
            actor_id,
            {"reason": reason, "refund": outcome.refund, "fee": outcome.fee},
        )
        events.publish(
            uow,
            outcome.event,
            events.reservation_event(
                updated, actor=event_actor, reason=reason, **events.money(refund=outcome.refund, fee=outcome.fee)
            ),
        )
        return updated, release_id

    # --- reviews (R-RSV-6, R-CAT-6) -----------------------------------------------------------------------

    def post_review(self, customer_id: str, number: Any, data: ReviewIn, key: str | None) -> Row:
        """The booker reviews a completed reservation, once; the same key and body
        get the first review again, another body 409."""
        with self.db.transaction() as uow:
            r = self.held_by(uow, customer_id, number, lock=True)  # one review decision at a time
            fingerprint = domain.request_fingerprint({"review_of": r["number"], **data.model_dump()})
            if key and (first := self._first_review(uow, customer_id, key, fingerprint)) is not None:
                return first
            domain.check_reviewable(r)
            review = self.store.insert_review(
                uow,
                {
                    "review_id": uuid.uuid4(),
                    "reservation_id": r["reservation_id"],
                    "number": r["number"],
                    "partner_id": r["partner_id"],
                    "product_id": r["product_id"],
                    "customer_id": customer_id,
                    "rating": data.rating,
                    "body": data.body,
                    "request_key": key,
                    "request_fingerprint": fingerprint if key else None,
                },
            )
            if review is None:
                if self.store.review_of_reservation(uow, r["reservation_id"]) is None:
                    raise idempotency.key_reused()  # the key went to another reservation's review meanwhile
                raise errors.review_exists(r["number"])
            events.publish(uow, "reservation.review_posted", events.review_event(r, review, actor="customer"))
        return dict(review)

    def _first_review(self, uow: UnitOfWork, customer_id: str, key: str, fingerprint: str) -> Row | None:
        first = self.store.review_by_key(uow, customer_id, key)
        if first is None:
            return None
        idempotency.check_same_body(first["request_fingerprint"], fingerprint)
        return {**first, "reply": None, "replied_at": None}  # as it was first answered

    def reply_review(self, partner_id: str, review_id: Any, text: str, actor: Actor) -> Row:
        """The partner replies once; another partner's or an unknown review is 404."""
        with self.db.transaction() as uow:
            review = self.store.review(uow, partner_id, review_id)
            if review is None:
                raise errors.review_not_found(review_id)
            replied = self.store.reply_review(uow, partner_id, review["review_id"], text, actor.recorded_as)
            if replied is None:
                raise errors.already_replied(review["review_id"])
            r = self.store.reservation_by_id(uow, review["reservation_id"])
            events.publish(uow, "reservation.review_replied", events.review_event(r, replied, actor="partner"))
        return dict(replied)

    # --- partners: booking settings per product ----------------------------------------------------------

    def product_settings(self, partner_id: str, product_id: str) -> tuple[str, domain.BookingSettings]:
        product = self.catalog.get_product(partner_id, product_id)  # 404 unless the partner's
        with self.db.transaction() as uow:
            row = self.store.product_settings(uow, partner_id, product["product_id"])
        return product["product_id"], domain.BookingSettings.of(row)

    def set_product_settings(
        self, partner_id: str, product_id: str, changes: Row, actor: Actor
    ) -> tuple[str, domain.BookingSettings]:
        """Applies to bookings made from now on (a reservation keeps what it was made with)."""
        domain.check_setting_changes(changes)
        product = self.catalog.get_product(partner_id, product_id)
        domain.check_booking_product(product)
        with self.db.transaction() as uow:
            current = domain.BookingSettings.of(self.store.product_settings(uow, partner_id, product["product_id"]))
            row = self.store.save_product_settings(
                uow, partner_id, product["product_id"], current.with_changes(changes).stored(), actor.recorded_as
            )
        return product["product_id"], domain.BookingSettings.of(row)

    # --- timers (R-CAT-6, R-RSV-1) ------------------------------------------------------------------------

    def timer_pass(self, as_of: dt.datetime, batch_size: int, grace_seconds: float) -> Row:
        """Expiries, completions and no-shows due by ``as_of``; booking attempts pending
        longer than the grace; queued releases. Counts of each."""
        done = {"expired": 0, "completed": 0, "no_show": 0}
        while True:
            released = []
            with self.db.transaction() as uow:
                rows = self.store.due_reservations(uow, as_of, batch_size)
                for r in rows:
                    outcome = domain.timer_outcome(r)
                    if outcome is None:
                        self.store.update_reservation(uow, r["reservation_id"], {"due_at": None})
                        continue
                    action = outcome.action or outcome.status
                    _, release_id = self._apply(uow, r, outcome, action, "system", None, "system", outcome.reason)
                    released += [release_id] if release_id else []
                    done[action] += 1
            self.send_releases(released)
            if len(rows) < batch_size:
                break
        done["abandoned_attempts"] = self._abandon_stale_intents(grace_seconds)
        done["releases_sent"] = self._send_due_releases()
        return done

    def _abandon_stale_intents(self, grace_seconds: float) -> int:
        """Booking attempts that never finished (their process died, or the catalog
        did not answer) are marked abandoned with their hold's release queued, in one
        short transaction; the release goes out after it commits (the queue retries
        it), so no row stays locked while the catalog is asked. A retry of the key
        books afresh with the next hold id."""
        count = 0
        older_than = self.now() - dt.timedelta(seconds=grace_seconds)
        while True:
            released = []
            with self.db.transaction() as uow:
                stale = self.store.stale_intents(uow, older_than, ABANDON_BATCH)
                for intent in stale:
                    hold_id = domain.hold_id(intent["reservation_id"], intent["hold_sequence"])
                    self.store.queue_release(uow, f"{hold_id}:abandoned", hold_id, intent["partner_id"], None)
                    self.store.abandon_intent(uow, intent["customer_id"], intent["idempotency_key"])
                    released.append(f"{hold_id}:abandoned")
            for intent in stale:
                log.info("booking_attempt_abandoned", number=intent["number"])
            self.send_releases(released)
            count += len(stale)
            if len(stale) < ABANDON_BATCH:
                return count

    # --- releases to the catalog ---------------------------------------------------------------------------

    def send_releases(self, release_ids: list[str]) -> None:
        """Right after the change that queued them committed."""
        if release_ids:
            self._send(lambda uow: self.store.claim_releases(uow, release_ids, RELEASE_LEASE_SECONDS))

    def _send_due_releases(self) -> int:
        sent = 0
        while True:
            claimed, sent_now = self._send(
                lambda uow: self.store.claim_due_releases(uow, RELEASE_BATCH, RELEASE_LEASE_SECONDS)
            )
            sent += sent_now
            if claimed < RELEASE_BATCH:
                return sent

    def _send(self, claim: Callable[[UnitOfWork], list[Row]]) -> tuple[int, int]:
        """Claims releases in one short transaction (another instance skips them for the
        lease), asks the catalog with no transaction open, then records each outcome in
        its own. A process that dies meanwhile leaves them to the next pass after the
        lease: sending twice is safe, the catalog releases a hold or a release id once.
        (Claimed, sent)."""
        with self.db.transaction() as uow:
            rows = claim(uow)
        return len(rows), sum(self._send_release(row) for row in rows)

    def _send_release(self, row: Row) -> int:
        try:
            self.catalog.release(
                row["hold_id"], row["partner_id"], row["lines"], row["release_id"] if row["lines"] is not None else None
            )
        except ServiceUnavailable as exc:
            with self.db.transaction() as uow:
                self.store.release_failed(
                    uow, row["release_id"], str(exc), domain.release_retry_seconds(row["attempts"])
                )
            return 0
        except DomainError as exc:  # refused for good: retrying cannot help, someone must look
            log.error("release_refused", release_id=row["release_id"], code=exc.code, details=exc.details)
        with self.db.transaction() as uow:
            self.store.release_done(uow, row["release_id"])
        return 1

    def _release_now(self, release_id: str, hold_id: str, partner_id: str) -> None:
        with self.db.transaction() as uow:
            self.store.queue_release(uow, release_id, hold_id, partner_id, None)
        self.send_releases([release_id])

    # --- settlement (reconciliation) ------------------------------------------------------------------------

    def settlement_totals(self, partner_id: str | None, period_start: dt.date, period_end: dt.date) -> Row:
        """What settlement's ledger should hold from reservations over business dates."""
        domain.check_period(period_start, period_end)
        start, end = domain.business_days(period_start, period_end)
        with self.db.transaction() as uow:
            rows = self.store.money_totals(uow, partner_id or None, start, end)
        return domain.ledger_totals(rows)

    # --- events from other services ---------------------------------------------------------------------------

    def customer_erased(self, envelope: Any) -> None:
        """Booker name and phone go, the customer id becomes the pseudonym (of reviews too); amounts stay.
        A ticket handed to the erased customer's phone loses it (withdrawn if still pending)."""
        self._pseudonymise(envelope, self._erase_customer, "customer_pseudonymised")

    def _erase_customer(self, uow: UnitOfWork, payload: Row) -> Row:
        counts: Row = self.store.pseudonymise_customer(uow, payload["customer_id"], payload["pseudonym"])
        counts["reviews"] = self.store.pseudonymise_customer_reviews(uow, payload["customer_id"], payload["pseudonym"])
        if payload.get("phone_key"):  # tickets handed to their phone (issue 16, R-RSV-10)
            counts["transfers_to_phone"] = self.store.forget_transfers_to_phone(uow, payload["phone_key"])
        return counts

    def member_withdrawn(self, envelope: Any) -> None:
        """A withdrawn staff member stays only as a pseudonym in who-did-what."""
        self._pseudonymise(envelope, self._forget_member, "member_pseudonymised")

    def _forget_member(self, uow: UnitOfWork, payload: Row) -> Row:
        counts: Row = self.store.pseudonymise_member(uow, payload["member_id"], payload["pseudonym"])
        counts["replies"] = self.store.pseudonymise_member_reviews(uow, payload["member_id"], payload["pseudonym"])
        return counts

    def _pseudonymise(self, envelope: Any, erase: Callable[[UnitOfWork, Row], Row], logged: str) -> None:
        """Once per event (a redelivered copy changes nothing); what changed is logged."""
        with self.db.consuming(envelope) as uow:
            if uow is None:
                return
            counts = erase(uow, envelope.payload)
        log.info(logged, **counts)

    def partner_closed(self, envelope: Any) -> None:
        """R-ACC-14: the admin chose what becomes of the open bookings. ``cancel``:
        each is cancelled by the partner with a full refund (its customer is told,
        its seats go back); ``serve``: they stay and are served to the end, while
        the catalog refuses new ones."""
        if envelope.payload.get("open_bookings") != "cancel":
            return
        releases = []
        with self.db.consuming(envelope) as uow:
            if uow is None:
                return
            for r in self.store.open_reservations_of(uow, envelope.payload["partner_id"], domain.OPEN):
                outcome = domain.partner_outcome("cancel", r, self.now())
                _, release_id = self._apply(
                    uow, r, outcome, "cancel", "system", None, "partner", domain.PARTNER_CLOSED_REASON
                )
                releases += [release_id] if release_id else []
        self.send_releases(releases)
        log.info("partner_closed", partner_id=envelope.payload["partner_id"], cancelled=len(releases))


def _by_creation(r: Row) -> tuple[Any, ...]:
    """A reservation list's cursor: creation time, then id."""
    return r["created_at"].isoformat(), r["reservation_id"]
