"""Integration events: their payload models and who subscribes to them.

One module for every service, so that a producer and its consumers agree on
the shape of an event (``PAYLOADS``) and on the queues that must exist before
it is published (``SUBSCRIPTIONS``). The outbox relay declares the queues of
every subscriber before publishing with ``mandatory``, so an event is kept in
its queue even when the consumer has not started yet.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ConfigDict, model_validator


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


P = TypeVar("P", bound=Payload)


# --- accounts -------------------------------------------------------------


class MemberWithdrawn(Payload):
    """R-ACC-3: other services erase or pseudonymise what they hold of the member."""

    member_id: str
    pseudonym: str


class CustomerErased(Payload):
    """A customer's erasure request: bookings and orders keep amounts, lose personal data.
    ``phone_key`` (``chassis.privacy.phone_key`` of their phone, never the phone) lets
    reservations clear a pending ticket transfer addressed to that phone (issue 16)."""

    customer_id: str
    pseudonym: str
    phone_key: str | None = None


class PartnerChanged(Payload):
    """partner.registered / verified / rejected (R-ACC-8), resubmitted (R-ACC-15:
    ``changes`` since the rejection, whose ``reason`` it carries) and closed
    (R-ACC-14: ``open_bookings`` "cancel" or "serve")."""

    partner_id: str
    name: str
    category: str
    status: str
    reason: str | None = None
    changes: dict[str, Any] = {}
    open_bookings: str | None = None


class StaffInvited(Payload):
    """R-ACC-6."""

    partner_id: str
    invitation_id: str
    member_id: str
    role: str


# --- catalog --------------------------------------------------------------


class ProductChanged(Payload):
    """product.submitted / approved / rejected / changed / sold_out (R-CAT-3, R-CAT-5)."""

    partner_id: str
    product_id: str
    name: str
    kind: str  # "booking" or "goods"
    revision_id: str | None = None
    version: int | None = None
    reason: str | None = None
    option_id: str | None = None  # sold_out of one option
    fields: list[str] = []


# --- reservations ---------------------------------------------------------


class ReservationLine(Payload):
    price_id: str
    label: str
    quantity: int
    unit_price: int


class Discounted(Payload):
    """Issue #11: coupons. The discount is part of the price snapshot and the
    partner funds it; ``total`` is what the customer pays, after the discount."""

    coupon_id: str | None = None
    discount_amount: int = 0


class Reviewed(Payload):
    """Issue #11: a review of what was bought and the partner's reply (R-RSV-6, R-ORD-9)."""

    rating: int | None = None
    review_text: str | None = None
    reply_text: str | None = None


class ReservationEvent(Discounted):
    """What every ``reservation.<kind>`` event carries (R-RSV-1..11): the
    reservation as it stands after the transition. Amounts in KRW. No phone or
    name in clear: ``booker_name_masked`` is what messages may show. When it
    happened is the envelope's ``occurred_at``. Each kind is a subclass that
    adds what that kind means (``RESERVATION_PAYLOADS``)."""

    partner_id: str
    reservation_number: str
    product_id: str
    product_name: str
    customer_id: str  # the booker (chat events: the holder who was asked or answered; reviews: the reviewer)
    status: str
    holder_customer_id: str | None = None  # who holds the ticket (R-RSV-10); the booker unless handed over
    use_date: str | None = None
    use_time: str | None = None
    total: int = 0
    lines: list[ReservationLine] = []
    booker_name_masked: str | None = None
    reason: str | None = None  # the reason the actor gave (R-RSV-2), or a timer's (request_expired)
    actor: str | None = None  # "customer", "partner" or "system"
    conversation_id: str | None = None  # the reservation's chat, once one was accepted (R-RSV-11)
    payment: str | None = None  # "none" or "prepaid" (R-CAT-6): only prepaid bookings move money

    @model_validator(mode="before")
    @classmethod
    def _without_neutral_legacy_fields(cls, data: Any) -> Any:
        """Until issue 19 one model carried every kind's fields: a body written
        then (in an outbox or a queue at deploy time) names the fields of other
        kinds at their neutral value. Those are dropped; a field of another
        kind with a value is still refused (``extra="forbid"``)."""
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if key in cls.model_fields or key not in _RESERVATION_NEUTRAL or value != _RESERVATION_NEUTRAL[key]
        }


class ReservationRequested(ReservationEvent):
    """reservation.requested: a booking awaits the partner's confirmation (R-RSV-1, R-RSV-7)."""


class ReservationConfirmed(ReservationEvent):
    """reservation.confirmed: by the partner, or at once (actor "system") for auto-confirm products."""


