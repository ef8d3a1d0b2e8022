"""Order rules, without I/O (R-ORD-1..9, ../shared/domain.md; seeds 003 and 004).

States
------
Cafe in store (``dine_in``, ``takeout``; R-ORD-2)::

    received --start_preparing--> preparing --complete--> completed
    (received or preparing) --one hour after receipt--> completed (by "system")

Delivery and shop parcels (``delivery``, ``parcel``; R-ORD-3, R-ORD-7)::

    received --prepare_shipment--> preparing_shipment --ship--> shipped --deliver--> completed

``cancelled`` is reachable from the states R-ORD-5 allows. Nothing of an order
(lines, channel, address) changes after receipt (R-ORD-4); only the courier
and invoice number are corrected while ``shipped``.

Choices made where the seeds are silent (also in the service docstring)
-------------------------------------------------------------------------
* A delivered order is ``completed`` (R-ORD-3: delivery completes it); it
  keeps ``delivered_at``. Delivering publishes ``order.delivered`` and then
  ``order.completed`` (the review invitation); settlement counts the sale once.
* Completing by hand needs ``preparing`` (the seed's "start preparing" comes
  first); the one-hour auto-complete applies from ``received`` too, and
  records ``completed_at`` as the due time itself (exact to the minute
  whenever the pass runs).
* Parcel orders follow R-ORD-5 like delivery orders: the customer cancels
  only while ``received``, the partner until shipped.
* Refunds and exchanges (R-ORD-8) are for parcel orders. A refund names
  lines and units (all remaining ones by default); it returns stock only
  when approved before shipment. Before shipment a refund may not cover
  every remaining unit: that is a cancellation, which the customer makes
  while the order is ``received`` and the partner until it is shipped
  (R-ORD-5), partly refunded or not. The settlement ledger books refunds
  approved before completion with the sale, when the order completes, and
  nothing for an order that never completes (issue 18, R-STL-1).
* Every open state has a way out for someone (``EXITS``), and every refusal
  says what the order is and who may do what next.
* An exchange is for goods the customer has (shipped or completed orders),
  to another option of the same product at the same price, and is its own
  small flow (issue 18 item 7, ``EXCHANGE_STEPS``): approval holds the new
  option and may name the return pickup's courier and invoice; receiving the
  return puts the old unit back in stock; the replacement ships with its
  courier and invoice (and tracking link), then is delivered. The order's
  own status does not change.
* Reviews: one per order line, on completed orders of every channel; the
  partner replies once. Inquiries: any order, answered once.
* Coupons (issue #11): one per order (``coupon_code`` or ``coupon_id``),
  redeemed by the catalog with the order's hold under ``order:<order id>``.
  ``total`` is what the customer paid (the lines at their prices less the
  discount); a refund of some units pays back what was paid for them
  (``refund_amount``) and keeps the coupon; a cancellation refunds ``total``
  and gives the coupon back with the whole hold. Whether the partner sells at
  all (R-ACC-8, verified) is the catalog hold's check; the category's channels
  stay here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from chassis import Actor, paging
from chassis.actor import API_KEY
from chassis.coupons import coupon_of_hold
from chassis.money import refund_by_product
from chassis.partner_time import PARTNER_TIME_ZONE, business_date  # noqa: F401 (the service reads them as domain.*)

from . import errors

Row = dict[str, Any]  # an order, line or request as its row (or the parts of it a rule reads)

AUTO_COMPLETE_AFTER = dt.timedelta(hours=1)  # R-ORD-2

IN_STORE = ("dine_in", "takeout")
SHIPPED_CHANNELS = ("delivery", "parcel")
WAYBILL_STATES = ("preparing_shipment", "shipped")


def recipient_shown_whole(order: Row) -> bool:
    """R-RSV-12: staff see a delivery or parcel recipient's name, phone and
    address whole from ``preparing_shipment`` until delivered (a waybill needs
    them); otherwise the phone is masked."""
    return order["channel"] in SHIPPED_CHANNELS and order["status"] in WAYBILL_STATES


OPEN_STATES = ("received", "preparing", "preparing_shipment", "shipped")
UNSHIPPED_STATES = ("received", "preparing_shipment")

# Which channels a partner category takes: the cafe of seed 004, the shop of seed 003.
CHANNELS_BY_CATEGORY = {"cafe": ("dine_in", "takeout", "delivery"), "fashion": ("parcel",)}

# action -> (channels, from states, to state, timestamp column)
TRANSITIONS = {
    "start_preparing": (IN_STORE, ("received",), "preparing", "preparing_at"),
    "complete": (IN_STORE, ("preparing",), "completed", "completed_at"),
    "prepare_shipment": (SHIPPED_CHANNELS, ("received",), "preparing_shipment", "shipment_prepared_at"),
    "ship": (SHIPPED_CHANNELS, ("preparing_shipment",), "shipped", "shipped_at"),
    "deliver": (SHIPPED_CHANNELS, ("shipped",), "completed", "delivered_at"),
}
# The events each transition publishes (contracts._ORDER_EVENTS); R-ORD-3: delivery
# completes the order, so it also publishes ``order.completed`` (the review invitation).
TRANSITION_EVENTS = {
    "start_preparing": ("order.preparing",),
    "complete": ("order.completed",),
    "prepare_shipment": ("order.shipment_prepared",),
    "ship": ("order.shipped",),
    "deliver": ("order.delivered", "order.completed"),
}
# The states the one-hour auto-complete takes an order from (R-ORD-2).
AUTO_COMPLETING_STATES = ("received", "preparing")


def offered_channels(category: str | None) -> tuple[str, ...]:
    return CHANNELS_BY_CATEGORY.get(category or "", ())


def check_channel_fields(channel: str, has_shipping_address: bool) -> None:
    """R-ORD-6: deliveries and parcels need an address; eating in or taking out has none."""
    if channel in SHIPPED_CHANNELS and not has_shipping_address:
        raise errors.invalid_fields({"shipping_address": f"required for {channel} orders"})
    if channel in IN_STORE and has_shipping_address:
        raise errors.invalid_fields({"shipping_address": f"{channel} orders are not shipped"})


def auto_complete_at(
    channel: str, received_at: dt.datetime, after: dt.timedelta = AUTO_COMPLETE_AFTER
) -> dt.datetime | None:
    """R-ORD-2: one hour (the ``AUTO_COMPLETE_MINUTES`` setting) after receipt,
    for dine-in and takeout only."""
    return received_at + after if channel in IN_STORE else None


def tracking_url(courier: Row | None, invoice_number: str | None) -> str | None:
    """R-ORD-7: the courier's tracking page for this invoice (None for a courier
    the platform does not know)."""
    if courier is None or not invoice_number:
        return None
    template: str = courier["tracking_template"]
    return template.replace("{invoice}", invoice_number)


def ready_at(started: dt.datetime, minutes: int | None) -> dt.datetime | None:
    """Seed 004 소요 시간: when an order the partner started preparing should be
    ready. It changes nothing of the auto-complete, which seed 004 ties to receipt."""
    return started + dt.timedelta(minutes=minutes) if minutes else None


def shows_customer_name(channel: str) -> bool:
    """In-store orders are called out by number and name at the counter (issue 18 item 9);
    a delivery or parcel names its recipient in the shipping address instead."""
    return channel in IN_STORE


# R-ORD-2..5, R-ORD-8: the ways out of every open state, by who may take them
# (customer, partner, system). ``completed`` and ``cancelled`` are final
# (a completed parcel order still takes refund and exchange requests).
EXITS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "in_store": {
        "received": {"customer": ("cancel",), "partner": ("start_preparing", "cancel"), "system": ("auto_complete",)},
        "preparing": {"partner": ("complete", "cancel"), "system": ("auto_complete",)},
    },
    "shipped": {
        "received": {"customer": ("cancel",), "partner": ("prepare_shipment", "cancel")},
        "preparing_shipment": {"partner": ("ship", "cancel")},
        "shipped": {"partner": ("deliver",)},
    },
}


def exits(order: Row) -> dict[str, list[str]]:
    """Who may do what next with this order (empty once it is final)."""
    group = "in_store" if order["channel"] in IN_STORE else "shipped"
    return {who: list(actions) for who, actions in EXITS[group].get(order["status"], {}).items()}


def transition(order: Row, action: str) -> tuple[str, str]:
    """(new status, timestamp column) or 409 invalid_state (R-ORD-2, R-ORD-3)."""
    channels, from_states, to_state, column = TRANSITIONS[action]
    if order["channel"] not in channels:
        raise errors.wrong_channel(order, action, channels, exits(order))
    if order["status"] not in from_states:
        raise errors.invalid_state(order["order_id"], order["status"], action, from_states, exits(order))
    return to_state, column


def transition_changes(order: Row, action: str, now: dt.datetime, actor: str | None, fields: Mapping[str, Any]) -> Row:
    """The columns a partner's transition sets: the new status and its time, who acted,
    the action's own ``fields`` (courier, minutes); completing books the sale."""
    status, column = transition(order, action)
    changes = {"status": status, column: now, "actor_id": actor, **fields}
    if "preparation_minutes" in fields:
        changes["ready_at"] = ready_at(now, fields["preparation_minutes"])
    if status == "completed":
        changes.update(completed_at=now, completed_by="partner", booked_at=now)
    return changes


