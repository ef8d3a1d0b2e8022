"""The orders service: cafe orders (seed 004) and shop orders (seed 003), R-ORD-1..9.

Entrypoints only: they validate (schemas.py) and call the application layer
(use_cases.py), which works through a unit of work, the repository (store.py)
and ports to the catalog and accounts; the rules are domain.py's (whose
docstring lists the choices made where the seeds are silent), the events
events.py's and the replies views.py's.

RPC contract (the gateway's routes/orders.py calls these)
=========================================================
Customers (``customer_id`` is the caller's, checked by the gateway):
``create_order(customer_id, body, idempotency_key)``, ``customer_list_orders``,
``customer_get_order``, ``customer_cancel``, ``request_refund``,
``request_exchange``, ``post_inquiry``, ``post_review``.
Partners (every call names the partner; another partner's order is 404):
``list_orders``, ``get_order``, ``start_preparing``, ``complete``,
``prepare_shipment``, ``ship``, ``deliver``, ``partner_cancel``,
``correct_shipment``, ``approve_refund``, ``reject_refund``,
``approve_exchange``, ``reject_exchange``, ``answer_inquiry``,
``reply_review``, ``list_requests``, ``list_inquiries`` (reviews are listed by insights).
Others: ``dashboard_summary(partner_id, role)`` (R-ACC-11),
``settlement_totals(partner_id, period_start, period_end)`` (reconciliation
with the settlement ledger), ``run_timer_pass(as_of=None)`` (the timer's pass
"as of" a time: the injectable clock of tests and ops).

Creation and its Idempotency-Key
--------------------------------
The key (per customer) is claimed first with a fresh catalog hold id; the
hold is taken under that id (the catalog makes it idempotent), and the order,
its lines, the key's stored response and ``order.received`` are written in one
transaction. The same key and body replays the first response; another body is
409 ``idempotency_key_reused``; two requests racing with one key share the
hold and create one order. A refused creation (out of stock, a channel the
partner does not offer) is the key's answer too: the same key and body replay
the refusal (chassis.idempotency, api.md), a new key is evaluated again. A
creation interrupted after its hold
(crash, timeout) is retried by the client with the same key, or swept by the
timer after ``PENDING_CREATION_SECONDS``, which gives the hold back.

The timer (R-ORD-2)
-------------------
Every ``TIMER_INTERVAL`` seconds each instance claims due dine-in/takeout
orders (``auto_complete_at`` stored in the row, ``FOR UPDATE SKIP LOCKED``,
batches of ``TIMER_BATCH``) and completes them at their due time, one event
each; several instances never complete an order twice and a restart loses
nothing. The same pass retries stock releases the catalog has not confirmed
and sweeps interrupted creations. No catalog call is made inside a transaction
that holds row locks: a release (or a sweep) is claimed for a while in one
transaction, sent after its commit, and marked done in another; the catalog
gives a release back once however often it is sent.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket

from nameko.timer import Timer

from chassis import Actor, idempotency
from chassis.consumer import event_handler
from chassis.logging import get_logger
from chassis.partner_info import PartnerInfoCache
from chassis.rpc_contracts import HoldReply, ProductSummary
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import errors, store
from .schemas import (
    AnswerIn,
    ExchangeApproveIn,
    ExchangeRequestIn,
    InquiryIn,
    ListQuery,
    OrderCreate,
    PeriodIn,
    ReasonIn,
    ReasonRequired,
    RefundRequestIn,
    RequestListQuery,
    ReviewIn,
    ShipmentCorrectionIn,
    ShipmentIn,
    StartPreparingIn,
)
from .use_cases import Orders, Settings

log = get_logger(__name__)

DEFAULT_TIMER_INTERVAL = 10.0  # seconds: an order completes within seconds of its due minute
FAULT_ENV = "PC_FAULT_INJECT"
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


class ConfigTimer(Timer):
    """A timer whose interval comes from the service config (``TIMER_INTERVAL``); 0 turns it off."""

    def __init__(self, key: str, default: float, **kwargs):
        self.key = key
        self.default = default
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.key, self.default) or 0)

    def start(self):
        if self.interval > 0:
            super().start()

    def stop(self):
        if self.gt is not None:
            super().stop()

    def kill(self):
        if self.gt is not None:
            super().kill()


def crash_after_hold() -> None:
    """The crash test's fault (``PC_FAULT_INJECT=orders_kill_after_hold``): the hold is
    taken, the order not written."""
    if os.environ.get(FAULT_ENV) == "orders_kill_after_hold":
        os.kill(os.getpid(), signal.SIGKILL)


class CatalogRpc:
    """The catalog's RPC as the use cases' ``CatalogPort``, its replies read as the typed contracts."""

    def __init__(self, proxy):
        self.proxy = proxy

    def hold(self, hold_id, partner_id, lines, coupon=None, kind=None):
        return HoldReply.read(self.proxy.hold(hold_id, partner_id, lines, coupon=coupon, kind=kind)).as_reply()

    def release(self, hold_id, partner_id, lines=None, release_id=None):
        return HoldReply.read(self.proxy.release(hold_id, partner_id, lines, release_id)).as_reply()

    def get_live_product(self, partner_id, product_id):
        return ProductSummary.read(self.proxy.get_live_product(partner_id, product_id)).as_reply()


class OrdersService(DataService):
    name = "orders"
    partners = PartnerInfoCache()  # one per process: every worker reads the same answers

    @property
    def orders(self) -> Orders:
        """This worker's use cases, with its transactions and RPC proxies."""
        config = self.config
        settings = Settings(
            auto_complete_after=dt.timedelta(minutes=float(config.get("AUTO_COMPLETE_MINUTES") or 60)),
            timer_batch=int(config.get("TIMER_BATCH", 500)),
            release_retry_seconds=float(config.get("RELEASE_RETRY_SECONDS", 5)),
            pending_creation_seconds=float(config.get("PENDING_CREATION_SECONDS", 120)),
            idempotency_key_hours=float(config.get("IDEMPOTENCY_KEY_HOURS", 24)),
            instance=config.get("INSTANCE_NAME") or INSTANCE,
        )
        return Orders(
            self.db,
            store,
            CatalogRpc(self.services.catalog),
            self.services.accounts,
            settings,
            self.now,
            after_hold=crash_after_hold,
            partners=self.partners,
        )

    # --- customers: ordering (R-ORD-1, R-ORD-6) ----------------------------------------------

    @rpc
    def create_order(
        self, customer_id: str, body: dict, idempotency_key: str | None = None, customer_name: str | None = None
    ) -> dict:
        """Take stock and record the order; see the module docstring for the key.
        ``customer_name``: the gateway's principal knows it, which spares asking accounts."""
        key = idempotency.check_key(idempotency_key, creating="an order")
        return self.orders.create_order(customer_id, key, parse(OrderCreate, body), customer_name)

    # --- customers: their orders ---------------------------------------------------------

    @rpc
    def customer_list_orders(self, customer_id: str, query: dict | None = None) -> dict:
        return self.orders.list_orders(parse_query(ListQuery, query), customer_id=customer_id)

    @rpc
    def customer_get_order(self, customer_id: str, order_id: str) -> dict:
        return self.orders.customer_order(customer_id, order_id)

    @rpc
    def customer_cancel(self, customer_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-5: only before preparation or shipment starts."""
        reason = parse(ReasonIn, body).reason
        return self.orders.cancel(order_id, "customer", reason, customer_id=customer_id)

    @rpc
    def customer_change_order(self, customer_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-4: nothing changes after receipt (cancel and order again)."""
        return self.orders.refuse_change(order_id, customer_id=customer_id)

    # --- partners: the order board (R-ORD-1..5, R-ORD-7) ------------------------------------------

    @rpc
    def list_couriers(self) -> dict:
        """The couriers the platform knows, with their tracking URL templates (R-ORD-7)."""
        return self.orders.couriers()

    @rpc
    def list_orders(self, partner_id: str, query: dict | None = None) -> dict:
        """Newest first, ``?channel=dine_in,takeout`` / ``delivery`` tabs, ``?status=`` (R-ORD-1)."""
        return self.orders.list_orders(parse_query(ListQuery, query), partner_id=partner_id)

    @rpc
    def get_order(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        """The staff view; a recipient shown whole for the waybill is a recorded access (R-RSV-12)."""
        return self.orders.partner_order(partner_id, order_id, Actor.from_wire(actor))

    @rpc
    def reveal_phone(self, partner_id: str, order_id: str, actor: dict) -> dict:
        """R-RSV-12: an admin or master sees the whole phone to call about this
        order: the recipient's when it ships, else the customer's verified one
        (accounts); recorded with who and when."""
        return self.orders.reveal_phone(partner_id, order_id, Actor.from_wire(actor))

    @rpc
    def start_preparing(
        self, partner_id: str, order_id: str, body: dict | None = None, actor: dict | None = None
    ) -> dict:
        """R-ORD-2; ``{minutes}`` (seed 004 소요 시간) sets the expected ready time."""
        minutes = parse(StartPreparingIn, body).minutes
        return self.orders.transition(
            partner_id, order_id, "start_preparing", Actor.from_wire(actor), preparation_minutes=minutes
        )

    @rpc
    def complete(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        return self.orders.transition(partner_id, order_id, "complete", Actor.from_wire(actor))

    @rpc
    def prepare_shipment(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        return self.orders.transition(partner_id, order_id, "prepare_shipment", Actor.from_wire(actor))

    @rpc
    def ship(self, partner_id: str, order_id: str, body: dict, actor: dict | None = None) -> dict:
        shipment = parse(ShipmentIn, body)
        return self.orders.ship(partner_id, order_id, shipment.courier, shipment.invoice_number, Actor.from_wire(actor))

    @rpc
    def deliver(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        """R-ORD-3: delivered completes the order."""
        return self.orders.transition(partner_id, order_id, "deliver", Actor.from_wire(actor))

    @rpc
    def correct_shipment(self, partner_id: str, order_id: str, body: dict, actor: dict | None = None) -> dict:
        """R-ORD-3: courier, invoice number or both corrected while shipped."""
        shipment = parse(ShipmentCorrectionIn, body)
        if shipment.courier is None and shipment.invoice_number is None:
            raise errors.invalid_fields({"invoice_number": "give the invoice number, the courier or both"})
        return self.orders.correct_shipment(
            partner_id, order_id, shipment.courier, shipment.invoice_number, Actor.from_wire(actor)
        )

    @rpc
    def partner_cancel(
        self, partner_id: str, order_id: str, body: dict | None = None, actor: dict | None = None
    ) -> dict:
        """R-ORD-5: dine-in/takeout before completion, delivery and parcel before shipment."""
        reason = parse(ReasonIn, body).reason
        return self.orders.cancel(order_id, "partner", reason, Actor.from_wire(actor), partner_id=partner_id)

    @rpc
    def partner_change_order(self, partner_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-4: the partner cancels and the customer orders again."""
        return self.orders.refuse_change(order_id, partner_id=partner_id)

    # --- refunds and exchanges (R-ORD-8) ------------------------------------------------------

    @rpc
    def request_refund(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        data = parse(RefundRequestIn, body)
        return self.orders.request_refund(customer_id, order_id, idempotency.check_key(idempotency_key), body, data)

    @rpc
    def approve_refund(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The units named are refunded; before shipment their stock returns (R-ORD-6, R-ORD-8)."""
        return self.orders.approve_refund(partner_id, request_id, Actor.from_wire(actor))

    @rpc
    def reject_refund(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        return self.orders.reject(
            partner_id, "refund", request_id, parse(ReasonRequired, body).reason, Actor.from_wire(actor)
        )

    @rpc
    def request_exchange(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """Units of a line to another option of the same product, at the same price."""
        data = parse(ExchangeRequestIn, body)
        return self.orders.request_exchange(customer_id, order_id, idempotency.check_key(idempotency_key), body, data)

    @rpc
    def approve_exchange(
        self, partner_id: str, request_id: str, body: dict | None = None, actor: dict | None = None
    ) -> dict:
        """Hold the new options (R-ORD-8); ``{return_courier, return_invoice_number}``
        name the return pickup. The old units go back to stock when the return is
        received (``receive_exchange_return``, issue 18 item 7)."""
        return self.orders.approve_exchange(
            partner_id, request_id, parse(ExchangeApproveIn, body), Actor.from_wire(actor)
        )

    # --- an exchange's own flow after approval (issue 18 item 7) ---------------------------------

    @rpc
    def receive_exchange_return(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The returned units arrived: they go back to stock now (R-ORD-6)."""
        return self.orders.exchange_step(partner_id, request_id, "receive_return", Actor.from_wire(actor))

    @rpc
    def ship_exchange(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        """The replacement leaves with its courier and invoice (and tracking link, R-ORD-7)."""
        shipment = parse(ShipmentIn, body)
        return self.orders.exchange_step(
            partner_id,
            request_id,
            "ship_replacement",
            Actor.from_wire(actor),
            courier=shipment.courier,
            invoice_number=shipment.invoice_number,
        )

    @rpc
    def deliver_exchange(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The replacement was delivered: the exchange is done."""
        return self.orders.exchange_step(partner_id, request_id, "deliver_replacement", Actor.from_wire(actor))

    @rpc
    def reject_exchange(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        return self.orders.reject(
            partner_id, "exchange", request_id, parse(ReasonRequired, body).reason, Actor.from_wire(actor)
        )

    # --- inquiries and reviews (R-ORD-9) ------------------------------------------------------

    @rpc
    def post_inquiry(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        text = parse(InquiryIn, body).body
        return self.orders.post_inquiry(customer_id, order_id, idempotency.check_key(idempotency_key), body, text)

    @rpc
    def answer_inquiry(self, partner_id: str, inquiry_id: str, body: dict, actor: dict | None = None) -> dict:
        return self.orders.answer(
            partner_id, "inquiries", inquiry_id, parse(AnswerIn, body).body, Actor.from_wire(actor)
        )

    @rpc
    def post_review(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        data = parse(ReviewIn, body)
        return self.orders.post_review(customer_id, order_id, idempotency.check_key(idempotency_key), body, data)

    @rpc
    def reply_review(self, partner_id: str, review_id: str, body: dict, actor: dict | None = None) -> dict:
        return self.orders.answer(partner_id, "reviews", review_id, parse(AnswerIn, body).body, Actor.from_wire(actor))

    # --- partner lists of requests, inquiries, reviews -------------------------------------------------

    @rpc
    def list_requests(self, partner_id: str, kind: str, query: dict | None = None) -> dict:
        q = parse_query(RequestListQuery, query)
        if kind not in ("refund", "exchange"):
            raise errors.invalid_fields({"kind": "refund or exchange"})
        return self.orders.list_requests(partner_id, kind, q)

    @rpc
    def list_inquiries(self, partner_id: str, query: dict | None = None) -> dict:
        return self.orders.list_inquiries(partner_id, parse_query(RequestListQuery, query))

    # --- the timer (R-ORD-2) --------------------------------------------------------------------------

    @ConfigTimer.decorator("TIMER_INTERVAL", DEFAULT_TIMER_INTERVAL)
    def timer_tick(self):
        try:
            self.orders.timer_pass(self.now())
        except Exception as exc:  # the next tick tries again: nothing is kept in memory
            log.warning("timer_pass_failed", error=repr(exc)[:300])

    @rpc
    def run_timer_pass(self, as_of: str | None = None) -> dict:
        """One pass "as of" a moment (RFC 3339; default now): the injectable clock."""
        moment = self.now()
        if as_of is not None:
            try:
                moment = dt.datetime.fromisoformat(as_of)
            except (TypeError, ValueError):
                raise errors.invalid_fields({"as_of": "an RFC 3339 time with offset"}) from None
            if moment.tzinfo is None:
                raise errors.invalid_fields({"as_of": "an RFC 3339 time with offset"})
        return self.orders.timer_pass(moment)

    # --- dashboard (R-ACC-11) and reconciliation (R-STL-1) -----------------------------------------------

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """Open orders by state, the in-store and delivery tabs (R-ORD-1), today's
        orders and what waits for an answer. Today's sales amount only for
        admins and masters (they read the finances; members see counts)."""
        return self.orders.dashboard_summary(partner_id, role)

    @rpc
    def settlement_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict:
        """What the settlement ledger should hold from orders for business dates
        ``period_start``..``period_end`` (inclusive, Asia/Seoul), per partner:
        ``{partner_id: {"sales", "sales_count", "fees", "refunds"}}``. Sales are
        completed orders (by when the completion was recorded, i.e. its
        ``order.completed`` event), refunds the approved refund requests of
        completed orders (by approval, or by completion when approved before
        it, as the ledger books them). Orders take no cancellation fees (always 0)."""
        parse(PeriodIn, {"period_start": period_start, "period_end": period_end})
        return self.orders.settlement_totals(partner_id, period_start, period_end)

    # --- erasure (R-ACC-3) and a partner closing (R-ACC-14) ----------------------------------------------

    @event_handler("customer.erased")
    def on_customer_erased(self, event):
        self.orders.customer_erased(event)

    @rpc
    def unfinished_orders(self, partner_ids: list[str]) -> dict[str, int]:
        """For accounts (R-ACC-14): open orders per partner (those with none left out),
        which a closed partner's only admin must see finished before withdrawing."""
        return self.orders.unfinished_orders(partner_ids)

    @event_handler("partner.closed")
    def on_partner_closed(self, event):
        """R-ACC-14 (domain.py, "a partner closing"): with "cancel", each open order the
        partner may still cancel is cancelled by the partner with a full refund; shipped
        ones, and every one with "serve", are left to finish. Once per event (the inbox):
        a redelivery changes nothing."""
        self.orders.partner_closed(event)

    @event_handler("member.withdrawn")
    def on_member_withdrawn(self, event):
        self.orders.member_withdrawn(event)