class ReservationRejected(ReservationEvent):
    """reservation.rejected: refused by the partner with ``reason`` (R-RSV-2); a prepaid booking refunded."""

    refund_amount: int = 0


class ReservationCancelled(ReservationEvent):
    """reservation.cancelled: by the customer (refund and fee by the policy, R-RSV-4;
    ``partial`` when some lines only, ``cancelled_lines`` what it took back) or
    by the partner (``reason``, full refund, R-RSV-2)."""

    refund_amount: int = 0
    fee_amount: int = 0
    partial: bool = False
    cancelled_lines: list[ReservationLine] = []


class ReservationExpired(ReservationEvent):
    """reservation.expired: a request not confirmed in time (status cancelled,
    reason request_expired; R-RSV-1 has no expired state); a prepaid booking refunded."""

    refund_amount: int = 0


class ReservationCompleted(ReservationEvent):
    """reservation.completed: used (R-RSV-6), by the partner or the timer (R-CAT-6); ``total`` is the sale."""


class ReservationNoShow(ReservationEvent):
    """reservation.no_show: not used; a prepaid booking keeps ``fee_amount`` (R-CAT-6)."""

    fee_amount: int = 0


class ReservationDateChanged(ReservationEvent):
    """reservation.date_changed: moved to another date (R-RSV-5); the new date is ``use_date``."""

    previous_date: str | None = None
    previous_time: str | None = None


class ReservationShared(ReservationEvent):
    """reservation.shared: the booker shared it (R-RSV-10)."""


class ReservationTransferred(ReservationEvent):
    """reservation.transferred: a friend accepted the ticket (R-RSV-10) and holds it now."""

    to_customer_id: str | None = None


class ReservationChatRequested(ReservationEvent):
    """reservation.chat_requested: the partner invites the holder (``customer_id``) to a chat (R-RSV-11)."""

    invitation_id: str | None = None


class ReservationChatAnswered(ReservationEvent):
    """reservation.chat_accepted / chat_declined (R-RSV-11): ``customer_name_masked``
    is who answered (the holder), masked (issue 17 item 9); an accepted chat's
    ``conversation_id`` is the conversation notifications opens."""

    invitation_id: str | None = None
    customer_name_masked: str | None = None


class ReservationReviewed(ReservationEvent, Reviewed):
    """reservation.review_posted / review_replied (R-RSV-6): ``customer_id`` is
    the reviewer and ``product_id`` what was reviewed."""

    review_id: str | None = None


RESERVATION_PAYLOADS: dict[str, type[ReservationEvent]] = {
    "reservation.requested": ReservationRequested,
    "reservation.confirmed": ReservationConfirmed,
    "reservation.rejected": ReservationRejected,
    "reservation.cancelled": ReservationCancelled,
    "reservation.completed": ReservationCompleted,
    "reservation.no_show": ReservationNoShow,
    "reservation.date_changed": ReservationDateChanged,
    "reservation.shared": ReservationShared,
    "reservation.transferred": ReservationTransferred,
    "reservation.chat_requested": ReservationChatRequested,
    "reservation.chat_accepted": ReservationChatAnswered,
    "reservation.chat_declined": ReservationChatAnswered,
    "reservation.expired": ReservationExpired,
    "reservation.review_posted": ReservationReviewed,
    "reservation.review_replied": ReservationReviewed,
}

# Every field some reservation event carries, at its neutral value: what a
# field of another kind held in the bodies of the one model before issue 19.
_RESERVATION_NEUTRAL: dict[str, Any] = {
    name: field.get_default(call_default_factory=True)
    for model in RESERVATION_PAYLOADS.values()
    for name, field in model.model_fields.items()
    if not field.is_required()
}


# --- orders ---------------------------------------------------------------


class OrderLine(Payload):
    line_id: str
    product_id: str
    product_name: str
    option_id: str | None = None
    quantity: int
    unit_price: int
    amount: int
    option_label: str | None = None  # "White / M": what messages name
    refunded_quantity: int = 0  # units of the line refunded so far (R-ORD-8)


class ProductAmount(Payload):
    product_id: str
    amount: int


