"""The orders service: cafe orders (seed 004) and shop orders (seed 003), R-ORD-1..9.

Entrypoints only: they validate (schemas.py), apply the rules (domain.py, whose
docstring lists the choices made where the seeds are silent), run SQL
(store.py), publish (events.py) and serialise (views.py).

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
hold and create one order. A refused creation (out of stock, bad line) leaves
no trace, so a retry is evaluated again. A creation interrupted after its hold
(crash, timeout) is retried by the client with the same key, or swept by the
timer after ``PENDING_CREATION_SECONDS``, which gives the hold back.

The timer (R-ORD-2)
-------------------
Every ``TIMER_INTERVAL`` seconds each instance claims due dine-in/takeout
orders (``auto_complete_at`` stored in the row, ``FOR UPDATE SKIP LOCKED``,
batches of ``TIMER_BATCH``) and completes them at their due time, one event
each; several instances never complete an order twice and a restart loses
nothing. The same pass retries stock releases the catalog has not confirmed
and sweeps interrupted creations.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import time
import uuid

from nameko.timer import Timer

from chassis import coupons, money, paging
from chassis.consumer import event_handler
from chassis.errors import DomainError, NotFound, ServiceUnavailable
from chassis.logging import get_logger
from chassis.privacy import format_phone
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import domain, errors, events, store, views
from .schemas import (IDEMPOTENCY_KEY, AnswerIn, ExchangeApproveIn, ExchangeRequestIn, InquiryIn, ListQuery, OrderCreate, PeriodIn,
                      ReasonIn, ReasonRequired, RefundRequestIn, RequestListQuery, ReviewIn, ShipmentCorrectionIn,
                      ShipmentIn, StartPreparingIn)

log = get_logger(__name__)

DEFAULT_TIMER_INTERVAL = 10.0         # seconds: an order completes within seconds of its due minute
DEFAULT_TIMER_BATCH = 500
DEFAULT_PENDING_CREATION_SECONDS = 120
RELEASE_RETRY_AFTER_SECONDS = 5
PARTNER_CACHE_SECONDS = 30.0
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


def actor_id(actor: dict | None) -> str | None:
    """Who acted for the partner: the member, or the partner's API key."""
    actor = actor or {}
    return actor.get("member_id") or (f"api_key:{actor.get('api_key_id')}" if actor.get("api_key_id") else
                                      ("api_key" if actor.get("kind") == "api_key" else None))