def check_shipment_correctable(order: Row) -> None:
    """R-ORD-3: the invoice can be corrected while shipped, not before or after."""
    if order["channel"] not in SHIPPED_CHANNELS:
        raise errors.wrong_channel(order, "correct_shipment", SHIPPED_CHANNELS, exits(order))
    if order["status"] != "shipped":
        raise errors.invalid_state(order["order_id"], order["status"], "correct_shipment", ("shipped",), exits(order))


# --- cancellation (R-ORD-5) ------------------------------------------------------------

CUSTOMER_REFUSALS = {
    "preparing": ("preparation_started", "the cafe has started preparing this order; ask the cafe to cancel it"),
    "preparing_shipment": ("shipment_started", "shipment preparation has started; ask the partner to cancel it"),
    "shipped": ("already_shipped", "a shipped order cannot be cancelled; ask for a refund once it arrives"),
    "completed": ("already_completed", "a completed order cannot be cancelled"),
    "cancelled": ("already_cancelled", "the order is already cancelled"),
}
PARTNER_REFUSALS = {
    "shipped": (
        "already_shipped",
        "a shipped order can be neither cancelled nor changed; mark it delivered, then handle refund requests",
    ),
    "completed": ("already_completed", "a completed order cannot be cancelled"),
    "cancelled": ("already_cancelled", "the order is already cancelled"),
}