class OrderChanged(Discounted, Reviewed):
    """Every order transition (R-ORD-1..9). Amounts in KRW, per line."""

    partner_id: str
    order_id: str
    customer_id: str
    channel: str  # dine_in, takeout, delivery, parcel
    status: str
    total: int = 0
    lines: list[OrderLine] = []
    refund_amount: int = 0
    refunded_line_ids: list[str] = []
    refund_products: list[ProductAmount] = []  # this event's refund by product (chassis.money)
    request_id: str | None = None  # refund, exchange, inquiry or review id
    reason: str | None = None
    actor: str | None = None
    courier: str | None = None
    invoice_number: str | None = None
    tracking_url: str | None = None  # the courier's tracking page for the invoice (R-ORD-7)
    payment_status: str | None = None  # paid, partially_refunded, refunded (R-ORD-6)
    number: int | None = None  # the short number of the partner's day, "37번" (issue 18)
    ready_at: str | None = None  # expected ready time, RFC 3339 (seed 004 소요 시간)
    refunded_total: int = 0  # everything refunded on the order so far
    # issue #11: coupons (Discounted) and reviews (Reviewed): order.review_posted /
    # order.review_replied, whose request_id is the review id
    review_line_id: str | None = None
    # issue 18 item 7: an exchange's return pickup and replacement shipment (order.exchange_*)
    return_courier: str | None = None
    return_invoice_number: str | None = None
    return_tracking_url: str | None = None
    exchange_courier: str | None = None
    exchange_invoice_number: str | None = None
    exchange_tracking_url: str | None = None


# --- settlement -----------------------------------------------------------


class PayoutScheduled(Payload):
    """payout.scheduled / tax_invoice.issued (R-STL-2, R-STL-3)."""

    partner_id: str
    period_start: str
    period_end: str
    amount: int
    payout_id: str | None = None
    pay_date: str | None = None
    invoice_number: str | None = None


# --- notifications --------------------------------------------------------


class WebhookDisabled(Payload):
    """webhook.disabled: a partner webhook failed too often and was switched off
    (issue #7); notifications tells the partner's managers through its own queue."""

    partner_id: str
    webhook_id: str
    url: str
    failures: int
    reason: str | None = None


class ChassisProbed(Payload):
    """Exercises the chassis end to end (tests and benchmarks)."""

    probe_id: str
    note: str = ""


_RESERVATION_EVENTS = [event_type.split(".", 1)[1] for event_type in RESERVATION_PAYLOADS]
_ORDER_EVENTS = [
    "received",
    "preparing",
    "completed",
    "cancelled",
    "shipment_prepared",
    "shipped",
    "shipment_corrected",
    "delivered",
    "refund_requested",
    "refund_approved",
    "refund_rejected",
    "exchange_requested",
    "exchange_approved",
    "exchange_rejected",
    "exchange_returned",
    "exchange_shipped",
    "exchange_delivered",
    "inquiry_posted",
    "inquiry_answered",
    "review_posted",
    "review_replied",
]

# Producers may add optional fields to a payload; anything else is a new version.
PAYLOADS: dict[str, type[Payload]] = {
    "member.withdrawn": MemberWithdrawn,
    "customer.erased": CustomerErased,
    **{f"partner.{kind}": PartnerChanged for kind in ("registered", "verified", "rejected", "resubmitted", "closed")},
    "staff.invited": StaffInvited,
    **{f"product.{kind}": ProductChanged for kind in ("submitted", "approved", "rejected", "changed", "sold_out")},
    **RESERVATION_PAYLOADS,
    **{f"order.{kind}": OrderChanged for kind in _ORDER_EVENTS},
    "payout.scheduled": PayoutScheduled,
    "tax_invoice.issued": PayoutScheduled,
    "webhook.disabled": WebhookDisabled,
    "chassis.probed": ChassisProbed,
}


@dataclass(frozen=True, order=True)
class Subscription:
    event_type: str
    service: str
    handler: str


def handler_name(event_type: str) -> str:
    """A subscriber's handler of an event type: ``on_<kind>``, the dot as an underscore."""
    return "on_" + event_type.replace(".", "_")


# Static on purpose: a producer's relay must know the queues of consumers that
# live in other processes. An event handler not listed here refuses to start.
SUBSCRIPTIONS: set[Subscription] = {
    Subscription("chassis.probed", "chassis_probe", "on_probed"),
}

# notifications (R-NTF-1): every event a partner or customer must know of, and
# the erasure events; one queue per event kind, handler ``on_<kind>`` with the
# dot as an underscore (``reservation.requested`` -> ``on_reservation_requested``).
NOTIFIED_EVENTS: tuple[str, ...] = (
    *(f"reservation.{kind}" for kind in _RESERVATION_EVENTS if kind != "shared"),
    *(f"order.{kind}" for kind in _ORDER_EVENTS),
    "product.approved",
    "product.rejected",
    "product.sold_out",
    "partner.verified",
    "partner.rejected",
    "staff.invited",
    "partner.registered",
    "partner.resubmitted",  # to the operators (issue 18 item 13)
    "payout.scheduled",
    "tax_invoice.issued",
    "member.withdrawn",
    "customer.erased",
    "webhook.disabled",
)


SUBSCRIPTIONS.update(Subscription(t, "notifications", handler_name(t)) for t in NOTIFIED_EVENTS)

