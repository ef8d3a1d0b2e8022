"""The reservations service: the booking lifecycle, customer and partner sides
(R-RSV-1..11). Entrypoints only: they parse the call (schemas.py), hand it to
use_cases.py (the orchestration, through the unit of work and the ports of
adapters.py) and return its view; the rules are in domain.py (whose docstring
lists the choices made where the rules are silent), the SQL in store.py.

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


import psycopg
from nameko.timer import timer

from chassis import Actor, idempotency, privacy
from chassis.consumer import handles
from chassis.errors import ServiceUnavailable
from chassis.logging import get_logger
from chassis.reviews import ReplyIn, ReviewIn
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import domain, store, views
from .adapters import CatalogRpc, NotificationsRpc, die_if_asked_after_hold
from .schemas import (
    BoardQuery,
    ChangeDateIn,
    ChatInvitationQuery,
    CustomerCancelIn,
    CustomerListQuery,
    OptionalReasonIn,
    PartnerListQuery,
    PeriodIn,
    ProductSettingsIn,
    QuoteQuery,
    RequiredReasonIn,
    ReservationCreate,
    TimerPassIn,
    TransferIn,
)
from .use_cases import Reservations, Settings

log = get_logger(__name__)

TIMER_INTERVAL_SECONDS = 10
DEFAULT_INTENT_GRACE_SECONDS = 60


class ReservationsService(DataService):
    name = "reservations"

    @property
    def settings(self) -> Settings:
        return Settings(
            default_ttl_hours=int(self.config.get("REQUEST_TTL_HOURS") or domain.DEFAULT_REQUEST_TTL_HOURS),
            intent_grace_seconds=float(self.config.get("INTENT_GRACE_SECONDS") or DEFAULT_INTENT_GRACE_SECONDS),
        )

    @property
    def use_cases(self) -> Reservations:
        return Reservations(
            self.db,
            store,
            CatalogRpc(self.services.catalog),
            self.services.accounts,
            self.settings,
            self.now,
            after_hold=die_if_asked_after_hold,
            notifications=NotificationsRpc(self.services.notifications),
        )

    # --- customers: booking (R-RSV-1, R-RSV-3) ------------------------------------------

    @rpc
    def create_reservation(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """201 body, or the first response of this key replayed; see the module docstring."""
        customer_id = require_id(customer_id, "customer_id")
        key = idempotency.check_key(idempotency_key, "a reservation")
        return self.use_cases.book(customer_id, key, parse(ReservationCreate, body))

    # --- customers: their reservations ----------------------------------------------------

    @rpc
    def list_customer_reservations(self, customer_id: str, query: dict | None = None) -> dict:
        """Booked, held (after a transfer) or saved from a friend's share; newest first."""
        customer_id = require_id(customer_id, "customer_id")
        return self.use_cases.customer_reservations(customer_id, parse_query(CustomerListQuery, query))

    @rpc
    def get_customer_reservation(self, customer_id: str, number: str) -> dict:
        customer_id = require_id(customer_id, "customer_id")
        r, transfer = self.use_cases.customer_reservation(customer_id, number)
        return views.reader_view(r, customer_id, transfer)

    # --- customers: cancellation (R-RSV-4) -------------------------------------------------

    @rpc
    def cancellation_quote(self, customer_id: str, number: str, query: dict | None = None) -> dict:
        """What cancelling now would refund and cost, or why it is refused (R-RSV-4)."""
        wanted = parse_query(QuoteQuery, query).cancel_lines()
        return self.use_cases.cancellation_quote(require_id(customer_id, "customer_id"), number, wanted)

    @rpc
    def cancel_by_customer(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """The whole booking or some lines; refund and fee from the policy as sold and
        the clock; refused with a reason code (R-RSV-4). Capacity goes back to the catalog."""
        customer_id = require_id(customer_id, "customer_id")
        data = parse(CustomerCancelIn, body)
        wanted = [line.model_dump() for line in data.lines] if data.lines is not None else None
        done = self.use_cases.cancel_by_customer(customer_id, number, wanted, data.expected_fee, data.reason or None)
        return views.cancellation_view(done.reservation, customer_id, done.plan)

    # --- customers: date change (R-RSV-5) ----------------------------------------------------

    @rpc
    def change_date(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """Each condition of R-RSV-5 has its own refusal code; the new slot is held
        before the old one is released, so a refused move keeps the booking as it was."""
        customer_id = require_id(customer_id, "customer_id")
        moved = self.use_cases.change_date(customer_id, number, parse(ChangeDateIn, body))
        return views.customer_view(moved, customer_id)

    # --- customers: sharing and tickets (R-RSV-10) ---------------------------------------------

    @rpc
    def share(self, customer_id: str, number: str) -> dict:
        """A token the booker (or the ticket's holder) sends to friends; each may save it."""
        r, token = self.use_cases.share(require_id(customer_id, "customer_id"), number)
        return {"number": r["number"], "share_token": token}

    @rpc
    def get_shared(self, customer_id: str, token: str) -> dict:
        return views.shared_view(self.use_cases.shared(token))

    @rpc
    def save_shared(self, customer_id: str, token: str) -> dict:
        """A friend keeps the shared reservation in their list (read only)."""
        customer_id = require_id(customer_id, "customer_id")
        r, own = self.use_cases.save_shared(customer_id, token)
        return views.saved_view(r, customer_id, own)

    @rpc
    def transfer(self, customer_id: str, number: str, body: dict | None = None) -> dict:
        """The ticket's holder hands it to a friend's phone: the friend accepts with
        the token (the service knows customers by id, not by phone); until then the
        holder keeps it and a new transfer replaces the pending one."""
        customer_id = require_id(customer_id, "customer_id")
        r, transfer, token = self.use_cases.transfer(customer_id, number, parse(TransferIn, body).to_phone)
        return {"number": r["number"], "transfer": views.transfer_view(transfer), "transfer_token": token}

    @rpc
    def accept_transfer(self, customer_id: str, token: str) -> dict:
        """Only the customer whose verified phone is the transfer's ``to_phone`` takes the ticket."""
        customer_id = require_id(customer_id, "customer_id")
        return views.customer_view(self.use_cases.accept_transfer(customer_id, token), customer_id)

    # --- chat (R-RSV-11) ---------------------------------------------------------------------

    @rpc
    def request_chat(self, partner_id: str, number: str, actor=None) -> dict:
        """An invitation to the ticket's holder; the conversation exists only once they accept."""
        r, invitation = self.use_cases.request_chat(partner_id, number, Actor.from_wire(actor))
        return {**views.invitation_view(invitation), "number": r["number"]}

    @rpc
    def list_chat_invitations(self, customer_id: str, query: dict | None = None) -> dict:
        customer_id = require_id(customer_id, "customer_id")
        return self.use_cases.customer_invitations(customer_id, parse_query(ChatInvitationQuery, query))

    @rpc
    def answer_chat(self, customer_id: str, invitation_id: str, accept: bool) -> dict:
        """Accepting creates the conversation (``reservation.chat_accepted`` carries its id)."""
        customer_id = require_id(customer_id, "customer_id")
        return views.invitation_view(self.use_cases.answer_chat(customer_id, invitation_id, accept))

    # --- partners: reading (R-RSV-8, R-RSV-9) ---------------------------------------------------

    @rpc
    def list_reservations(self, partner_id: str, query: dict | None = None) -> dict:
        """Newest first, by status, product, use date, and ``q`` (R-RSV-8)."""
        partner_id = require_id(partner_id, "partner_id")
        return self.use_cases.partner_reservations(partner_id, parse_query(PartnerListQuery, query))

    @rpc
    def get_reservation(self, partner_id: str, number: str) -> dict:
        r, steps, transfer = self.use_cases.partner_reservation(require_id(partner_id, "partner_id"), number)
        return views.partner_detail_view(r, steps, transfer)

    @rpc
    def reservation_board(self, partner_id: str, query: dict | None = None) -> dict:
        """Per slot: requested, confirmed, completed, booked quantity, and the catalog's
        capacity, remaining, blocked and past (R-RSV-9)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(BoardQuery, query)
        return self.use_cases.board(partner_id, q.product_id, q.date_from, q.date_to)

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """R-ACC-11: counts by state and today's bookings (created today, visits today,
        requests for today awaiting confirmation). Every staff role sees the same."""
        return self.use_cases.dashboard(require_id(partner_id, "partner_id"))

    # --- partners: acting on a whole reservation (R-RSV-2, R-RSV-6) ---------------------------

    @rpc
    def reveal_phone(self, partner_id: str, number: str, actor: dict) -> dict:
        """R-RSV-12: an admin or master (the gateway's access level) sees the
        booker's whole phone, to call them; the reveal is a step of the
        reservation's history (who and when), as any other act on it."""
        r = self.use_cases.reveal_phone(require_id(partner_id, "partner_id"), number, Actor.from_wire(actor))
        return {"number": r["number"], "phone": privacy.format_phone(r["booker_phone"])}

    @rpc
    def partner_action(self, partner_id: str, number: str, action: str, body: dict | None = None, actor=None) -> dict:
        """confirm, reject (reason), complete, cancel (reason), no_show; 409 ``invalid_state``
        naming the current state. Reject and cancel refund in full and free the capacity."""
        partner_id = require_id(partner_id, "partner_id")
        transition = domain.partner_transition(action)
        reason_model: type[RequiredReasonIn | OptionalReasonIn] = (
            RequiredReasonIn if transition.needs_reason else OptionalReasonIn
        )
        reason = parse(reason_model, body).reason or None
        updated = self.use_cases.partner_action(partner_id, number, action, reason, Actor.from_wire(actor))
        return views.partner_view(updated)

    # --- reviews (R-RSV-6, R-CAT-6) --------------------------------------------------------------

    @rpc
    def post_review(
        self, customer_id: str, number: str, body: dict | None = None, idempotency_key: str | None = None
    ) -> dict:
        """The booker reviews a completed reservation, once: 201 body (chassis.reviews' view).
        404 unless they booked it; 409 ``review_not_allowed`` naming the state, ``review_exists``.
        The same Idempotency-Key and body get the first response again; another body 409."""
        customer_id = require_id(customer_id, "customer_id")
        key = idempotency.check_key(idempotency_key)
        review = self.use_cases.post_review(customer_id, number, parse(ReviewIn, body), key)
        return views.review_view(review)

    @rpc
    def reply_review(self, partner_id: str, review_id: str, body: dict | None = None, actor=None) -> dict:
        """The partner replies once; another partner's or an unknown review is 404
        ``review_not_found`` (the gateway then asks orders), a second reply 409 ``already_replied``."""
        partner_id = require_id(partner_id, "partner_id")
        text = parse(ReplyIn, body).body
        replied = self.use_cases.reply_review(partner_id, review_id, text, Actor.from_wire(actor))
        return views.review_view(replied)

    # --- partners: booking settings per product ------------------------------------------------

    @rpc
    def get_product_settings(self, partner_id: str, product_id: str) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        product_id, settings = self.use_cases.product_settings(partner_id, product_id)
        return views.settings_view(partner_id, product_id, settings, self.settings.default_ttl_hours)

    @rpc
    def set_product_settings(self, partner_id: str, product_id: str, body: dict | None = None, actor=None) -> dict:
        """Applies to bookings made from now on (a reservation keeps what it was made with)."""
        partner_id = require_id(partner_id, "partner_id")
        changes = parse(ProductSettingsIn, body).model_dump(exclude_unset=True)
        product_id, settings = self.use_cases.set_product_settings(
            partner_id, product_id, changes, Actor.from_wire(actor)
        )
        return views.settings_view(partner_id, product_id, settings, self.settings.default_ttl_hours)

    # --- timers and reconciliation (R-CAT-6) ----------------------------------------------------

    @timer(interval=TIMER_INTERVAL_SECONDS)
    def timers(self):
        """Every few seconds on every instance; rows are claimed with SKIP LOCKED, so
        instances share the work. Off with TIMERS=false (the RPC still runs a pass)."""
        if str(self.config.get("TIMERS", True)).lower() in ("false", "0", "no"):
            return
        try:
            self.use_cases.timer_pass(self.now(), 200, self.settings.intent_grace_seconds)
        except (ServiceUnavailable, psycopg.OperationalError) as exc:
            log.warning("timer_pass_failed", error=repr(exc))

    @rpc
    def run_timers(self, body: dict | None = None) -> dict:
        """The timer pass "as of" a time (tests, ops): expiries, completions, no-shows
        due by then; plus booking attempts pending for longer than
        ``abandon_after_seconds`` (default the grace) and queued releases."""
        data = parse(TimerPassIn, body)
        grace = self.settings.intent_grace_seconds if data.abandon_after_seconds is None else data.abandon_after_seconds
        return self.use_cases.timer_pass(data.as_of or self.now(), data.batch_size, grace)

    # --- settlement (reconciliation) --------------------------------------------------------------

    @rpc
    def settlement_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict:
        """What settlement's ledger should hold from reservations over business dates
        (Asia/Seoul), as its ``ledger_totals`` answers for source "reservations":
        ``{partner_id: {"sales", "fees", "refunds", "sales_count", "fees_count"}}``
        (domain.ledger_totals says what each is)."""
        period = parse(PeriodIn, {"period_start": period_start, "period_end": period_end})
        return self.use_cases.settlement_totals(partner_id, period.period_start, period.period_end)

    # --- events of other services (R-ACC-3, R-ACC-14) -------------------------------------------------

    @handles("customer.erased")
    def on_customer_erased(self, event):
        """Booker name and phone go, the customer id becomes the pseudonym; amounts stay."""
        self.use_cases.customer_erased(event)

    @handles("partner.closed")
    def on_partner_closed(self, event):
        """R-ACC-14: the open bookings are cancelled or served, as the admin chose."""
        self.use_cases.partner_closed(event)

    @handles("member.withdrawn")
    def on_member_withdrawn(self, event):
        """A withdrawn staff member stays only as a pseudonym in who-did-what."""
        self.use_cases.member_withdrawn(event)