def check_cancel(order: Row, by: str) -> None:
    """R-ORD-5. Customer: only while ``received``. Partner: dine-in/takeout
    before completion, delivery/parcel before shipment, partly refunded or
    not (the rest is refunded). Each refusal is a 409 ``cancel_not_allowed``
    naming its reason code and who may do what next."""
    refusals = CUSTOMER_REFUSALS if by == "customer" else PARTNER_REFUSALS
    refusal = refusals.get(order["status"])
    if refusal is not None:
        reason, message = refusal
        raise errors.cancel_not_allowed(order["order_id"], order["status"], reason, message, by, exits(order))


CLOSED_WITH_ORDER = "the order was cancelled"  # the decision reason of requests a cancellation closes


def cancellation_changes(order: Row, by: str, reason: str | None, now: dt.datetime, actor: str | None) -> Row:
    """A cancellation refunds whatever is left to pay back; the actor is recorded for a partner's."""
    return {
        "status": "cancelled",
        "cancelled_at": now,
        "cancelled_by": by,
        "cancel_reason": reason,
        "refunded_amount": order["total"],
        "payment_status": payment_status(order["total"], order["total"]),
        "actor_id": actor if by == "partner" else None,
    }


def cancel_release_id(order: Row) -> str:
    """The stock release of a cancellation: the whole hold, once per order."""
    return f"cancel:{order['order_id']}"


