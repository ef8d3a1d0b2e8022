"""The orders application layer (issue 19): what each request and event does,
in which transaction, and which other service it asks.

It works through three kinds of collaborators, all handed in by the nameko
class (service.py) and replaced by in-memory fakes in tests/test_use_cases.py:

* ``Transactions`` that open a ``UnitOfWork`` each (``chassis.db``: outbox
  and inbox in the same transaction),
* the repository (``store.py``: explicit SQL, no rules), whose functions take
  the transaction first,
* ports for the other services: ``CatalogPort`` (holds, releases, products)
  and ``AccountsPort`` (a partner's category, a customer's contact).

The rules (states, refunds, refusals, defaults) are domain.py's; the replies
views.py's rendering of the rows. See service.py's docstring for the
Idempotency-Key of creation and the timer.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chassis.ports import HoldingUseCases, UnitOfWork
from chassis import Actor, coupons, idempotency, money, paging
from chassis.errors import DomainError, NotFound, ServiceUnavailable
from chassis.logging import get_logger
from chassis.partner_info import PartnerInfoCache
from chassis.partner_time import business_date
from chassis.privacy import format_phone

from . import domain, errors, events, views

log = get_logger(__name__)

Row = dict[str, Any]
View = dict[str, Any]
NOBODY = Actor.system()  # a change nobody of the partner made (the customer's own, a closing partner's)


class CatalogPort(Protocol):
    def hold(
        self, hold_id: str, partner_id: str, lines: list[Row], coupon: Row | None = None, kind: str | None = None
    ) -> Row: ...

    def release(
        self, hold_id: str, partner_id: str, lines: list[Row] | None = None, release_id: str | None = None
    ) -> Any: ...

    def get_live_product(self, partner_id: str, product_id: str) -> Row: ...


class AccountsPort(Protocol):
    def partner_info(self, partner_id: str) -> Row: ...

    def customer_contact(self, customer_id: str) -> Row: ...


@dataclass(frozen=True)
class Settings:
    """The service config the use cases read (config.yaml, ``PC_ORDERS_*``)."""

    auto_complete_after: dt.timedelta = domain.AUTO_COMPLETE_AFTER
    timer_batch: int = 500
    release_retry_seconds: float = 5.0
    pending_creation_seconds: float = 120.0
    idempotency_key_hours: float = 24.0
    claim_seconds: float = 60.0  # how long a claimed release or sweep is another pass's to leave alone
    instance: str = "orders"


@dataclass(eq=False)
class Orders(HoldingUseCases[CatalogPort, AccountsPort, Settings]):
    """One worker's use cases; ``store`` is the repository module (or a fake of it)."""

    partners: PartnerInfoCache = field(kw_only=True)

    # --- creation (R-ORD-1, R-ORD-6) and its Idempotency-Key -----------------------------------------

    def create_order(self, customer_id: str, key: str, data: Any, customer_name: str | None = None) -> View:
        """``data``: a validated ``OrderCreate``. Claim the key, hold the stock, record the order.
        ``customer_name``: the caller's, when known (else asked of accounts if the channel shows it)."""
        domain.check_channel_fields(data.channel, data.shipping_address is not None)
        coupons.check_one_coupon(data.coupon_code, data.coupon_id)
        fingerprint = idempotency.fingerprint(coupons.without_unnamed_coupon(data.model_dump(mode="json")))
        with self.db.statement() as tx:  # an INSERT, or a read of the row a first use committed
            claimed = self.store.claim_creation_key(
                tx, customer_id, key, data.partner_id, fingerprint, domain.new_hold_id()
            )
        idempotency.check_same_body(claimed["fingerprint"], fingerprint)
        if (first := idempotency.replay(claimed)) is not None:  # the first answer, or its refusal raised again
            return first
        hold = self._hold_for(customer_id, key, claimed["hold_id"], data)
        return self._record_order(customer_id, key, claimed["hold_id"], data, hold, customer_name)

    def _hold_for(self, customer_id: str, key: str, hold_id: str, data: Any) -> Row:
        """The catalog hold of the order; a refusal becomes the key's answer (api.md)."""
        try:
            self._check_channel(data.partner_id, data.channel)
            coupon = coupons.hold_coupon(data.coupon_code, data.coupon_id, customer_id, domain.redemption_key(hold_id))
            lines = domain.hold_lines(data.lines)  # the catalog picks a line's only option and refuses booking products
            hold = self.catalog.hold(hold_id, data.partner_id, lines, coupon=coupon, kind="goods")
            self.after_hold()
            if hold["status"] != "held":  # swept meanwhile: the id is spent
                raise errors.creation_interrupted(key)
        except ServiceUnavailable:
            raise  # the hold may exist: keep the key, so a retry reuses its hold id (or the timer sweeps it)
        except DomainError as exc:
            if exc.code == "hold_id_reused":  # another hold has this id: the key never was this body's
                with self.db.transaction() as tx:
                    self.store.drop_pending_key(tx, customer_id, key, hold_id)
                raise idempotency.key_reused() from None
            self._refuse(customer_id, key, hold_id, exc)
            raise
        return hold

    def _refuse(self, customer_id: str, key: str, hold_id: str, refusal: DomainError) -> None:
        with self.db.transaction() as tx:
            self.store.refuse_creation_key(tx, customer_id, key, hold_id, idempotency.refused(refusal))

    def _check_channel(self, partner_id: str, channel: str) -> None:
        """The partner's category says which channels it takes (R-ORD-1, R-ORD-6). Whether
        it sells at all (R-ACC-8: verified) is the catalog hold's to refuse, for bookings
        and orders alike (409 ``partner_not_open``)."""
        category = self.partners.partner_info(self.accounts, partner_id).category
        offered = domain.offered_channels(category)
        if channel not in offered:
            raise errors.channel_not_offered(channel, category, offered)

    def _record_order(
        self, customer_id: str, key: str, hold_id: str, data: Any, hold: Row, known_name: str | None = None
    ) -> View:
        received_at = self.now()
        customer_name = None
        if domain.shows_customer_name(data.channel):
            customer_name = known_name or self._customer_name(customer_id)
        new = domain.NewOrder(
            data.partner_id,
            data.channel,
            data.shipping_address.model_dump() if data.shipping_address else None,
            data.note,
        )
        order = domain.Order.receive(
            new, customer_id, hold_id, hold, received_at, customer_name, self.settings.auto_complete_after
        )
        lines = domain.lines_from_hold(str(order.order_id), hold)
        with self.db.transaction() as tx:
            claimed = self.store.creation_key(tx, customer_id, key, lock=True)
            if claimed is None or claimed["hold_id"] != hold_id or claimed["swept_at"] is not None:
                raise errors.creation_interrupted(key)  # swept meanwhile: its hold is given back
            if (first := idempotency.replay(claimed)) is not None:
                return first  # a racing request with the same key won
            order.number = self.store.next_order_number(tx, order.partner_id, order.number_day)
            row = self.store.insert_order(tx, order.row(), lines)
            line_rows = [domain.new_line_row(line) for line in lines]
            response = views.order_view(row, line_rows, owner=True)
            self.store.finish_creation_key(tx, customer_id, key, order.order_id, idempotency.answered(response))
            events.publish(tx, "order.received", row, line_rows, actor="customer")
        return response

    def _customer_name(self, customer_id: str) -> str | None:
        """The name an in-store order is called by (issue 18 item 9); an order never
        waits on it: without an answer from accounts it carries none."""
        try:
            name: str | None = self.accounts.customer_contact(customer_id).get("name")
            return name
        except Exception as exc:
            log.info("customer_name_unavailable", error=repr(exc)[:200])
            return None

    def _release_quietly(self, hold_id: str, partner_id: str) -> None:
        try:
            self.catalog.release(hold_id, partner_id)
        except Exception as exc:  # the timer does not know this hold: log it for ops
            log.warning("hold_release_failed", hold_id=hold_id, error=repr(exc)[:200])

    # --- reading orders ---------------------------------------------------------------------------

    def list_orders(self, query: Any, **owner: str) -> View:
        """``owner``: ``partner_id=`` or ``customer_id=``; ``query``: a validated ``ListQuery``."""
        after = domain.list_position(query.cursor)
        with self.db.transaction() as tx:
            rows = self.store.list_orders(
                tx,
                channels=domain.listed(query.channel),
                statuses=domain.listed(query.status),
                limit=query.limit,
                after=after,
                **owner,
            )
            lines = self.store.lines_of_orders(tx, [r["order_id"] for r in rows[: query.limit]])
        owner_view = "customer_id" in owner
        return paging.page(
            rows,
            query.limit,
            views.order_cursor,
            lambda r: views.order_view(r, lines.get(r["order_id"], []), owner=owner_view),
        )

    def customer_order(self, customer_id: str, order_id: str) -> View:
        with self.db.transaction() as tx:
            order = self._found(tx, order_id, customer_id=customer_id)
            return self._detail(tx, order, owner=True)

    def partner_order(self, partner_id: str, order_id: str, actor: Actor) -> View:
        """The staff view; a recipient shown whole for the waybill is a recorded access (R-RSV-12)."""
        with self.db.transaction() as tx:
            order = self._found(tx, order_id, partner_id=partner_id)
            whole = domain.recipient_shown_whole(order) and bool(order["shipping"])
            if whole:
                self._record_contact_access(tx, order, "shipping_shown", actor)
            return self._detail(tx, order, owner=False, recipient_whole=whole)

    def reveal_phone(self, partner_id: str, order_id: str, actor: Actor) -> View:
        """R-RSV-12: the recipient's phone when it ships, else the customer's verified one
        (accounts, asked after the access is recorded and committed)."""
        with self.db.transaction() as tx:
            order = self._found(tx, order_id, partner_id=partner_id)
            self._record_contact_access(tx, order, "phone_revealed", actor)
        phone = (order["shipping"] or {}).get("phone")
        if not phone:
            try:
                phone = self.accounts.customer_contact(order["customer_id"])["phone"]
            except NotFound:  # an erased customer (R-ACC-3) has no phone left to reveal
                phone = None
        return {"order_id": str(order["order_id"]), "phone": format_phone(phone)}

    def couriers(self) -> View:
        with self.db.transaction() as tx:
            return {"items": self.store.couriers(tx), "next_cursor": None}

    def refuse_change(self, order_id: str, **owner: str) -> View:
        """R-ORD-4: nothing changes after receipt (an unknown order is still 404)."""
        with self.db.transaction() as tx:
            self._found(tx, order_id, **owner)
        raise errors.order_not_changeable(order_id)

    def _record_contact_access(self, tx: UnitOfWork, order: Row, reason: str, actor: Actor) -> None:
        self.store.record_contact_access(
            tx, order["partner_id"], order["order_id"], reason, domain.actor_kind(actor), domain.actor_id(actor)
        )

    # --- partner transitions (R-ORD-2, R-ORD-3) -----------------------------------------------------

    def transition(self, partner_id: str, order_id: str, action: str, actor: Actor, **fields: Any) -> View:
        with self.db.transaction() as tx:
            order = domain.Order.from_row(self._locked(tx, order_id, partner_id))
            changes = order.transition(action, self.now(), domain.actor_id(actor), fields)
            row = self.store.update_order(tx, order.order_id, **changes)
            lines = self.store.line_rows(tx, order.order_id)
            for event_type in domain.TRANSITION_EVENTS[action]:
                events.publish(tx, event_type, row, lines, actor="partner")
            return self._detail(tx, row, owner=False, lines=lines)

    def ship(self, partner_id: str, order_id: str, courier: str, invoice_number: str, actor: Actor) -> View:
        with self.db.transaction() as tx:
            url = domain.tracking_url(self.store.courier(tx, courier), invoice_number)
        return self.transition(
            partner_id, order_id, "ship", actor, courier=courier, invoice_number=invoice_number, tracking_url=url
        )

    def correct_shipment(
        self, partner_id: str, order_id: str, courier: str | None, invoice_number: str | None, actor: Actor
    ) -> View:
        """R-ORD-3: courier, invoice number or both corrected while shipped."""
        with self.db.transaction() as tx:
            order = self._locked(tx, order_id, partner_id)
            domain.check_shipment_correctable(order)
            invoice_number = invoice_number or order["invoice_number"]
            courier = courier or order["courier"]
            order = self.store.update_order(
                tx,
                order["order_id"],
                courier=courier,
                invoice_number=invoice_number,
                tracking_url=domain.tracking_url(self.store.courier(tx, courier), invoice_number),
                actor_id=domain.actor_id(actor),
            )
            lines = self.store.line_rows(tx, order["order_id"])
            events.publish(tx, "order.shipment_corrected", order, lines, actor="partner")
            return self._detail(tx, order, owner=False, lines=lines)

    # --- cancellation (R-ORD-5) ------------------------------------------------------------------

    def cancel(self, order_id: str, by: str, reason: str | None, actor: Actor = NOBODY, **owner: str) -> View:
        with self.db.transaction() as tx:
            order, lines, release_id = self._cancel_locked(tx, self._locked(tx, order_id, **owner), by, reason, actor)
            view = self._detail(tx, order, owner=by == "customer", lines=lines)
        self._send_releases([release_id])
        return view

    def _cancel_locked(
        self, tx: UnitOfWork, order: Row, by: str, reason: str | None, actor: Actor
    ) -> tuple[Row, list[Row], str]:
        """Cancel an order locked in ``tx``: the rest of the money back, open
        requests closed, stock to return (the release id to send after commit)."""
        refund = order["total"] - order["refunded_amount"]
        changes = domain.Order.from_row(order).cancel(by, reason, self.now(), domain.actor_id(actor))
        order = self.store.update_order(tx, order["order_id"], **changes)
        self.store.close_open_requests(tx, order["order_id"], domain.CLOSED_WITH_ORDER)
        release_id = domain.cancel_release_id(order)
        self.store.insert_release(tx, release_id, order, order["hold_id"], None)  # R-ORD-6: stock returns
        lines = self.store.line_rows(tx, order["order_id"])
        events.publish(
            tx,
            "order.cancelled",
            order,
            lines,
            actor=by,
            reason=reason,
            refund_amount=refund,
            refunded_line_ids=[line["line_id"] for line in lines],
        )
        return order, lines, release_id

    # --- refunds (R-ORD-8) ---------------------------------------------------------------------------

    def request_refund(self, customer_id: str, order_id: str, key: str | None, body: Any, data: Any) -> View:
        wanted = [line.model_dump() for line in data.lines] if data.lines is not None else None

        def refund(order: Row, lines: list[Row], requests: list[Row]) -> tuple[list[Row], int]:
            items = domain.refund_lines(order, lines, wanted, requests)
            domain.check_refund_leaves_something(order, lines, items)
            return items, domain.refund_amount(lines, items, order["discount_amount"])

        return self._customer_request(
            customer_id, order_id, key, body, "refund", data.reason, domain.check_shop_order, refund
        )

    def _customer_request(
        self,
        customer_id: str,
        order_id: str,
        key: str | None,
        body: Any,
        kind: str,
        reason: str,
        check: Callable[[Row], None],
        decide: Callable[[Row, list[Row], list[Row]], tuple[list[Row], int]],
    ) -> View:
        """A customer's refund or exchange request (R-ORD-8): the first answer of its key,
        or the order locked and ``check``ed, the lines ``decide`` names (and the amount
        they refund) recorded as a request and published; an exchange refunds no line."""
        with self.db.transaction() as tx:
            first, order = self._first_or_locked(tx, customer_id, key, f"{kind}:{order_id}", body, order_id, check)
            if first is not None:
                return first
            lines, requests = self._lines_and_requests(tx, order)
            items, amount = decide(order, lines, requests)
            request = self.store.insert_request(tx, domain.new_request(order, customer_id, kind, reason, items, amount))
            events.publish(
                tx,
                f"order.{kind}_requested",
                order,
                lines,
                actor="customer",
                reason=reason,
                refunded_line_ids=[item["line_id"] for item in items] if kind == "refund" else [],
                request_id=request["request_id"],
            )
            return self._remember(tx, customer_id, key, views.request_view(request))

    def approve_refund(self, partner_id: str, request_id: str, actor: Actor) -> View:
        """The units named are refunded; before shipment their stock returns (R-ORD-6, R-ORD-8)."""
        release_ids: list[str] = []
        with self.db.transaction() as tx:
            order, request = self._locked_request(tx, partner_id, "refund", request_id)
            lines = self.store.line_rows(tx, order["order_id"])
            refund = request["lines"]
            by_id = {line["line_id"]: line for line in lines}
            domain.check_refund_still_possible(order, lines, refund)
            by_product = money.refund_by_product(lines, refund, order["discount_amount"])  # what was paid (#11)
            amount = sum(by_product.values())
            self.store.refund_line_units(tx, order["order_id"], refund)
            refunded = order["refunded_amount"] + amount
            if order["status"] in domain.UNSHIPPED_STATES:
                release_ids = self._release_units(tx, order, by_id, refund, f"rf:{request['request_id']}")
            order = self.store.update_order(
                tx,
                order["order_id"],
                refunded_amount=refunded,
                payment_status=domain.payment_status(order["total"], refunded),
                actor_id=domain.actor_id(actor),
            )
            request = self.store.decide_request(
                tx, request["request_id"], "approved", domain.actor_id(actor), None, amount=amount
            )
            lines = self.store.line_rows(tx, order["order_id"])
            events.publish(
                tx,
                "order.refund_approved",
                order,
                lines,
                actor="partner",
                refund_amount=amount,
                refunded_line_ids=[item["line_id"] for item in refund],
                request_id=request["request_id"],
                refund_products=by_product,
            )
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    def reject(self, partner_id: str, kind: str, request_id: str, reason: str, actor: Actor) -> View:
        release_ids: list[str] = []
        with self.db.transaction() as tx:
            order, request = self._locked_request(tx, partner_id, kind, request_id)
            if request["exchange_hold_id"]:  # an approval that failed half-way held the new option
                release_ids = [f"xr:{request['request_id']}"]
                self.store.insert_release(tx, release_ids[0], order, request["exchange_hold_id"], None)
            request = self.store.decide_request(tx, request["request_id"], "rejected", domain.actor_id(actor), reason)
            lines = self.store.line_rows(tx, order["order_id"])
            events.publish(
                tx,
                f"order.{kind}_rejected",
                order,
                lines,
                actor="partner",
                reason=reason,
                request_id=request["request_id"],
            )
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    # --- exchanges (R-ORD-8, issue 18 item 7) ------------------------------------------------------------

    def request_exchange(self, customer_id: str, order_id: str, key: str | None, body: Any, data: Any) -> View:
        """Units of a line to another option of the same product, at the same price."""
        wanted = [line.model_dump() for line in data.lines]
        with self.db.transaction() as tx:
            order = self._found(tx, order_id, customer_id=customer_id)
            lines = self.store.line_rows(tx, order["order_id"])
        domain.check_exchangeable(order)
        self._check_exchange_options(order, {line["line_id"]: line for line in lines}, wanted)
        return self._customer_request(
            customer_id,
            order_id,
            key,
            body,
            "exchange",
            data.reason,
            domain.check_exchangeable,
            lambda order, lines, requests: (domain.exchange_lines(order, lines, wanted, requests), 0),
        )

    def _check_exchange_options(self, order: Row, by_id: dict[str, Row], wanted: list[Row]) -> None:
        products: dict[str, Row] = {}
        for index, item in enumerate(wanted):
            line = by_id.get(item["line_id"])
            if line is None:
                raise errors.invalid_fields({f"lines.{index}.line_id": "not a line of this order"})
            if line["product_id"] not in products:
                products[line["product_id"]] = self.catalog.get_live_product(order["partner_id"], line["product_id"])
            domain.check_exchange_option(products[line["product_id"]], line, item, index)

    def approve_exchange(self, partner_id: str, request_id: str, pickup: Any, actor: Actor) -> View:
        """Hold the new options (R-ORD-8); ``pickup`` (``ExchangeApproveIn``) names the return
        pickup. The old units go back to stock when the return is received."""
        domain.check_pickup(pickup.return_courier, pickup.return_invoice_number)
        with self.db.transaction() as tx:
            order, request = self._locked_request(tx, partner_id, "exchange", request_id)
            hold_id = request["exchange_hold_id"] or domain.new_exchange_hold_id()
            self.store.set_exchange_hold(tx, request["request_id"], hold_id)
            lines = {line["line_id"]: line for line in self.store.line_rows(tx, order["order_id"])}
        wanted = [
            {
                "product_id": lines[item["line_id"]]["product_id"],
                "option_id": item["option_id"],
                "quantity": item["quantity"],
            }
            for item in request["lines"]
        ]
        hold = self.catalog.hold(hold_id, partner_id, wanted)  # 409 out_of_stock: still requested
        if hold["status"] != "held":
            raise errors.request_not_open("exchange", request_id, "rejected")
        for item, held in zip(request["lines"], hold["lines"], strict=True):
            if held["unit_price"] != lines[item["line_id"]]["unit_price"]:  # the price changed since the request
                self._give_back_exchange_hold(request["request_id"], hold_id, partner_id)
                raise errors.exchange_price_differs(
                    item["line_id"], item["option_id"], lines[item["line_id"]]["unit_price"], held["unit_price"]
                )
        return self._apply_exchange(partner_id, request_id, hold_id, hold, actor, pickup)

    def _apply_exchange(
        self, partner_id: str, request_id: str, hold_id: str, hold: Row, actor: Actor, pickup: Any
    ) -> View:
        with self.db.transaction() as tx:
            # Approved or rejected meanwhile: an approval keeps the hold, a rejection released it.
            order, request = self._locked_request(tx, partner_id, "exchange", request_id)
            lines = self.store.line_rows(tx, order["order_id"])
            new_lines, replaces = domain.exchange_new_lines(order, lines, request["lines"], hold["lines"])
            for item in request["lines"]:
                self.store.move_line_units(tx, order["order_id"], item["line_id"], item["quantity"])
            self.store.insert_lines(tx, order["order_id"], hold_id, new_lines, replaces)
            request = self.store.decide_request(tx, request["request_id"], "approved", domain.actor_id(actor), None)
            if pickup.return_courier is not None:
                request = self.store.update_request(
                    tx,
                    request["request_id"],
                    return_courier=pickup.return_courier,
                    return_invoice_number=pickup.return_invoice_number,
                    return_tracking_url=domain.tracking_url(
                        self.store.courier(tx, pickup.return_courier), pickup.return_invoice_number
                    ),
                )
            order = self.store.update_order(tx, order["order_id"], actor_id=domain.actor_id(actor))
            lines = self.store.line_rows(tx, order["order_id"])
            events.publish(
                tx,
                "order.exchange_approved",
                order,
                lines,
                actor="partner",
                request_id=request["request_id"],
                exchange=request,
            )
            return views.request_view(request)

    def exchange_step(self, partner_id: str, request_id: str, step: str, actor: Actor, **fields: Any) -> View:
        """Receiving the return (its units back to stock), shipping and delivering the replacement."""
        release_ids: list[str] = []
        with self.db.transaction() as tx:
            found = self.store.request_row(tx, partner_id, "exchange", request_id)
            if found is None:
                raise errors.request_not_found("exchange", request_id)
            order = self._locked(tx, found["order_id"], partner_id)
            request = self.store.request_row(tx, partner_id, "exchange", request_id)
            status, column = domain.exchange_step(request, step)
            lines = self.store.line_rows(tx, order["order_id"])
            if step == "receive_return":
                by_id = {line["line_id"]: line for line in lines}
                release_ids = self._release_units(tx, order, by_id, request["lines"], f"xo:{request['request_id']}")
            if "courier" in fields:
                fields["tracking_url"] = domain.tracking_url(
                    self.store.courier(tx, fields["courier"]), fields["invoice_number"]
                )
            request = self.store.update_request(
                tx, request["request_id"], status=status, **{column: self.now()}, **fields
            )
            events.publish(
                tx,
                domain.EXCHANGE_STEP_EVENTS[step],
                order,
                lines,
                actor="partner",
                request_id=request["request_id"],
                exchange=request,
            )
            view = views.request_view(request)
        self._send_releases(release_ids)
        return view

    def _give_back_exchange_hold(self, request_id: Any, hold_id: str, partner_id: str) -> None:
        self._release_quietly(hold_id, partner_id)
        with self.db.transaction() as tx:  # a spent hold id: the next approval takes a new one
            self.store.forget_exchange_hold(tx, request_id, hold_id)

    def _locked_request(self, tx: UnitOfWork, partner_id: str, kind: str, request_id: str) -> tuple[Row, Row]:
        """The order locked first (every change of an order does so), then its request as it is now."""
        found = self.store.request_row(tx, partner_id, kind, request_id)
        if found is None:
            raise errors.request_not_found(kind, request_id)
        order = self.store.order_row(tx, found["order_id"], partner_id=partner_id, lock=True)
        request = self.store.request_row(tx, partner_id, kind, request_id)
        if request["status"] != "requested":
            raise errors.request_not_open(kind, request_id, request["status"])
        return order, request

    def _release_units(
        self, tx: UnitOfWork, order: Row, by_id: dict[str, Row], items: list[Row], prefix: str
    ) -> list[str]:
        """Stock releases for units of lines, one per hold they came from."""
        release_ids = []
        for release_id, hold_id, lines in domain.unit_releases(by_id, items, prefix):
            self.store.insert_release(tx, release_id, order, hold_id, lines)
            release_ids.append(release_id)
        return release_ids

    # --- inquiries and reviews (R-ORD-9) ------------------------------------------------------------

    def post_inquiry(self, customer_id: str, order_id: str, key: str | None, body: Any, text: str) -> View:
        with self.db.transaction() as tx:
            first, order = self._first_or_locked(tx, customer_id, key, f"inquiry:{order_id}", body, order_id)
            if first is not None:
                return first
            inquiry = self.store.insert_inquiry(
                tx,
                {
                    "inquiry_id": uuid.uuid4(),
                    "order_id": order["order_id"],
                    "partner_id": order["partner_id"],
                    "customer_id": customer_id,
                    "body": text,
                },
            )
            events.publish(
                tx,
                "order.inquiry_posted",
                order,
                self.store.line_rows(tx, order["order_id"]),
                actor="customer",
                request_id=inquiry["inquiry_id"],
            )
            return self._remember(tx, customer_id, key, views.inquiry_view(inquiry))

    def post_review(self, customer_id: str, order_id: str, key: str | None, body: Any, data: Any) -> View:
        with self.db.transaction() as tx:
            first, order = self._first_or_locked(tx, customer_id, key, f"review:{order_id}", body, order_id)
            if first is not None:
                return first
            lines = self.store.line_rows(tx, order["order_id"])
            domain.check_reviewable(order, lines, data.line_id)
            review = self.store.insert_review(
                tx,
                {
                    "review_id": uuid.uuid4(),
                    "order_id": order["order_id"],
                    "line_id": data.line_id,
                    "partner_id": order["partner_id"],
                    "customer_id": customer_id,
                    "rating": data.rating,
                    "body": data.body,
                },
            )
            if review is None:
                raise errors.review_exists(data.line_id)
            events.publish(
                tx, "order.review_posted", order, lines, actor="customer", request_id=review["review_id"], review=review
            )
            return self._remember(tx, customer_id, key, views.review_view(review))

    def answer(self, partner_id: str, table: str, object_id: str, text: str, actor: Actor) -> View:
        """The partner answers an inquiry or replies to a review, once."""
        kind, event, render = {
            "inquiries": ("answered", "order.inquiry_answered", views.inquiry_view),
            "reviews": ("replied", "order.review_replied", views.review_view),
        }[table]
        with self.db.transaction() as tx:
            found = self.store.feedback_row(tx, table, partner_id, object_id)
            if found is None:
                raise (errors.inquiry_not_found if table == "inquiries" else errors.review_not_found)(object_id)
            order = self._locked(tx, found["order_id"], partner_id)
            row = self.store.answer(
                tx, table, found["inquiry_id" if table == "inquiries" else "review_id"], text, domain.actor_id(actor)
            )
            if row is None:
                raise errors.already_answered(kind, object_id)
            events.publish(
                tx,
                event,
                order,
                self.store.line_rows(tx, order["order_id"]),
                actor="partner",
                request_id=object_id,
                review=row if table == "reviews" else None,
            )
            return render(row)

    def list_requests(self, partner_id: str, kind: str, query: Any) -> View:
        after = domain.list_position(query.cursor)
        with self.db.transaction() as tx:
            rows = self.store.list_requests(tx, partner_id, kind, query.status, query.limit, after)
        return paging.page(
            rows, query.limit, lambda r: (r["created_at"].isoformat(), r["request_id"]), views.request_view
        )

    def list_inquiries(self, partner_id: str, query: Any) -> View:
        after = domain.list_position(query.cursor)
        done = None if query.answered is None else query.answered == "true"
        with self.db.transaction() as tx:
            rows = self.store.list_feedback(tx, "inquiries", partner_id, done, query.limit, after)
        return paging.page(
            rows, query.limit, lambda r: (r["created_at"].isoformat(), r["inquiry_id"]), views.inquiry_view
        )

    # --- shared helpers ---------------------------------------------------------------------------

    def _first_or_locked(
        self,
        tx: UnitOfWork,
        customer_id: str,
        key: str | None,
        scope: str,
        body: Any,
        order_id: str,
        check: Callable[[Row], None] | None = None,
    ) -> tuple[View | None, Row]:
        """A customer's POST on their order: the first response of its key, or the order
        locked and ``check``ed (whether it takes this request at all)."""
        first = self._replayed(tx, customer_id, key, scope, body)
        if first is not None:
            return first, {}
        order = self._locked(tx, order_id, customer_id=customer_id)
        if check is not None:
            check(order)
        return None, order

    def _replayed(self, tx: UnitOfWork, customer_id: str, key: str | None, scope: str, body: Any) -> View | None:
        """The first response of this Idempotency-Key (api.md: accepted on every POST), or None
        when this request is the first; another body with the key is 409 idempotency_key_reused."""
        if not key:
            return None
        fingerprint = idempotency.fingerprint({"scope": scope, "body": body})
        first = self.store.claim_request_key(tx, customer_id, key, fingerprint)
        if first is None:
            return None
        idempotency.check_same_body(first["fingerprint"], fingerprint)
        response: View = first["response"]
        return response

    def _remember(self, tx: UnitOfWork, customer_id: str, key: str | None, response: View) -> View:
        if key:
            self.store.save_request_response(tx, customer_id, key, response)
        return response

    def _lines_and_requests(self, tx: UnitOfWork, order: Row) -> tuple[list[Row], list[Row]]:
        return self.store.line_rows(tx, order["order_id"]), self.store.requests_of_order(tx, order["order_id"])

    def _found(self, tx: UnitOfWork, order_id: str, **owner: str) -> Row:
        order: Row | None = self.store.order_row(tx, order_id, **owner)
        if order is None:
            raise errors.order_not_found(order_id)
        return order

    def _locked(
        self, tx: UnitOfWork, order_id: Any, partner_id: str | None = None, customer_id: str | None = None
    ) -> Row:
        order: Row | None = self.store.order_row(
            tx, order_id, partner_id=partner_id, customer_id=customer_id, lock=True
        )
        if order is None:
            raise errors.order_not_found(str(order_id))
        return order

    def _detail(
        self, tx: UnitOfWork, order: Row, owner: bool, lines: list[Row] | None = None, recipient_whole: bool = False
    ) -> View:
        order_id = order["order_id"]
        view = views.order_view(
            order, lines if lines is not None else self.store.line_rows(tx, order_id), owner, recipient_whole
        )
        if not owner:
            view["contact_access"] = [
                views.contact_access_view(r) for r in self.store.contact_access_of_order(tx, order_id)
            ]
        view["requests"] = [views.request_view(r) for r in self.store.requests_of_order(tx, order_id)]
        view["inquiries"] = [views.inquiry_view(r) for r in self.store.feedback_of_order(tx, "inquiries", order_id)]
        view["reviews"] = [views.review_view(r) for r in self.store.feedback_of_order(tx, "reviews", order_id)]
        return view

    def _send_releases(self, release_ids: Iterable[str]) -> None:
        """Give stock back now; what the catalog does not confirm, the timer retries."""
        for release_id in release_ids:
            with self.db.transaction() as tx:
                row = self.store.claim_release(tx, release_id, self.settings.claim_seconds)
            if row is not None:
                self._send_release(row)

    def _send_release(self, row: Row) -> bool:
        """A claimed release to the catalog, after the claim's commit (no row lock held
        during the call); the catalog gives a release back once, whatever the retries."""
        try:
            self.catalog.release(
                row["hold_id"], row["partner_id"], row["lines"], row["release_id"] if row["lines"] is not None else None
            )
        except Exception as exc:
            log.warning("stock_release_failed", release_id=row["release_id"], error=repr(exc)[:200])
            with self.db.transaction() as tx:
                self.store.release_failed(tx, row["release_id"], repr(exc))
            return False
        with self.db.transaction() as tx:
            self.store.mark_released(tx, row["release_id"])
        return True

    # --- the timer (R-ORD-2) --------------------------------------------------------------------------

    def timer_pass(self, as_of: dt.datetime) -> View:
        started = time.monotonic()
        completed = self._auto_complete(as_of)
        released = self._retry_releases()
        swept = self._sweep_interrupted_creations()
        with self.db.transaction() as tx:
            self.store.delete_expired_keys(tx, self.settings.idempotency_key_hours)
        return {
            "as_of": as_of.isoformat(),
            "completed": completed,
            "releases_sent": released,
            "creations_swept": swept,
            "seconds": round(time.monotonic() - started, 3),
        }

    def _auto_complete(self, as_of: dt.datetime) -> int:
        """R-ORD-2: every due order, in batches, each completed by exactly one pass."""
        total = 0
        started_at = self.now()
        while True:
            with self.db.transaction() as tx:
                due = self.store.claim_due_orders(tx, as_of, domain.AUTO_COMPLETING_STATES, self.settings.timer_batch)
                if not due:
                    break
                completed = self.store.complete_due(tx, [row["order_id"] for row in due], domain.AUTO_COMPLETING_STATES)
                lines = self.store.lines_of_orders(tx, [row["order_id"] for row in completed])
                with self.store.pipeline(tx):  # the batch's outbox rows in one round trip, not one each
                    for order in completed:
                        events.publish(
                            tx,
                            "order.completed",
                            order,
                            lines.get(order["order_id"], []),
                            actor="system",
                            reason="auto_complete",
                        )
                total += len(completed)
        if total:
            with self.db.transaction() as tx:
                self.store.record_timer_pass(tx, self.settings.instance, as_of, started_at, total)
            log.info("orders_auto_completed", count=total, as_of=as_of.isoformat())
        return total

    def _retry_releases(self) -> int:
        with self.db.transaction() as tx:
            claimed = self.store.claim_pending_releases(
                tx, self.settings.release_retry_seconds, self.settings.claim_seconds, 100
            )
        return sum(self._send_release(row) for row in claimed)

    def _sweep_interrupted_creations(self) -> int:
        """Interrupted creations: claimed (swept: they can no longer finish), their holds given
        back after that commits, then their keys deleted; a failed release is tried again
        once the claim runs out."""
        with self.db.transaction() as tx:
            claimed = self.store.claim_stale_keys(
                tx, self.settings.pending_creation_seconds, self.settings.claim_seconds, 100
            )
        swept = 0
        for row in claimed:
            try:
                self.catalog.release(row["hold_id"], row["partner_id"])
            except Exception as exc:
                log.warning("creation_sweep_failed", hold_id=row["hold_id"], error=repr(exc)[:200])
                continue
            with self.db.transaction() as tx:
                self.store.delete_key(tx, row["customer_id"], row["key"])
            swept += 1
        return swept

    # --- dashboard (R-ACC-11) and reconciliation (R-STL-1) ----------------------------------------------

    def dashboard_summary(self, partner_id: str, role: str | None) -> View:
        today = business_date(self.now())
        start, end = domain.day_bounds(today)
        with self.db.transaction() as tx:
            by_state = self.store.status_counts(tx, partner_id, domain.OPEN_STATES)
            day = self.store.day_figures(tx, partner_id, start, end)
            waiting = self.store.open_feedback_counts(tx, partner_id)
        return domain.dashboard_summary(today, by_state, day, waiting, role)

    def settlement_totals(self, partner_id: str | None, period_start: str, period_end: str) -> View:
        first, last = domain.parse_period(period_start, period_end)
        start, _ = domain.day_bounds(first)
        _, end = domain.day_bounds(last)
        with self.db.transaction() as tx:
            rows = self.store.sales_and_refunds(tx, partner_id, start, end)
        return {
            row["partner_id"]: {
                "sales": int(row["sales"]),
                "sales_count": int(row["sales_count"]),
                "fees": 0,
                "refunds": int(row["refunds"]),
            }
            for row in rows
        }

    def unfinished_orders(self, partner_ids: list[str]) -> dict[str, int]:
        with self.db.transaction() as tx:
            counts: dict[str, int] = self.store.open_order_counts(tx, [str(p) for p in partner_ids], domain.OPEN_STATES)
            return counts

    # --- events from accounts (R-ACC-3, R-ACC-14) ----------------------------------------------------

    def customer_erased(self, event: Any) -> None:
        with self.db.consuming(event) as tx:
            if tx is None:
                return  # a duplicate delivery
            count = self.store.erase_customer(tx, event.payload["customer_id"], event.payload["pseudonym"])
        log.info("customer_erased", orders=count)

    def member_withdrawn(self, event: Any) -> None:
        with self.db.consuming(event) as tx:
            if tx is not None:
                self.store.erase_member(tx, event.payload["member_id"], event.payload["pseudonym"])

    def partner_closed(self, event: Any) -> None:
        """R-ACC-14: with "cancel", each open order the partner may still cancel is cancelled
        by the partner with a full refund, its stock returned; the others are left to finish."""
        if not domain.closing_cancels(event.payload):
            return
        release_ids, left = [], 0
        with self.db.consuming(event) as tx:
            if tx is None:
                return  # a duplicate delivery
            for order in self.store.open_orders_of(tx, event.payload["partner_id"], domain.OPEN_STATES):
                if not domain.cancelled_on_closing(order):
                    left += 1
                    continue
                release_ids.append(self._cancel_locked(tx, order, "partner", domain.PARTNER_CLOSED_REASON, NOBODY)[2])
        self._send_releases(release_ids)
        log.info(
            "partner_closed", partner_id=event.payload["partner_id"], cancelled=len(release_ids), left_to_finish=left
        )