class OrdersService(DataService):
    name = "orders"
    partner_cache: dict = {}

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    # --- customers: ordering (R-ORD-1, R-ORD-6) ----------------------------------------------

    @rpc
    def create_order(self, customer_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        """Take stock and record the order; see the module docstring for the key."""
        key = self._checked_key(idempotency_key)
        data = parse(OrderCreate, body)
        domain.check_channel_fields(data.channel, data.shipping_address is not None)
        coupons.check_one_coupon(data.coupon_code, data.coupon_id)
        fingerprint = domain.body_fingerprint(coupons.without_unnamed_coupon(data.model_dump(mode="json")))
        with self.db.transaction() as uow:
            claimed = store.claim_creation_key(uow, customer_id, key, data.partner_id, fingerprint,
                                               domain.new_hold_id())
        if claimed["fingerprint"] != fingerprint:
            raise errors.idempotency_key_reused(key)
        if claimed["response"] is not None:
            return claimed["response"]
        hold = self._hold_for(customer_id, key, claimed["hold_id"], data)
        return self._record_order(customer_id, key, claimed["hold_id"], data, hold)

    def _checked_key(self, idempotency_key) -> str:
        if not idempotency_key:
            raise errors.idempotency_key_required()
        if not isinstance(idempotency_key, str) or not re.match(IDEMPOTENCY_KEY, idempotency_key):
            raise errors.invalid_fields({"Idempotency-Key": "1 to 255 visible ASCII characters"})
        return idempotency_key

    def _hold_for(self, customer_id: str, key: str, hold_id: str, data: OrderCreate) -> dict:
        """The catalog hold of the order; a refusal drops the pending key (no trace)."""
        try:
            self._check_channel(data.partner_id, data.channel)
            coupon = coupons.hold_coupon(data.coupon_code, data.coupon_id, customer_id,
                                         domain.redemption_key(hold_id))
            hold = self.services.catalog.hold(hold_id, data.partner_id, self._hold_lines(data),
                                              coupon=coupon)
            if os.environ.get(FAULT_ENV) == "orders_kill_after_hold":
                os.kill(os.getpid(), signal.SIGKILL)   # crash test: the hold is taken, the order not written
            if hold["status"] != "held":   # swept meanwhile: the id is spent
                raise errors.creation_interrupted(key)
        except ServiceUnavailable:
            raise   # the hold may exist: keep the key, so a retry reuses its hold id (or the timer sweeps it)
        except DomainError as exc:
            self._drop_key(customer_id, key, hold_id)
            if exc.code == "hold_id_reused":
                raise errors.idempotency_key_reused(key) from None
            raise
        try:
            domain.check_goods(hold)
        except DomainError:
            self._release_quietly(hold_id, data.partner_id)
            self._drop_key(customer_id, key, hold_id)
            raise
        return hold

    def _drop_key(self, customer_id: str, key: str, hold_id: str) -> None:
        with self.db.transaction() as uow:
            store.drop_pending_key(uow, customer_id, key, hold_id)

    def _check_channel(self, partner_id: str, channel: str) -> None:
        """The partner's category says which channels it takes (R-ORD-1, R-ORD-6). Whether
        it sells at all (R-ACC-8: verified) is the catalog hold's to refuse, for bookings
        and orders alike (409 ``partner_not_open``)."""
        cached = self.partner_cache.get(partner_id)
        if cached is None or cached[0] < time.monotonic():
            info = self.services.accounts.partner_info(partner_id)
            cached = (time.monotonic() + PARTNER_CACHE_SECONDS, info)
            if info.get("status") == "verified":
                self.partner_cache[partner_id] = cached
        info = cached[1]
        offered = domain.offered_channels(info.get("category"))
        if channel not in offered:
            raise errors.channel_not_offered(channel, info.get("category"), offered)

    def _hold_lines(self, data: OrderCreate) -> list[dict]:
        """Catalog hold lines; a line without ``option_id`` takes the product's only option."""
        products = {}
        lines = []
        for index, line in enumerate(data.lines):
            option_id = line.option_id
            if option_id is None:
                if line.product_id not in products:
                    try:
                        products[line.product_id] = self.services.catalog.get_live_product(data.partner_id,
                                                                                           line.product_id)
                    except NotFound as exc:
                        raise NotFound(exc.code, exc.message, {**exc.details, "line": index}) from None
                product = products[line.product_id]
                if product["kind"] != "goods":
                    raise errors.invalid_fields({f"lines.{index}.product_id": "not a menu item or shop product"})
                if len(product["options"]) != 1:
                    raise errors.invalid_fields({f"lines.{index}.option_id": "choose one of the product's options"})
                option_id = product["options"][0]["option_id"]
            lines.append({"product_id": line.product_id, "option_id": option_id, "quantity": line.quantity})
        return lines

    def _record_order(self, customer_id: str, key: str, hold_id: str, data: OrderCreate, hold: dict) -> dict:
        order_id = domain.order_id_of(hold_id)
        received_at = self.now()
        lines = domain.lines_from_hold(str(order_id), hold)
        order = {"order_id": order_id, "partner_id": data.partner_id, "customer_id": customer_id,
                 "customer_name": self._customer_name(customer_id) if domain.shows_customer_name(data.channel)
                 else None, "number_day": domain.business_date(received_at),
                 "channel": data.channel, "total": hold["total"], "hold_id": hold_id,
                 "coupon": coupons.coupon_of_hold(hold), "discount_amount": hold.get("discount_amount", 0),
                 "shipping": data.shipping_address.model_dump() if data.shipping_address else None,
                 "note": data.note, "received_at": received_at,
                 "auto_complete_at": domain.auto_complete_at(data.channel, received_at, self._auto_complete_after())}
        with self.db.transaction() as uow:
            claimed = store.creation_key(uow, customer_id, key, lock=True)
            if claimed is None or claimed["hold_id"] != hold_id:
                raise errors.creation_interrupted(key)   # swept meanwhile: its hold was given back
            if claimed["response"] is not None:
                return claimed["response"]               # a racing request with the same key won
            order["number"] = store.next_order_number(uow, data.partner_id, order["number_day"])
            row = store.insert_order(uow, order, lines)
            line_rows = [{**vars(line), "refunded_quantity": 0, "replaces_line_id": None} for line in lines]
            response = views.order_view(row, line_rows, owner=True)
            store.finish_creation_key(uow, customer_id, key, order_id, response)
            events.publish(uow, "order.received", row, line_rows, actor="customer")
        return response

    def _customer_name(self, customer_id: str) -> str | None:
        """The name an in-store order is called by (issue 18 item 9); an order never
        waits on it: without an answer from accounts it carries none."""
        try:
            return self.services.accounts.customer_contact(customer_id).get("name")
        except Exception as exc:
            log.info("customer_name_unavailable", error=repr(exc)[:200])
            return None

    def _auto_complete_after(self) -> dt.timedelta:
        """R-ORD-2, seed 004: one hour after receipt; the hour is the ``AUTO_COMPLETE_MINUTES`` setting."""
        return dt.timedelta(minutes=float(self.config.get("AUTO_COMPLETE_MINUTES") or 60))

    def _release_quietly(self, hold_id: str, partner_id: str) -> None:
        try:
            self.services.catalog.release(hold_id, partner_id)
        except Exception as exc:  # the timer does not know this hold: log it for ops
            log.warning("hold_release_failed", hold_id=hold_id, error=repr(exc)[:200])

    # --- customers: their orders ---------------------------------------------------------

    @rpc
    def customer_list_orders(self, customer_id: str, query: dict | None = None) -> dict:
        return self._list(query, customer_id=customer_id)

    @rpc
    def customer_get_order(self, customer_id: str, order_id: str) -> dict:
        with self.db.transaction() as uow:
            order = store.order_row(uow, order_id, customer_id=customer_id)
            if order is None:
                raise errors.order_not_found(order_id)
            return self._detail(uow, order, owner=True)

    @rpc
    def customer_cancel(self, customer_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-5: only before preparation or shipment starts."""
        reason = parse(ReasonIn, body).reason
        return self._cancel(order_id, by="customer", reason=reason, customer_id=customer_id)

    @rpc
    def customer_change_order(self, customer_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-4: nothing changes after receipt (cancel and order again)."""
        return self._refuse_change(order_id, customer_id=customer_id)

    # --- partners: the order board (R-ORD-1..5, R-ORD-7) ------------------------------------------

    @rpc
    def list_couriers(self) -> dict:
        """The couriers the platform knows, with their tracking URL templates (R-ORD-7)."""
        with self.db.transaction() as uow:
            return {"items": store.couriers(uow), "next_cursor": None}

    @rpc
    def list_orders(self, partner_id: str, query: dict | None = None) -> dict:
        """Newest first, ``?channel=dine_in,takeout`` / ``delivery`` tabs, ``?status=`` (R-ORD-1)."""
        return self._list(query, partner_id=partner_id)

    @rpc
    def get_order(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        """The staff view; a recipient shown whole for the waybill is a recorded access (R-RSV-12)."""
        with self.db.transaction() as uow:
            order = self._partner_order(uow, partner_id, order_id)
            whole = domain.recipient_shown_whole(order) and bool(order["shipping"])
            if whole:
                self._record_contact_access(uow, order, "shipping_shown", actor)
            return self._detail(uow, order, owner=False, recipient_whole=whole)

    @rpc
    def reveal_phone(self, partner_id: str, order_id: str, actor: dict) -> dict:
        """R-RSV-12: an admin or master sees the whole phone to call about this
        order: the recipient's when it ships, else the customer's verified one
        (accounts); recorded with who and when."""
        with self.db.transaction() as uow:
            order = self._partner_order(uow, partner_id, order_id)
            self._record_contact_access(uow, order, "phone_revealed", actor)
        phone = (order["shipping"] or {}).get("phone")
        if not phone:
            try:
                phone = self.services.accounts.customer_contact(order["customer_id"])["phone"]
            except NotFound:  # an erased customer (R-ACC-3) has no phone left to reveal
                phone = None
        return {"order_id": str(order["order_id"]), "phone": format_phone(phone)}

    def _partner_order(self, uow, partner_id: str, order_id: str) -> dict:
        order = store.order_row(uow, order_id, partner_id=partner_id)
        if order is None:
            raise errors.order_not_found(order_id)
        return order

    def _record_contact_access(self, uow, order: dict, reason: str, actor: dict | None) -> None:
        store.record_contact_access(uow, order["partner_id"], order["order_id"], reason,
                                    (actor or {}).get("kind") or "system", actor_id(actor))

    @rpc
    def start_preparing(self, partner_id: str, order_id: str, body: dict | None = None,
                        actor: dict | None = None) -> dict:
        """R-ORD-2; ``{minutes}`` (seed 004 소요 시간) sets the expected ready time."""
        minutes = parse(StartPreparingIn, body).minutes
        return self._transition(partner_id, order_id, "start_preparing", actor, preparation_minutes=minutes)

    @rpc
    def complete(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        return self._transition(partner_id, order_id, "complete", actor)

    @rpc
    def prepare_shipment(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        return self._transition(partner_id, order_id, "prepare_shipment", actor)

    @rpc
    def ship(self, partner_id: str, order_id: str, body: dict, actor: dict | None = None) -> dict:
        shipment = parse(ShipmentIn, body)
        with self.db.transaction() as uow:
            url = domain.tracking_url(store.courier(uow, shipment.courier), shipment.invoice_number)
        return self._transition(partner_id, order_id, "ship", actor, courier=shipment.courier,
                                invoice_number=shipment.invoice_number, tracking_url=url)

    @rpc
    def deliver(self, partner_id: str, order_id: str, actor: dict | None = None) -> dict:
        """R-ORD-3: delivered completes the order."""
        return self._transition(partner_id, order_id, "deliver", actor)

    @rpc
    def correct_shipment(self, partner_id: str, order_id: str, body: dict, actor: dict | None = None) -> dict:
        """R-ORD-3: courier, invoice number or both corrected while shipped."""
        shipment = parse(ShipmentCorrectionIn, body)
        if shipment.courier is None and shipment.invoice_number is None:
            raise errors.invalid_fields({"invoice_number": "give the invoice number, the courier or both"})
        with self.db.transaction() as uow:
            order = self._locked(uow, order_id, partner_id)
            domain.check_shipment_correctable(order)
            invoice_number = shipment.invoice_number or order["invoice_number"]
            courier = shipment.courier or order["courier"]
            order = store.update_order(uow, order["order_id"], courier=courier, invoice_number=invoice_number,
                                       tracking_url=domain.tracking_url(store.courier(uow, courier), invoice_number),
                                       actor_id=actor_id(actor))
            lines = store.line_rows(uow, order["order_id"])
            events.publish(uow, "order.shipment_corrected", order, lines, actor="partner")
            return self._detail(uow, order, owner=False, lines=lines)

    @rpc
    def partner_cancel(self, partner_id: str, order_id: str, body: dict | None = None,
                       actor: dict | None = None) -> dict:
        """R-ORD-5: dine-in/takeout before completion, delivery and parcel before shipment."""
        reason = parse(ReasonIn, body).reason
        return self._cancel(order_id, by="partner", reason=reason, partner_id=partner_id, actor=actor)

    @rpc
    def partner_change_order(self, partner_id: str, order_id: str, body: dict | None = None) -> dict:
        """R-ORD-4: the partner cancels and the customer orders again."""
        return self._refuse_change(order_id, partner_id=partner_id)

    def _transition(self, partner_id: str, order_id: str, action: str, actor: dict | None, **fields) -> dict:
        with self.db.transaction() as uow:
            order = self._locked(uow, order_id, partner_id)
            status, column = domain.transition(order, action)
            now = self.now()
            changes = {"status": status, column: now, "actor_id": actor_id(actor), **fields}
            if "preparation_minutes" in fields:
                changes["ready_at"] = domain.ready_at(now, fields["preparation_minutes"])
            if status == "completed":
                changes.update(completed_at=now, completed_by="partner", booked_at=now)
            order = store.update_order(uow, order["order_id"], **changes)
            lines = store.line_rows(uow, order["order_id"])
            events.publish(uow, domain.TRANSITION_EVENTS[action], order, lines, actor="partner")
            if action == "deliver":   # R-ORD-3: delivery completes the order (and invites a review)
                events.publish(uow, "order.completed", order, lines, actor="partner")
            return self._detail(uow, order, owner=False, lines=lines)

    def _cancel(self, order_id: str, by: str, reason: str | None, partner_id: str | None = None,
                customer_id: str | None = None, actor: dict | None = None) -> dict:
        with self.db.transaction() as uow:
            order = self._locked(uow, order_id, partner_id, customer_id)
            domain.check_cancel(order, by)
            order, lines, release_id = self._cancel_locked(uow, order, by, reason, actor)
            view = self._detail(uow, order, owner=by == "customer", lines=lines)
        self._send_releases([release_id])
        return view

    def _cancel_locked(self, uow, order: dict, by: str, reason: str | None, actor: dict | None):
        """Cancel an order locked in ``uow``: the rest of the money back, open
        requests closed, stock to return (the release id to send after commit)."""
        refund = order["total"] - order["refunded_amount"]
        order = store.update_order(uow, order["order_id"], status="cancelled", cancelled_at=self.now(),
                                   cancelled_by=by, cancel_reason=reason, refunded_amount=order["total"],
                                   payment_status=domain.payment_status(order["total"], order["total"]),
                                   actor_id=actor_id(actor) if by == "partner" else None)
        store.close_open_requests(uow, order["order_id"], "the order was cancelled")
        release_id = f"cancel:{order['order_id']}"
        store.insert_release(uow, release_id, order, order["hold_id"], None)   # R-ORD-6: stock returns
        lines = store.line_rows(uow, order["order_id"])
        events.publish(uow, "order.cancelled", order, lines, actor=by, reason=reason, refund_amount=refund,
                       refunded_line_ids=[l["line_id"] for l in lines])
        return order, lines, release_id

    def _refuse_change(self, order_id: str, partner_id: str | None = None, customer_id: str | None = None):
        with self.db.transaction() as uow:
            if store.order_row(uow, order_id, partner_id=partner_id, customer_id=customer_id) is None:
                raise errors.order_not_found(order_id)
        raise errors.order_not_changeable(order_id)

    # --- refunds and exchanges (R-ORD-8) ------------------------------------------------------

    @rpc
    def request_refund(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        data = parse(RefundRequestIn, body)
        wanted = [line.model_dump() for line in data.lines] if data.lines is not None else None
        with self.db.transaction() as uow:
            if (first := self._replayed(uow, customer_id, idempotency_key, f"refund:{order_id}", body)) is not None:
                return first
            order = self._locked(uow, order_id, customer_id=customer_id)
            domain.check_shop_order(order)
            lines = store.line_rows(uow, order["order_id"])
            refund = domain.refund_lines(order, lines, wanted, store.requests_of_order(uow, order["order_id"]))
            domain.check_refund_leaves_something(order, lines, refund)
            request = store.insert_request(uow, {
                "request_id": uuid.uuid4(), "order_id": order["order_id"], "partner_id": order["partner_id"],
                "customer_id": customer_id, "kind": "refund", "reason": data.reason, "lines": refund,
                "amount": domain.refund_amount(lines, refund, order["discount_amount"])})
            events.publish(uow, "order.refund_requested", order, lines, actor="customer", reason=data.reason,
                           refunded_line_ids=[item["line_id"] for item in refund], request_id=request["request_id"])
            return self._remember(uow, customer_id, idempotency_key, views.request_view(request))

    @rpc
    def approve_refund(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The units named are refunded; before shipment their stock returns (R-ORD-6, R-ORD-8)."""
        release_ids = []
        with self.db.transaction() as uow:
            order, request = self._locked_request(uow, partner_id, "refund", request_id)
            lines = store.line_rows(uow, order["order_id"])
            refund = request["lines"]
            by_id = {line["line_id"]: line for line in lines}
            for item in refund:
                available = domain.remaining_units(by_id[item["line_id"]])
                if item["quantity"] > available:
                    raise errors.exceeds_order(str(order["order_id"]), item["line_id"], item["quantity"], available)
            domain.check_refund_leaves_something(order, lines, refund)
            by_product = money.refund_by_product(lines, refund, order["discount_amount"])   # what was paid (issue #11)
            amount = sum(by_product.values())
            store.refund_line_units(uow, order["order_id"], refund)
            refunded = order["refunded_amount"] + amount
            if order["status"] in domain.UNSHIPPED_STATES:
                release_ids = self._release_units(uow, order, by_id, refund, f"rf:{request['request_id']}")
            order = store.update_order(uow, order["order_id"], refunded_amount=refunded,
                                       payment_status=domain.payment_status(order["total"], refunded),
                                       actor_id=actor_id(actor))
            request = store.decide_request(uow, request["request_id"], "approved", actor_id(actor), None,
                                           amount=amount)
            lines = store.line_rows(uow, order["order_id"])
            events.publish(uow, "order.refund_approved", order, lines, actor="partner", refund_amount=amount,
                           refunded_line_ids=[item["line_id"] for item in refund], request_id=request["request_id"],
                           refund_products=by_product)
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    @rpc
    def reject_refund(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        return self._reject(partner_id, "refund", request_id, body, actor)

    @rpc
    def request_exchange(self, customer_id: str, order_id: str, body: dict,
                         idempotency_key: str | None = None) -> dict:
        """Units of a line to another option of the same product, at the same price."""
        data = parse(ExchangeRequestIn, body)
        with self.db.transaction() as uow:
            order = store.order_row(uow, order_id, customer_id=customer_id)
            if order is None:
                raise errors.order_not_found(order_id)
            lines = store.line_rows(uow, order["order_id"])
        domain.check_exchangeable(order)
        by_id = {line["line_id"]: line for line in lines}
        self._check_exchange_options(order, by_id, [line.model_dump() for line in data.lines])
        with self.db.transaction() as uow:
            if (first := self._replayed(uow, customer_id, idempotency_key, f"exchange:{order_id}", body)) is not None:
                return first
            order = self._locked(uow, order_id, customer_id=customer_id)
            domain.check_exchangeable(order)
            lines = store.line_rows(uow, order["order_id"])
            wanted = domain.exchange_lines(order, lines, [line.model_dump() for line in data.lines],
                                           store.requests_of_order(uow, order["order_id"]))
            request = store.insert_request(uow, {
                "request_id": uuid.uuid4(), "order_id": order["order_id"], "partner_id": order["partner_id"],
                "customer_id": customer_id, "kind": "exchange", "reason": data.reason, "lines": wanted,
                "amount": 0})
            events.publish(uow, "order.exchange_requested", order, lines, actor="customer", reason=data.reason,
                           refunded_line_ids=[], request_id=request["request_id"])
            return self._remember(uow, customer_id, idempotency_key, views.request_view(request))

    def _check_exchange_options(self, order: dict, by_id: dict, wanted: list[dict]) -> None:
        products: dict = {}
        for index, item in enumerate(wanted):
            line = by_id.get(item["line_id"])
            if line is None:
                raise errors.invalid_fields({f"lines.{index}.line_id": "not a line of this order"})
            if line["product_id"] not in products:
                products[line["product_id"]] = self.services.catalog.get_live_product(order["partner_id"],
                                                                                      line["product_id"])
            option = next((o for o in products[line["product_id"]]["options"]
                           if o["option_id"] == item["option_id"]), None)
            if option is None:
                raise errors.invalid_fields({f"lines.{index}.option_id": "not an option of this product"})
            if option["amount"] != line["unit_price"]:
                raise errors.exchange_price_differs(line["line_id"], item["option_id"], line["unit_price"],
                                                    option["amount"])

    @rpc
    def approve_exchange(self, partner_id: str, request_id: str, body: dict | None = None,
                         actor: dict | None = None) -> dict:
        """Hold the new options (R-ORD-8); ``{return_courier, return_invoice_number}``
        name the return pickup. The old units go back to stock when the return is
        received (``receive_exchange_return``, issue 18 item 7)."""
        pickup = parse(ExchangeApproveIn, body)
        if (pickup.return_courier is None) != (pickup.return_invoice_number is None):
            raise errors.invalid_fields({"return_invoice_number": "give the return pickup's courier and invoice "
                                                                  "number together"})
        with self.db.transaction() as uow:
            order, request = self._locked_request(uow, partner_id, "exchange", request_id)
            hold_id = request["exchange_hold_id"] or f"xch-{uuid.uuid4().hex}"
            store.set_exchange_hold(uow, request["request_id"], hold_id)
            lines = {line["line_id"]: line for line in store.line_rows(uow, order["order_id"])}
        wanted = [{"product_id": lines[item["line_id"]]["product_id"], "option_id": item["option_id"],
                   "quantity": item["quantity"]} for item in request["lines"]]
        hold = self.services.catalog.hold(hold_id, partner_id, wanted)   # 409 out_of_stock: still requested
        if hold["status"] != "held":
            raise errors.request_not_open("exchange", request_id, "rejected")
        for item, held in zip(request["lines"], hold["lines"]):
            if held["unit_price"] != lines[item["line_id"]]["unit_price"]:   # the price changed since the request
                self._give_back_exchange_hold(request["request_id"], hold_id, partner_id)
                raise errors.exchange_price_differs(item["line_id"], item["option_id"],
                                                    lines[item["line_id"]]["unit_price"], held["unit_price"])
        return self._apply_exchange(partner_id, request_id, hold_id, hold, actor, pickup)

    def _apply_exchange(self, partner_id: str, request_id: str, hold_id: str, hold: dict, actor,
                        pickup: ExchangeApproveIn) -> dict:
        with self.db.transaction() as uow:
            # Approved or rejected meanwhile: an approval keeps the hold, a rejection released it.
            order, request = self._locked_request(uow, partner_id, "exchange", request_id)
            lines = store.line_rows(uow, order["order_id"])
            by_id = {line["line_id"]: line for line in lines}
            next_position = max(line["position"] for line in lines) + 1
            new_lines, replaces = [], {}
            for offset, (item, held) in enumerate(zip(request["lines"], hold["lines"])):
                old = by_id[item["line_id"]]
                available = domain.remaining_units(old)
                if item["quantity"] > available:
                    raise errors.exceeds_order(str(order["order_id"]), old["line_id"], item["quantity"], available)
                store.move_line_units(uow, order["order_id"], old["line_id"], item["quantity"])
                line = domain.NewLine(
                    line_id=domain.line_id_of(str(order["order_id"]), next_position + offset),
                    position=next_position + offset, product_id=old["product_id"], product_name=held["name"],
                    option_id=held["option_id"], option_label=held["label"], quantity=item["quantity"],
                    unit_price=old["unit_price"], hold_line=held["line"])
                new_lines.append(line)
                replaces[line.line_id] = old["line_id"]
            store.insert_lines(uow, order["order_id"], hold_id, new_lines, replaces)
            request = store.decide_request(uow, request["request_id"], "approved", actor_id(actor), None)
            if pickup.return_courier is not None:
                request = store.update_request(
                    uow, request["request_id"], return_courier=pickup.return_courier,
                    return_invoice_number=pickup.return_invoice_number,
                    return_tracking_url=domain.tracking_url(store.courier(uow, pickup.return_courier),
                                                            pickup.return_invoice_number))
            order = store.update_order(uow, order["order_id"], actor_id=actor_id(actor))
            lines = store.line_rows(uow, order["order_id"])
            events.publish(uow, "order.exchange_approved", order, lines, actor="partner",
                           request_id=request["request_id"], exchange=request)
            return views.request_view(request)

    # --- an exchange's own flow after approval (issue 18 item 7) ---------------------------------

    @rpc
    def receive_exchange_return(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The returned units arrived: they go back to stock now (R-ORD-6)."""
        return self._exchange_step(partner_id, request_id, "receive_return", actor)

    @rpc
    def ship_exchange(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        """The replacement leaves with its courier and invoice (and tracking link, R-ORD-7)."""
        shipment = parse(ShipmentIn, body)
        return self._exchange_step(partner_id, request_id, "ship_replacement", actor, courier=shipment.courier,
                                   invoice_number=shipment.invoice_number)

    @rpc
    def deliver_exchange(self, partner_id: str, request_id: str, actor: dict | None = None) -> dict:
        """The replacement was delivered: the exchange is done."""
        return self._exchange_step(partner_id, request_id, "deliver_replacement", actor)

    def _exchange_step(self, partner_id: str, request_id: str, step: str, actor, **fields) -> dict:
        release_ids = []
        with self.db.transaction() as uow:
            found = store.request_row(uow, partner_id, "exchange", request_id)
            if found is None:
                raise errors.request_not_found("exchange", request_id)
            order = self._locked(uow, found["order_id"], partner_id)
            request = store.request_row(uow, partner_id, "exchange", request_id)
            status, column = domain.exchange_step(request, step)
            lines = store.line_rows(uow, order["order_id"])
            if step == "receive_return":
                by_id = {line["line_id"]: line for line in lines}
                release_ids = self._release_units(uow, order, by_id, request["lines"], f"xo:{request['request_id']}")
            if "courier" in fields:
                fields["tracking_url"] = domain.tracking_url(store.courier(uow, fields["courier"]),
                                                             fields["invoice_number"])
            request = store.update_request(uow, request["request_id"], status=status, **{column: self.now()},
                                           **fields)
            events.publish(uow, domain.EXCHANGE_STEP_EVENTS[step], order, lines, actor="partner",
                           request_id=request["request_id"], exchange=request)
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    def _give_back_exchange_hold(self, request_id, hold_id: str, partner_id: str) -> None:
        self._release_quietly(hold_id, partner_id)
        with self.db.transaction() as uow:   # a spent hold id: the next approval takes a new one
            uow.execute("UPDATE order_requests SET exchange_hold_id = NULL WHERE request_id = %s "
                        "AND exchange_hold_id = %s", (request_id, hold_id))

    @rpc
    def reject_exchange(self, partner_id: str, request_id: str, body: dict, actor: dict | None = None) -> dict:
        return self._reject(partner_id, "exchange", request_id, body, actor)

    def _reject(self, partner_id: str, kind: str, request_id: str, body: dict, actor) -> dict:
        reason = parse(ReasonRequired, body).reason
        release_ids = []
        with self.db.transaction() as uow:
            order, request = self._locked_request(uow, partner_id, kind, request_id)
            if request["exchange_hold_id"]:   # an approval that failed half-way held the new option
                release_ids = [f"xr:{request['request_id']}"]
                store.insert_release(uow, release_ids[0], order, request["exchange_hold_id"], None)
            request = store.decide_request(uow, request["request_id"], "rejected", actor_id(actor), reason)
            lines = store.line_rows(uow, order["order_id"])
            events.publish(uow, f"order.{kind}_rejected", order, lines, actor="partner", reason=reason,
                           request_id=request["request_id"])
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    def _locked_request(self, uow, partner_id: str, kind: str, request_id: str) -> tuple[dict, dict]:
        """The order locked first (every change of an order does so), then its request as it is now."""
        found = store.request_row(uow, partner_id, kind, request_id)
        if found is None:
            raise errors.request_not_found(kind, request_id)
        order = store.order_row(uow, found["order_id"], partner_id=partner_id, lock=True)
        request = store.request_row(uow, partner_id, kind, request_id)
        if request["status"] != "requested":
            raise errors.request_not_open(kind, request_id, request["status"])
        return order, request

    def _release_units(self, uow, order: dict, by_id: dict, items: list[dict], prefix: str) -> list[str]:
        """Stock releases for units of lines, one per hold they came from."""
        per_hold: dict[str, list[dict]] = {}
        for item in items:
            line = by_id[item["line_id"]]
            per_hold.setdefault(line["hold_id"], []).append({"line": line["hold_line"], "quantity": item["quantity"]})
        release_ids = []
        for index, (hold_id, lines) in enumerate(sorted(per_hold.items())):
            release_id = f"{prefix}:{index}"
            store.insert_release(uow, release_id, order, hold_id, lines)
            release_ids.append(release_id)
        return release_ids

    # --- inquiries and reviews (R-ORD-9) ------------------------------------------------------

    @rpc
    def post_inquiry(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        text = parse(InquiryIn, body).body
        with self.db.transaction() as uow:
            if (first := self._replayed(uow, customer_id, idempotency_key, f"inquiry:{order_id}", body)) is not None:
                return first
            order = self._locked(uow, order_id, customer_id=customer_id)
            inquiry = store.insert_inquiry(uow, {"inquiry_id": uuid.uuid4(), "order_id": order["order_id"],
                                                 "partner_id": order["partner_id"], "customer_id": customer_id,
                                                 "body": text})
            events.publish(uow, "order.inquiry_posted", order, store.line_rows(uow, order["order_id"]),
                           actor="customer", request_id=inquiry["inquiry_id"])
            return self._remember(uow, customer_id, idempotency_key, views.inquiry_view(inquiry))

    @rpc
    def answer_inquiry(self, partner_id: str, inquiry_id: str, body: dict, actor: dict | None = None) -> dict:
        return self._answer(partner_id, "inquiries", inquiry_id, parse(AnswerIn, body).body, actor)

    @rpc
    def post_review(self, customer_id: str, order_id: str, body: dict, idempotency_key: str | None = None) -> dict:
        data = parse(ReviewIn, body)
        with self.db.transaction() as uow:
            if (first := self._replayed(uow, customer_id, idempotency_key, f"review:{order_id}", body)) is not None:
                return first
            order = self._locked(uow, order_id, customer_id=customer_id)
            lines = store.line_rows(uow, order["order_id"])
            domain.check_reviewable(order, lines, data.line_id)
            review = store.insert_review(uow, {"review_id": uuid.uuid4(), "order_id": order["order_id"],
                                               "line_id": data.line_id, "partner_id": order["partner_id"],
                                               "customer_id": customer_id, "rating": data.rating, "body": data.body})
            if review is None:
                raise errors.review_exists(data.line_id)
            events.publish(uow, "order.review_posted", order, lines, actor="customer",
                           request_id=review["review_id"], review=review)
            return self._remember(uow, customer_id, idempotency_key, views.review_view(review))

    @rpc
    def reply_review(self, partner_id: str, review_id: str, body: dict, actor: dict | None = None) -> dict:
        return self._answer(partner_id, "reviews", review_id, parse(AnswerIn, body).body, actor)

    def _answer(self, partner_id: str, table: str, object_id: str, text: str, actor) -> dict:
        kind, event, render = {"inquiries": ("answered", "order.inquiry_answered", views.inquiry_view),
                               "reviews": ("replied", "order.review_replied", views.review_view)}[table]
        with self.db.transaction() as uow:
            found = store.feedback_row(uow, table, partner_id, object_id)
            if found is None:
                raise (errors.inquiry_not_found if table == "inquiries" else errors.review_not_found)(object_id)
            order = self._locked(uow, found["order_id"], partner_id)
            row = store.answer(uow, table, found["inquiry_id" if table == "inquiries" else "review_id"],
                               text, actor_id(actor))
            if row is None:
                raise errors.already_answered(kind, object_id)
            events.publish(uow, event, order, store.line_rows(uow, order["order_id"]), actor="partner",
                           request_id=object_id, review=row if table == "reviews" else None)
            return render(row)

    # --- partner lists of requests, inquiries, reviews -------------------------------------------------

    @rpc
    def list_requests(self, partner_id: str, kind: str, query: dict | None = None) -> dict:
        q = parse_query(RequestListQuery, query)
        if kind not in ("refund", "exchange"):
            raise errors.invalid_fields({"kind": "refund or exchange"})
        after = domain.list_position(q.cursor)
        with self.db.transaction() as uow:
            rows = store.list_requests(uow, partner_id, kind, q.status, q.limit, after)
        return paging.page(rows, q.limit, lambda r: (r["created_at"].isoformat(), r["request_id"]), views.request_view)

    @rpc
    def list_inquiries(self, partner_id: str, query: dict | None = None) -> dict:
        q = parse_query(RequestListQuery, query)
        return self._list_feedback(partner_id, "inquiries", q, q.answered, "inquiry_id", views.inquiry_view)

    def _list_feedback(self, partner_id, table, q, done, key, render) -> dict:
        after = domain.list_position(q.cursor)
        with self.db.transaction() as uow:
            rows = store.list_feedback(uow, table, partner_id, None if done is None else done == "true", q.limit,
                                       after)
        return paging.page(rows, q.limit, lambda r: (r["created_at"].isoformat(), r[key]), render)

    # --- shared helpers ---------------------------------------------------------------------------

    def _replayed(self, uow, customer_id: str, key: str | None, scope: str, body) -> dict | None:
        """The first response of this Idempotency-Key (api.md: accepted on every POST), or None
        when this request is the first; another body with the key is 409 idempotency_key_reused."""
        if not key:
            return None
        key = self._checked_key(key)
        fingerprint = domain.body_fingerprint({"scope": scope, "body": body})
        first = store.claim_request_key(uow, customer_id, key, fingerprint)
        if first is None:
            return None
        if first["fingerprint"] != fingerprint:
            raise errors.idempotency_key_reused(key)
        return first["response"]

    def _remember(self, uow, customer_id: str, key: str | None, response: dict) -> dict:
        if key:
            store.save_request_response(uow, customer_id, key, response)
        return response

    def _locked(self, uow, order_id, partner_id: str | None = None, customer_id: str | None = None) -> dict:
        order = store.order_row(uow, order_id, partner_id=partner_id, customer_id=customer_id, lock=True)
        if order is None:
            raise errors.order_not_found(str(order_id))
        return order

    def _list(self, query: dict | None, **owner) -> dict:
        q = parse_query(ListQuery, query)
        after = domain.list_position(q.cursor)
        with self.db.transaction() as uow:
            rows = store.list_orders(uow, channels=q.channel.split(",") if q.channel else None,
                                     statuses=q.status.split(",") if q.status else None,
                                     limit=q.limit, after=after, **owner)
            lines = store.lines_of_orders(uow, [r["order_id"] for r in rows[:q.limit]])
        owner_view = "customer_id" in owner
        return paging.page(rows, q.limit, views.order_cursor,
                           lambda r: views.order_view(r, lines.get(r["order_id"], []), owner=owner_view))

    def _detail(self, uow, order: dict, owner: bool, lines: list[dict] | None = None,
                recipient_whole: bool = False) -> dict:
        view = views.order_view(order, lines if lines is not None else store.line_rows(uow, order["order_id"]), owner,
                                recipient_whole)
        if not owner:
            view["contact_access"] = [views.contact_access_view(r)
                                      for r in store.contact_access_of_order(uow, order["order_id"])]
        view["requests"] = [views.request_view(r) for r in store.requests_of_order(uow, order["order_id"])]
        view["inquiries"] = [views.inquiry_view(r) for r in store.feedback_of_order(uow, "inquiries", order["order_id"])]
        view["reviews"] = [views.review_view(r) for r in store.feedback_of_order(uow, "reviews", order["order_id"])]
        return view

    def _send_releases(self, release_ids: list[str]) -> None:
        """Give stock back now; what the catalog does not confirm, the timer retries."""
        for release_id in release_ids:
            with self.db.transaction() as uow:
                row = store.release_row(uow, release_id, lock=True)
                if row is not None:
                    self._send_release(uow, row)

    def _send_release(self, uow, row: dict) -> bool:
        try:
            self.services.catalog.release(row["hold_id"], row["partner_id"], row["lines"],
                                          row["release_id"] if row["lines"] is not None else None)
        except Exception as exc:
            log.warning("stock_release_failed", release_id=row["release_id"], error=repr(exc)[:200])
            store.release_failed(uow, row["release_id"], repr(exc))
            return False
        store.mark_released(uow, row["release_id"])
        return True

    # --- the timer (R-ORD-2) --------------------------------------------------------------------------

    @ConfigTimer.decorator("TIMER_INTERVAL", DEFAULT_TIMER_INTERVAL)
    def timer_tick(self):
        try:
            self._timer_pass(self.now())
        except Exception as exc:   # the next tick tries again: nothing is kept in memory
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
        return self._timer_pass(moment)

    def _timer_pass(self, as_of: dt.datetime) -> dict:
        started = time.monotonic()
        completed = self._auto_complete(as_of)
        released = self._retry_releases()
        swept = self._sweep_interrupted_creations()
        with self.db.transaction() as uow:
            store.delete_expired_keys(uow, float(self.config.get("IDEMPOTENCY_KEY_HOURS", 24)))
        return {"as_of": as_of.isoformat(), "completed": completed, "releases_sent": released,
                "creations_swept": swept, "seconds": round(time.monotonic() - started, 3)}

    def _auto_complete(self, as_of: dt.datetime) -> int:
        """R-ORD-2: every due order, in batches, each completed by exactly one pass."""
        batch = int(self.config.get("TIMER_BATCH", DEFAULT_TIMER_BATCH))
        total = 0
        started_at = self.now()
        while True:
            with self.db.transaction() as uow:
                due = store.claim_due_orders(uow, as_of, batch)
                if not due:
                    break
                completed = store.complete_due(uow, [row["order_id"] for row in due])
                lines = store.lines_of_orders(uow, [row["order_id"] for row in completed])
                with uow.conn.pipeline():   # the batch's outbox rows in one round trip, not one each
                    for order in completed:
                        events.publish(uow, "order.completed", order, lines.get(order["order_id"], []),
                                       actor="system", reason="auto_complete")
                total += len(completed)
        if total:
            with self.db.transaction() as uow:
                store.record_timer_pass(uow, self.config.get("INSTANCE_NAME") or INSTANCE, as_of, started_at, total)
            log.info("orders_auto_completed", count=total, as_of=as_of.isoformat())
        return total

    def _retry_releases(self) -> int:
        sent = 0
        with self.db.transaction() as uow:
            retry_after = float(self.config.get("RELEASE_RETRY_SECONDS", RELEASE_RETRY_AFTER_SECONDS))
            for row in store.claim_pending_releases(uow, retry_after, 100):
                sent += self._send_release(uow, row)
        return sent

    def _sweep_interrupted_creations(self) -> int:
        older_than = float(self.config.get("PENDING_CREATION_SECONDS", DEFAULT_PENDING_CREATION_SECONDS))
        swept = 0
        with self.db.transaction() as uow:
            for row in store.claim_stale_keys(uow, older_than, 100):
                try:
                    self.services.catalog.release(row["hold_id"], row["partner_id"])
                except Exception as exc:
                    log.warning("creation_sweep_failed", hold_id=row["hold_id"], error=repr(exc)[:200])
                    continue
                store.delete_key(uow, row["customer_id"], row["key"])
                swept += 1
        return swept

    # --- dashboard (R-ACC-11) and reconciliation (R-STL-1) -----------------------------------------------

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """Open orders by state, the in-store and delivery tabs (R-ORD-1), today's
        orders and what waits for an answer. Today's sales amount only for
        admins and masters (they read the finances; members see counts)."""
        today = domain.business_date(self.now())
        start, end = domain.day_bounds(today)
        with self.db.transaction() as uow:
            by_state = store.status_counts(uow, partner_id)
            day = store.day_figures(uow, partner_id, start, end)
            waiting = store.open_feedback_counts(uow, partner_id)
        counts = dict.fromkeys(domain.OPEN_STATES, 0)
        tabs = {"in_store": 0, "delivery": 0, "parcel": 0}
        for (channel, status), n in by_state.items():
            counts[status] += n
            tabs["in_store" if channel in domain.IN_STORE else channel] += n
        summary = {"counts": counts, "open_by_tab": tabs,
                   "today": {"date": today.isoformat(), "received": day["received"], "completed": day["completed"],
                             "cancelled": day["cancelled"]},
                   "waiting": {k: int(v) for k, v in waiting.items()}}
        if role in ("admin", "master"):
            summary["today"]["completed_sales"] = int(day["completed_sales"])
        return summary

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
        first, last = domain.parse_period(period_start, period_end)
        start, _ = domain.day_bounds(first)
        _, end = domain.day_bounds(last)
        with self.db.transaction() as uow:
            rows = store.sales_and_refunds(uow, partner_id, start, end)
        return {row["partner_id"]: {"sales": int(row["sales"]), "sales_count": int(row["sales_count"]), "fees": 0,
                                    "refunds": int(row["refunds"])} for row in rows}

    # --- erasure (R-ACC-3) -------------------------------------------------------------------------------

    @event_handler("customer.erased")
    def on_customer_erased(self, event):
        with self.db.consuming(event) as uow:
            if uow is None:
                return   # a duplicate delivery
            count = store.erase_customer(uow, event.payload["customer_id"], event.payload["pseudonym"])
        log.info("customer_erased", orders=count)

    @rpc
    def unfinished_orders(self, partner_ids: list[str]) -> dict[str, int]:
        """For accounts (R-ACC-14): open orders per partner (those with none left out),
        which a closed partner's only admin must see finished before withdrawing."""
        with self.db.transaction() as uow:
            return store.open_order_counts(uow, [str(p) for p in partner_ids], domain.OPEN_STATES)

    @event_handler("partner.closed")
    def on_partner_closed(self, event):
        """R-ACC-14 (domain.py, "a partner closing"): with "cancel", each open order the
        partner may still cancel is cancelled by the partner with a full refund; shipped
        ones, and every one with "serve", are left to finish. Once per event (the inbox):
        a redelivery changes nothing."""
        if event.payload.get("open_bookings") != "cancel":
            return
        release_ids, left = [], 0
        with self.db.consuming(event) as uow:
            if uow is None:
                return   # a duplicate delivery
            for order in store.open_orders_of(uow, event.payload["partner_id"], domain.OPEN_STATES):
                if not domain.cancelled_on_closing(order):
                    left += 1
                    continue
                release_ids.append(self._cancel_locked(uow, order, "partner", domain.PARTNER_CLOSED_REASON,
                                                       None)[2])
        self._send_releases(release_ids)
        log.info("partner_closed", partner_id=event.payload["partner_id"], cancelled=len(release_ids),
                 left_to_finish=left)

    @event_handler("member.withdrawn")
    def on_member_withdrawn(self, event):
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            store.erase_member(uow, event.payload["member_id"], event.payload["pseudonym"])