# --- a partner closing (R-ACC-14) ------------------------------------------------------
#
# The admin chose "cancel": every open order the partner may still cancel (its
# ``EXITS``: received, preparing, preparing_shipment) is cancelled by the partner
# with a full refund of what is left to pay back, its stock returned. An order
# already ``shipped`` cannot be cancelled (the goods are on the road): it is left
# to finish as a served booking is; its one exit stays the partner's ``deliver``
# (then refund requests as usual). "serve": every open order is left to finish.
# Until they are, the partner's only admin may not withdraw (accounts asks
# ``unfinished_orders``; 409 ``orders_to_finish``): someone must deliver them.
# New orders are refused by the catalog's hold (``partner_not_open``).

PARTNER_CLOSED_REASON = "파트너 운영 종료 (the partner has closed)"


def closing_cancels(payload: Row) -> bool:
    """The admin chose to cancel open orders ("cancel"), not to serve them ("serve")."""
    return payload.get("open_bookings") == "cancel"


def cancelled_on_closing(order: Row) -> bool:
    """Whether closing with "cancel" cancels this order: the partner's own exits decide."""
    return "cancel" in exits(order).get("partner", ())


# --- refunds and exchanges (R-ORD-8) ----------------------------------------------------


def remaining_units(line: Row) -> int:
    remaining: int = line["quantity"] - line["refunded_quantity"]
    return remaining


def check_shop_order(order: Row) -> None:
    if order["channel"] != "parcel":
        raise errors.not_a_shop_order(order["order_id"], order["channel"])


def refund_lines(order: Row, lines: list[Row], wanted: list[Row] | None, open_requests: list[Row]) -> list[Row]:
    """The ``[{line_id, quantity}]`` a refund request covers: what was asked,
    or every remaining unit; never more than remains once the order's other
    open refund requests are counted."""
    if order["status"] == "cancelled":
        raise errors.invalid_state(order["order_id"], order["status"], "request_refund", OPEN_STATES + ("completed",))
    by_id = {line["line_id"]: line for line in lines}
    reserved = reserved_units(open_requests, "refund")
    if wanted is None:
        wanted = [
            {"line_id": line["line_id"], "quantity": remaining_units(line) - reserved.get(line["line_id"], 0)}
            for line in lines
            if remaining_units(line) - reserved.get(line["line_id"], 0) > 0
        ]
        if not wanted:
            raise errors.exceeds_order(order["order_id"], "*", 1, 0)
    merged: dict[str, int] = {}
    for index, item in enumerate(wanted):
        if item["line_id"] not in by_id:
            raise errors.invalid_fields({f"lines.{index}.line_id": "not a line of this order"})
        merged[item["line_id"]] = merged.get(item["line_id"], 0) + item["quantity"]
    for line_id, quantity in merged.items():
        available = remaining_units(by_id[line_id]) - reserved.get(line_id, 0)
        if quantity > available:
            raise errors.exceeds_order(order["order_id"], line_id, quantity, max(available, 0))
    return [{"line_id": line_id, "quantity": quantity} for line_id, quantity in merged.items()]


def reserved_units(open_requests: list[Row], kind: str) -> dict[str, int]:
    reserved: dict[str, int] = {}
    for request in open_requests:
        if request["kind"] == kind and request["status"] == "requested":
            for item in request["lines"]:
                reserved[item["line_id"]] = reserved.get(item["line_id"], 0) + item["quantity"]
    return reserved