# settlement (R-STL-1): the sales, cancellation fees and refunds that enter the
# ledger (``LEDGER_EVENTS``, one handler), and the partner's category
# (commission). Handler ``on_<kind>``.
LEDGER_EVENTS: tuple[str, ...] = (
    "reservation.completed",
    "reservation.cancelled",
    "reservation.no_show",
    "order.completed",
    "order.delivered",
    "order.refund_approved",
)
SETTLEMENT_EVENTS: tuple[str, ...] = (*LEDGER_EVENTS, "partner.registered", "partner.verified")
SUBSCRIPTIONS.update(Subscription(t, "settlement", handler_name(t)) for t in SETTLEMENT_EVENTS)

# reservations: booker data is pseudonymised when its person is erased (R-ACC-3);
# a closed partner's open bookings are cancelled or served (R-ACC-14).
SUBSCRIPTIONS.update(
    {
        Subscription("member.withdrawn", "reservations", "on_member_withdrawn"),
        Subscription("customer.erased", "reservations", "on_customer_erased"),
        Subscription("partner.closed", "reservations", "on_partner_closed"),
    }
)

# orders: pseudonymise the customer's personal data and withdrawn members' ids (issue #6).
SUBSCRIPTIONS.update(
    {
        Subscription("member.withdrawn", "orders", "on_member_withdrawn"),
        Subscription("customer.erased", "orders", "on_customer_erased"),
        # R-ACC-14: a closing partner's open orders are cancelled (full refund) or left to finish.
        Subscription("partner.closed", "orders", "on_partner_closed"),
    }
)

# catalog: coupon issues and redemptions keep counting under the erased customer's pseudonym (issue #11).
SUBSCRIPTIONS.add(Subscription("customer.erased", "catalog", "on_customer_erased"))
# catalog: a closed partner stops selling (R-ACC-14).
SUBSCRIPTIONS.add(Subscription("partner.closed", "catalog", "on_partner_closed"))


# insights (issue #11): the customers, statistics and reviews read models, fed
# only by events; customer.erased pseudonymises them. Handler ``on_<kind>``.
INSIGHTS_EVENTS: tuple[str, ...] = (
    *(
        f"reservation.{kind}"
        for kind in (
            "requested",
            "confirmed",
            "rejected",
            "cancelled",
            "expired",
            "completed",
            "no_show",
            "date_changed",
            "review_posted",
            "review_replied",
            "transferred",
        )
    ),  # who holds the ticket: channel audiences (R-NTF-3)
    *(
        f"order.{kind}"
        for kind in _ORDER_EVENTS
        # every order event but exchanges, inquiries, shipment corrections and refund requests or rejections
        if not kind.startswith(("exchange_", "inquiry_"))
        and kind not in ("shipment_corrected", "refund_requested", "refund_rejected")
    ),
    "customer.erased",
)
SUBSCRIPTIONS.update(Subscription(t, "insights", handler_name(t)) for t in INSIGHTS_EVENTS)


def subscribe(event_type: str, service: str, handler: str) -> Subscription:
    """Add a subscription at run time (tests' own services)."""
    if event_type not in PAYLOADS:
        raise KeyError(f"unknown event type {event_type!r}: add its payload model to contracts.PAYLOADS")
    subscription = Subscription(event_type, service, handler)
    SUBSCRIPTIONS.add(subscription)
    return subscription


def subscribers_of(event_type: str) -> list[Subscription]:
    return sorted(s for s in SUBSCRIPTIONS if s.event_type == event_type)


@overload
def read_payload(event_type: str, body: dict[str, Any]) -> Payload: ...
@overload
def read_payload(event_type: str, body: dict[str, Any], model: type[P]) -> P: ...
def read_payload(event_type: str, body: dict[str, Any], model: type[Payload] = Payload) -> Payload:
    """An event's payload as its type's model (``PAYLOADS``): how consumers read
    an event. A malformed one raises ``pydantic.ValidationError`` naming the
    field; ``model`` (``ReservationEvent``, ``PartnerChanged``...) types the
    answer for the caller and refuses an event type of another shape."""
    payload = PAYLOADS[event_type].model_validate(body)
    if not isinstance(payload, model):
        raise TypeError(f"{event_type} carries {type(payload).__name__}, not {model.__name__}")
    return payload


def validate_payload(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return read_payload(event_type, payload).model_dump(mode="json")


def webhook_data(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a partner webhook's body: the payload, and for a
    reservation event every field the one reservation model carried before
    issue 19, those of other kinds at their neutral value, so that partners'
    webhook bodies keep their shape."""
    if event_type not in RESERVATION_PAYLOADS:
        return payload
    return {**copy.deepcopy(_RESERVATION_NEUTRAL), **payload}