def refund_amount(lines: list[Row], refund: list[Row], discount: int = 0) -> int:
    """What was paid for the units refunded (issue #11), by the one allocation
    rule of chassis.money: refunding every unit, in however many parts, gives
    back ``total``, and each product's refunds add up to what was paid for it."""
    return sum(refund_by_product(lines, refund, discount).values())


def check_refund_leaves_something(order: Row, lines: list[Row], refund: list[Row]) -> None:
    """Before shipment a refund may not take every remaining unit: that is a
    cancellation (R-ORD-5), which the ledger books differently."""
    if order["status"] not in UNSHIPPED_STATES:
        return
    asked = {item["line_id"]: item["quantity"] for item in refund}
    if all(remaining_units(line) - asked.get(line["line_id"], 0) <= 0 for line in lines):
        raise errors.cancel_instead(order["order_id"], order["status"], exits(order))


def check_refund_still_possible(order: Row, lines: list[Row], refund: list[Row]) -> None:
    """At approval, the units asked for are still there (an exchange may have moved some)
    and, before shipment, the refund still leaves something (else it is a cancellation)."""
    by_id = {line["line_id"]: line for line in lines}
    for item in refund:
        available = remaining_units(by_id[item["line_id"]])
        if item["quantity"] > available:
            raise errors.exceeds_order(str(order["order_id"]), item["line_id"], item["quantity"], available)
    check_refund_leaves_something(order, lines, refund)


def new_request(order: Row, customer_id: str, kind: str, reason: str, lines: list[Row], amount: int) -> Row:
    """A customer's refund or exchange request on ``order``, open (``requested``)."""
    return {
        "request_id": uuid.uuid4(),
        "order_id": order["order_id"],
        "partner_id": order["partner_id"],
        "customer_id": customer_id,
        "kind": kind,
        "reason": reason,
        "lines": lines,
        "amount": amount,
    }


def unit_releases(by_id: dict[str, Row], items: list[Row], prefix: str) -> list[tuple[str, str, list[Row]]]:
    """Stock to give back for units of lines: ``(release id, hold id, [{line, quantity}])``,
    one per hold the units came from (an exchanged unit comes from the exchange's hold)."""
    per_hold: dict[str, list[Row]] = {}
    for item in items:
        line = by_id[item["line_id"]]
        per_hold.setdefault(line["hold_id"], []).append({"line": line["hold_line"], "quantity": item["quantity"]})
    return [(f"{prefix}:{index}", hold_id, lines) for index, (hold_id, lines) in enumerate(sorted(per_hold.items()))]


def payment_status(total: int, refunded: int) -> str:
    if refunded <= 0:
        return "paid"
    return "refunded" if refunded >= total else "partially_refunded"


def check_exchangeable(order: Row) -> None:
    """Exchanges are for goods the customer has; before shipment R-ORD-4 applies."""
    check_shop_order(order)
    if order["status"] not in ("shipped", "completed"):
        raise errors.invalid_state(order["order_id"], order["status"], "request_exchange", ("shipped", "completed"))


# Issue 18 item 7: an exchange's own steps after approval, step -> (from, to, time column).
# The order follows in order: the return is received before the replacement ships
# (the unit goes back to stock only once it is back in the shop).
EXCHANGE_STEPS = {
    "receive_return": ("approved", "returned", "returned_at"),
    "ship_replacement": ("returned", "reshipped", "shipped_at"),
    "deliver_replacement": ("reshipped", "exchanged", "delivered_at"),
}
EXCHANGE_STEP_EVENTS = {
    "receive_return": "order.exchange_returned",
    "ship_replacement": "order.exchange_shipped",
    "deliver_replacement": "order.exchange_delivered",
}


def check_pickup(return_courier: str | None, return_invoice_number: str | None) -> None:
    """An exchange's return pickup names its courier and invoice number together, or neither."""
    if (return_courier is None) != (return_invoice_number is None):
        raise errors.invalid_fields(
            {"return_invoice_number": "give the return pickup's courier and invoice number together"}
        )


def check_exchange_option(product: Row, line: Row, item: Row, index: int) -> None:
    """The option asked for is one of the line's product, at the price the customer paid."""
    option = next((o for o in product["options"] if o["option_id"] == item["option_id"]), None)
    if option is None:
        raise errors.invalid_fields({f"lines.{index}.option_id": "not an option of this product"})
    if option["amount"] != line["unit_price"]:
        raise errors.exchange_price_differs(line["line_id"], item["option_id"], line["unit_price"], option["amount"])


def new_exchange_hold_id() -> str:
    return f"xch-{uuid.uuid4().hex}"


def exchange_new_lines(
    order: Row, lines: list[Row], items: list[Row], held: list[Row]
) -> tuple[list[NewLine], dict[str, str]]:
    """An approved exchange's new lines (the held options, at the old price), after the
    order's last line, and which old line each replaces; the units must still be there."""
    by_id = {line["line_id"]: line for line in lines}
    next_position = max(line["position"] for line in lines) + 1
    new_lines, replaces = [], {}
    for offset, (item, hold_line) in enumerate(zip(items, held, strict=True)):
        old = by_id[item["line_id"]]
        available = remaining_units(old)
        if item["quantity"] > available:
            raise errors.exceeds_order(str(order["order_id"]), old["line_id"], item["quantity"], available)
        line = NewLine(
            line_id=line_id_of(str(order["order_id"]), next_position + offset),
            position=next_position + offset,
            product_id=old["product_id"],
            product_name=hold_line["name"],
            option_id=hold_line["option_id"],
            option_label=hold_line["label"],
            quantity=item["quantity"],
            unit_price=old["unit_price"],
            hold_line=hold_line["line"],
        )
        new_lines.append(line)
        replaces[line.line_id] = old["line_id"]
    return new_lines, replaces


def exchange_step(request: Row, step: str) -> tuple[str, str]:
    """(new status, time column) of an exchange step, or 409 invalid_state naming the step's state."""
    from_status, to_status, column = EXCHANGE_STEPS[step]
    if request["kind"] != "exchange" or request["status"] != from_status:
        raise errors.request_step_refused("exchange", str(request["request_id"]), request["status"], step, from_status)
    return to_status, column


def exchange_lines(order: Row, lines: list[Row], wanted: list[Row], open_requests: list[Row]) -> list[Row]:
    """``[{line_id, quantity, option_id}]``: units of a line, to another option."""
    by_id = {line["line_id"]: line for line in lines}
    reserved = reserved_units(open_requests, "exchange")
    refunds = reserved_units(open_requests, "refund")
    asked: dict[str, int] = {}
    for index, item in enumerate(wanted):
        line = by_id.get(item["line_id"])
        if line is None:
            raise errors.invalid_fields({f"lines.{index}.line_id": "not a line of this order"})
        if item["option_id"] == line["option_id"]:
            raise errors.invalid_fields({f"lines.{index}.option_id": "choose another option than the one ordered"})
        asked[item["line_id"]] = asked.get(item["line_id"], 0) + item["quantity"]
    for line_id, quantity in asked.items():
        available = remaining_units(by_id[line_id]) - reserved.get(line_id, 0) - refunds.get(line_id, 0)
        if quantity > available:
            raise errors.exceeds_order(order["order_id"], line_id, quantity, max(available, 0))
    return [dict(item) for item in wanted]


# --- reviews and inquiries (R-ORD-9) ---------------------------------------------------


def check_reviewable(order: Row, lines: list[Row], line_id: str) -> None:
    if order["status"] != "completed":
        raise errors.review_not_allowed(order["order_id"], order["status"])
    if line_id not in {line["line_id"] for line in lines}:
        raise errors.invalid_fields({"line_id": "not a line of this order"})


# --- creation --------------------------------------------------------------------------


def new_hold_id() -> str:
    """The catalog hold of a new order, drawn with its creation key: ``ord-<order id>``,
    so the order's id (and its coupon's redemption key) is known before the hold."""
    return f"ord-{uuid.uuid4().hex}"


def order_id_of(hold_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(hold_id.removeprefix("ord-"))
    except ValueError:
        return uuid.uuid4()


def redemption_key(hold_id: str) -> str:
    """The order's key of its coupon redemption in the catalog: ``order:<order id>``."""
    return f"order:{order_id_of(hold_id)}"


@dataclass(frozen=True)
class NewLine:
    line_id: str
    position: int
    product_id: str
    product_name: str
    option_id: str | None
    option_label: str | None
    quantity: int
    unit_price: int
    hold_line: int


def line_id_of(order_id: str, position: int) -> str:
    return f"ln_{order_id.replace('-', '')}_{position}"


def lines_from_hold(order_id: str, hold: Row) -> list[NewLine]:
    """Order lines priced as the catalog held them (the version sold)."""
    return [
        NewLine(
            line_id=line_id_of(order_id, line["line"]),
            position=line["line"],
            product_id=line["product_id"],
            product_name=line["name"],
            option_id=line.get("option_id"),
            option_label=line.get("label"),
            quantity=line["quantity"],
            unit_price=line["unit_price"],
            hold_line=line["line"],
        )
        for line in hold["lines"]
    ]


def hold_lines(lines: Any) -> list[Row]:
    """An order's lines as catalog hold lines; a line naming no option is left so,
    for the catalog to give it the product's only option (or refuse the choice)."""
    return [{"product_id": line.product_id, "option_id": line.option_id, "quantity": line.quantity} for line in lines]


def new_line_row(line: NewLine) -> Row:
    """A new line as its row reads back: nothing refunded, replacing nothing."""
    return {**vars(line), "refunded_quantity": 0, "replaces_line_id": None}


# --- the order aggregate ------------------------------------------------------------------


@dataclass
class Order:
    """One order as stored (its row's columns), with the defaults of a new one
    and its changes: a partner's transition and a cancellation. The changes
    return the columns they set, for the repository to write."""

    order_id: uuid.UUID
    partner_id: str
    customer_id: str
    channel: str
    total: int
    hold_id: str
    received_at: dt.datetime
    status: str = "received"
    payment_status: str = "paid"
    refunded_amount: int = 0
    discount_amount: int = 0
    coupon: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None
    note: str | None = None
    customer_name: str | None = None
    number: int | None = None
    number_day: dt.date | None = None
    auto_complete_at: dt.datetime | None = None
    preparation_minutes: int | None = None
    ready_at: dt.datetime | None = None
    courier: str | None = None
    invoice_number: str | None = None
    tracking_url: str | None = None
    preparing_at: dt.datetime | None = None
    shipment_prepared_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    completed_by: str | None = None
    booked_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    actor_id: str | None = None
    erased_at: dt.datetime | None = None

    @classmethod
    def receive(
        cls,
        new: NewOrder,
        customer_id: str,
        hold_id: str,
        hold: Row,
        received_at: dt.datetime,
        customer_name: str | None,
        auto_complete_after: dt.timedelta = AUTO_COMPLETE_AFTER,
    ) -> Order:
        """An order just received, priced and discounted as the catalog held it; the
        name it is called by only in store (``shows_customer_name``), the auto-complete
        due time only for dine-in and takeout (R-ORD-2)."""
        return cls(
            order_id=order_id_of(hold_id),
            partner_id=new.partner_id,
            customer_id=customer_id,
            channel=new.channel,
            total=hold["total"],
            hold_id=hold_id,
            received_at=received_at,
            discount_amount=hold.get("discount_amount", 0),
            coupon=coupon_of_hold(hold),
            shipping=new.shipping,
            note=new.note,
            customer_name=customer_name if shows_customer_name(new.channel) else None,
            number_day=business_date(received_at),
            auto_complete_at=auto_complete_at(new.channel, received_at, auto_complete_after),
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Order:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _apply(self, changes: dict[str, Any]) -> dict[str, Any]:
        for name, value in changes.items():
            setattr(self, name, value)
        return changes

    def transition(
        self, action: str, now: dt.datetime, actor: str | None, fields_set: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A partner's step of its channel's flow (``TRANSITIONS``), or 409 invalid_state."""
        return self._apply(transition_changes(self.row(), action, now, actor, fields_set))

    def cancel(self, by: str, reason: str | None, now: dt.datetime, actor: str | None) -> dict[str, Any]:
        """R-ORD-5 for ``by`` (a 409 naming why not), then everything left refunded."""
        check_cancel(self.row(), by)
        return self._apply(cancellation_changes(self.row(), by, reason, now, actor))


@dataclass(frozen=True)
class NewOrder:
    """What a customer's creation body says of the order itself (``OrderCreate``, validated)."""

    partner_id: str
    channel: str
    shipping: dict[str, Any] | None
    note: str | None


# --- lists and dates -------------------------------------------------------------------


def list_position(cursor: str | None) -> tuple[Any, ...] | None:
    """Where a page starts: (time, id) of the last row of the previous page
    (chassis.paging); a cursor that is not one of ours is a 422 naming it."""
    return paging.decode_cursor(cursor, _aware_time, uuid.UUID)


def _aware_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def listed(values: str | None) -> list[str] | None:
    """A list query's comma-separated filter (``?channel=dine_in,takeout``)."""
    return values.split(",") if values else None


def actor_id(actor: Actor) -> str | None:
    """Who acted for the partner, as histories record it: the member, or the
    partner's API key as ``api_key:<id>`` (R-ACC-13); nobody for the system."""
    return actor.recorded_as if actor.kind == API_KEY else actor.member_id


def actor_kind(actor: Actor) -> str:
    return actor.kind


# --- the partner dashboard (R-ACC-11) -----------------------------------------------------

SALES_READERS = ("admin", "master")  # they read the finances; members see counts


def dashboard_summary(
    today: dt.date, by_state: dict[tuple[str, str], int], day: Row, waiting: Row, role: str | None
) -> Row:
    """Open orders by state and by tab (R-ORD-1), today's orders and what waits
    for an answer; today's sales amount only for those who read the finances."""
    counts = dict.fromkeys(OPEN_STATES, 0)
    tabs = {"in_store": 0, "delivery": 0, "parcel": 0}
    for (channel, status), n in by_state.items():
        counts[status] += n
        tabs["in_store" if channel in IN_STORE else channel] += n
    summary = {
        "counts": counts,
        "open_by_tab": tabs,
        "today": {
            "date": today.isoformat(),
            "received": day["received"],
            "completed": day["completed"],
            "cancelled": day["cancelled"],
        },
        "waiting": {k: int(v) for k, v in waiting.items()},
    }
    if role in SALES_READERS:
        summary["today"]["completed_sales"] = int(day["completed_sales"])
    return summary


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), PARTNER_TIME_ZONE)
    return start, start + dt.timedelta(days=1)


def parse_period(period_start: str, period_end: str) -> tuple[dt.date, dt.date]:
    try:
        start, end = dt.date.fromisoformat(period_start), dt.date.fromisoformat(period_end)
    except (TypeError, ValueError):
        raise errors.invalid_fields({"period_start": "use YYYY-MM-DD", "period_end": "use YYYY-MM-DD"}) from None
    if end < start:
        raise errors.invalid_fields({"period_end": "must not be before period_start"})
    return start, end
