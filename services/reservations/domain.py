"""Reservation rules, without I/O (R-RSV-1..11, R-CAT-6 as it applies to bookings).

Choices made where ../shared/domain.md and the issue are silent (also listed
in the service docstring and the report):

* Confirmation (auto or manual), how long a request may wait and whether part
  of a booking may be cancelled are the partner's per-product *booking
  settings*, kept by this service (catalog has no such field). Defaults:
  manual confirmation (nothing is confirmed that the partner did not see),
  requests wait ``REQUEST_TTL_HOURS`` (24 h), partial cancellation allowed.
  They are copied onto the reservation when it is made, like the policy.
* Money: only prepaid products (R-CAT-6) move money. Their refund is the paid
  amount minus the fee; an unpaid product's cancellation refunds and charges 0.
  A partner's reject or cancel, and an expired request, refund in full. A
  no-show (by the partner, or the auto no-show of R-CAT-6's "automatic
  cancellation of unused bookings") keeps the paid amount as the fee: it is
  past every cancellation deadline, when the policy allows no cancellation.
* An expired request (not confirmed within its time, or not before its use
  time) becomes ``cancelled`` with reason ``request_expired`` and the event
  ``reservation.expired``: R-RSV-1 has no "expired" state.
* Timers act the day after the use date (partner's zone): unpaid products
  become ``completed`` (R-CAT-6), prepaid ones with auto-cancel ``no_show``.
  ``anytime`` products have no use date, so no timer completes them.
* A no-show can be marked only for prepaid products, once the use time has
  come; completing is allowed from ``confirmed`` at any time (walk-ins).
* Date change (R-RSV-5) "only before the use date": the day before it at the
  latest (partner's zone). "Priced 0": every line's unit price is 0. "Listed
  directly": the partner did not onboard through an agency (accounts' flag).
  Lines are only completed with the whole reservation (R-RSV-2, R-RSV-6), so
  "any line completed" is a completed reservation (``line_completed``).
* Reservation numbers: 10 characters of a 32-symbol alphabet without 0/O/1/I
  (50 random bits): short to read out, unique by constraint, not guessable.
* Coupons (issue #11): one per booking (``coupon_code`` or ``coupon_id``),
  redeemed by the catalog with the hold under the redemption key
  ``reservation:<id>``. The discount is part of the price snapshot: ``total``
  is what the customer pays, and every amount that follows (refund, fee,
  no-show fee, the sale booked on completion) is computed on what was paid. A
  partial cancellation keeps the coupon (it stays redeemed) and takes back the
  cancelled units' share of the discount (``discount_left``); a full
  cancellation, a rejection or an expiry gives the coupon back with the whole
  hold; a date change keeps it (the new hold joins the same redemption).
* Reviews (R-RSV-6, R-CAT-6, issue #11): one per reservation, by the customer
  who booked it (the one invited by the visit-complete message; a friend who
  holds or saved it gets 404 like for cancelling), only once it is
  ``completed`` (by the partner or by the timer). Shapes, view and codes are
  chassis.reviews', shared with orders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from chassis.coupons import coupon_of_hold, discount_share
from chassis.errors import Conflict, NotFound, ValidationFailed
from chassis.partner_time import PARTNER_TIME_ZONE

from . import errors

REQUESTED, CONFIRMED, REJECTED, CANCELLED, COMPLETED, NO_SHOW = (
    "requested",
    "confirmed",
    "rejected",
    "cancelled",
    "completed",
    "no_show",
)
STATUSES = (REQUESTED, CONFIRMED, REJECTED, CANCELLED, COMPLETED, NO_SHOW)  # R-RSV-1
OPEN = (REQUESTED, CONFIRMED)  # may still be cancelled or moved (R-RSV-4, R-RSV-5)
HOLDING = (REQUESTED, CONFIRMED, COMPLETED, NO_SHOW)  # their seats stay taken in the catalog
VISITING = (REQUESTED, CONFIRMED, COMPLETED)  # the dashboard's visits of a day (R-ACC-11)

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NUMBER_LENGTH = 10
NUMBER_PATTERN = re.compile(f"^[{NUMBER_ALPHABET}]{{{NUMBER_LENGTH}}}$")
DEFAULT_REQUEST_TTL_HOURS = 24


class NumberTaken(Exception):
    """A drawn reservation number is already another booking's: draw again."""


# --- identifiers ---------------------------------------------------------------------


def new_number() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def canonical_number(value: Any) -> str | None:
    """A number as typed (any case, dashes or spaces), or None if it cannot be one."""
    if not isinstance(value, str):
        return None
    cleaned = re.sub(r"[\s-]", "", value).upper()
    return cleaned if NUMBER_PATTERN.match(cleaned) else None


def hold_id(reservation_id: str, sequence: int) -> str:
    """One catalog hold per reservation and schedule: the first booking attempt
    is ``:0``, each date change (R-RSV-5) or retry after an abandoned attempt
    takes the next number, so a retry of the same step never holds twice."""
    return f"rsv:{reservation_id}:{sequence}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def phone_digits(phone: str | None) -> str | None:
    return re.sub(r"\D", "", phone) if phone else None


# --- booking settings (the partner's, per product) ---------------------------------


@dataclass(frozen=True)
class BookingSettings:
    """A product's booking settings, the defaults of the module docstring where the
    partner set none; ``request_ttl_hours`` None means the service's configured default."""

    confirmation: str = "manual"
    request_ttl_hours: int | None = None
    allow_partial_cancel: bool = True
    updated_at: dt.datetime | None = None

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> BookingSettings:
        return cls(**{k: v for k, v in (row or {}).items() if k in SETTING_FIELDS + ("updated_at",)})

    def with_changes(self, changes: dict[str, Any]) -> BookingSettings:
        return replace(self, **{k: v for k, v in changes.items() if k in SETTING_FIELDS})

    def ttl_hours(self, default_ttl: int) -> int:
        return self.request_ttl_hours or default_ttl

    def stored(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SETTING_FIELDS}


SETTING_FIELDS = ("confirmation", "request_ttl_hours", "allow_partial_cancel")


# --- idempotency -----------------------------------------------------------------


def request_fingerprint(body: dict[str, Any]) -> str:
    """What makes two creation requests "the same body" (after parsing, so key
    order and surrounding spaces do not matter). Not chassis.idempotency's
    fingerprint, which writes JSON without spaces: the keys already stored hold
    this one, and a retry of such a key must still be "the same body"."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# --- time --------------------------------------------------------------------------


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(PARTNER_TIME_ZONE).date()


def use_at(use_date: dt.date | None, use_time: dt.time | None) -> dt.datetime | None:
    """When the booking is used (a date product: the start of its day); None for anytime products."""
    if use_date is None:
        return None
    return dt.datetime.combine(use_date, use_time or dt.time(0, 0), PARTNER_TIME_ZONE)


def cancel_deadline(policy: dict[str, Any], at: dt.datetime | None) -> dt.datetime | None:
    """Until when the customer may cancel; None for an anytime booking and for a
    non-refundable one, which no deadline would open (issue 17 item 6)."""
    if at is None or policy.get("non_refundable"):
        return None
    return at - dt.timedelta(hours=policy.get("deadline_hours_before", 0))


def day_after(use_date: dt.date) -> dt.datetime:
    return dt.datetime.combine(use_date + dt.timedelta(days=1), dt.time(0, 0), PARTNER_TIME_ZONE)


# --- lines and money ---------------------------------------------------------------


def active_quantity(line: Mapping[str, Any]) -> int:
    return int(line["quantity"] - line.get("cancelled", 0))


def amount_of(lines: list[dict[str, Any]]) -> int:
    """The lines still booked at their prices as sold (before any coupon discount)."""
    return sum(line["unit_price"] * active_quantity(line) for line in lines)


def discount_left(lines: list[dict[str, Any]], discount: int) -> int:
    """The part of a booking's coupon discount on the lines still booked: a
    partial cancellation takes its share (in proportion to the amount cancelled,
    counted on everything cancelled so far, so the shares add up to the whole)."""
    sold = sum(line["unit_price"] * line["quantity"] for line in lines)
    cancelled = sum(line["unit_price"] * line.get("cancelled", 0) for line in lines)
    return discount - discount_share(discount, cancelled, sold) if sold > 0 else 0


def paid_amount(lines: list[dict[str, Any]], discount: int = 0) -> int:
    """What the customer pays for the lines still booked: ``total`` (issue #11)."""
    return amount_of(lines) - discount_left(lines, discount)


def lines_from_hold(hold: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lines as priced by the approved catalog version that was held."""
    return [
        {
            "line": held["line"],
            "price_id": held["price_id"],
            "label": held["label"],
            "unit_price": held["unit_price"],
            "quantity": held["quantity"],
            "cancelled": 0,
        }
        for held in sorted(hold["lines"], key=lambda held: held["line"])
    ]


def redemption_key(reservation_id: str) -> str:
    """The booking's key of its coupon redemption in the catalog: every hold of
    the booking (a date change's too) shares it."""
    return f"reservation:{reservation_id}"


def is_paid(payment: str) -> bool:
    return payment == "prepaid"


@dataclass(frozen=True)
class Quote:
    allowed: bool
    reason: str | None
    fee: int
    refund: int
    fee_percent: int = 0


def quote_cancellation(
    policy: dict[str, Any], amount: int, paid: bool, at: dt.datetime | None, now: dt.datetime, committed: bool = True
) -> Quote:
    """R-RSV-4 on the policy snapshotted at booking (catalog's rule, R-CAT-6):
    nothing after the deadline, nothing for a non-refundable sale, otherwise
    the fee of the tier closest to the use among those that apply (rounded
    down). Only a paid booking has money to refund or keep.

    A request the partner has not confirmed (``committed`` False) is cancelled
    free and in full whatever the policy: the policy binds a sale both sides
    agreed to (R-RSV-4, issue 17 item 5)."""
    if not committed:
        return Quote(True, None, 0, amount if paid else 0)
    hours_left = None if at is None else (at - now).total_seconds() / 3600
    if hours_left is not None and hours_left < policy.get("deadline_hours_before", 0):
        return Quote(False, "deadline_passed", 0, 0)
    if policy.get("non_refundable"):
        return Quote(False, "non_refundable", 0, 0)
    applying = [t for t in policy.get("fee_tiers") or [] if hours_left is not None and hours_left < t["hours_before"]]
    percent = min(applying, key=lambda t: t["hours_before"])["fee_percent"] if applying else 0
    if not paid:
        return Quote(True, None, 0, 0, percent)
    fee = amount * percent // 100
    return Quote(True, None, fee, amount - fee, percent)


@dataclass(frozen=True)
class CancelPlan:
    partial: bool
    release: list[dict[str, Any]]  # [{line, quantity}] for the catalog, the whole remainder when not partial
    amount: int  # what is cancelled
    fee: int
    refund: int


def cancellation_lines(
    lines: list[dict[str, Any]], wanted: list[dict[str, Any]] | None
) -> tuple[bool, list[dict[str, Any]]]:
    """(partial, [{line, quantity}]) of a cancellation; a 422 naming the line for
    one that is not in the booking or asks more than is left."""
    left = {line["line"]: active_quantity(line) for line in lines}
    if wanted is None:
        return False, [{"line": n, "quantity": q} for n, q in left.items() if q > 0]
    asked: dict[int, int] = {}
    problems = {}
    for index, item in enumerate(wanted):
        asked[item["line"]] = asked.get(item["line"], 0) + item["quantity"]
        if item["line"] not in left:
            problems[f"lines.{index}.line"] = "not a line of this reservation"
        elif asked[item["line"]] > left[item["line"]]:
            problems[f"lines.{index}.quantity"] = f"only {left[item['line']]} left on this line"
    if problems:
        raise ValidationFailed(message="the lines to cancel do not fit the reservation", details={"fields": problems})
    partial = any(asked.get(n, 0) < q for n, q in left.items())
    return partial, [{"line": n, "quantity": q} for n, q in sorted(asked.items())]


def plan_customer_cancel(
    reservation: dict[str, Any], wanted: list[dict[str, Any]] | None, expected_fee: int | None, now: dt.datetime
) -> CancelPlan:
    """R-RSV-4: each refusal has its own code, checked in this order."""
    number, status = reservation["number"], reservation["status"]
    if status not in OPEN:
        raise errors.refused(
            "not_cancellable_state", f"a {status} reservation cannot be cancelled", number, status=status
        )
    partial, release = cancellation_lines(reservation["lines"], wanted)
    if partial and not reservation["allow_partial_cancel"]:
        raise errors.refused(
            "partial_cancel_not_allowed", "this product does not allow cancelling part of a booking", number
        )
    discount = reservation.get("discount_amount", 0)
    amount = paid_amount(reservation["lines"], discount) - paid_amount(
        apply_cancellation(reservation["lines"], release), discount
    )  # what was paid for them (issue #11)
    at = use_at(reservation["use_date"], reservation["use_time"])
    quote = quote_cancellation(
        reservation["cancel_policy"], amount, is_paid(reservation["payment"]), at, now, committed=status != REQUESTED
    )
    if not quote.allowed:
        deadline = cancel_deadline(reservation["cancel_policy"], at)
        reason = quote.reason or "deadline_passed"
        raise errors.refused(
            reason,
            {
                "deadline_passed": "the cancellation deadline has passed",
                "non_refundable": "this booking was sold as non-refundable",
            }[reason],
            number,
            cancel_deadline=deadline.isoformat() if deadline else None,
        )
    if expected_fee is not None and expected_fee != quote.fee:
        raise errors.refused(
            "fee_changed",
            "the cancellation fee has changed since it was shown",
            number,
            expected_fee=expected_fee,
            fee=quote.fee,
            refund=quote.refund,
        )
    return CancelPlan(partial, release, amount, quote.fee, quote.refund)


def apply_cancellation(lines: list[dict[str, Any]], release: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines after a partial cancellation (cancelled quantities counted per line)."""
    taken_back = {r["line"]: r["quantity"] for r in release}
    return [{**line, "cancelled": line.get("cancelled", 0) + taken_back.get(line["line"], 0)} for line in lines]


# --- booking (R-RSV-1, R-RSV-3) ---------------------------------------------------------


def hold_lines(request: Any) -> list[dict[str, Any]]:
    """The catalog hold's lines of a booking request (contract.reservations.ReservationCreate)."""
    return [
        {
            "product_id": request.product_id,
            "price_id": line.price_id,
            "quantity": line.quantity,
            "date": request.date.isoformat() if request.date else None,
            "time": request.time.strftime("%H:%M") if request.time else None,
        }
        for line in request.lines
    ]


def check_booking_product(product: dict[str, Any]) -> None:
    """Booking settings are for booking products (goods have none)."""
    if product.get("kind") != "booking":
        raise ValidationFailed(
            message="goods have no booking settings", details={"fields": {"product_id": "not a booking product"}}
        )


def check_setting_changes(changes: dict[str, Any]) -> None:
    """A setting left out stays as it is; only ``request_ttl_hours`` may be null (the default)."""
    nulls = {k: "may not be null" for k, v in changes.items() if v is None and k != "request_ttl_hours"}
    if nulls:
        raise ValidationFailed(message="request body is invalid", details={"fields": nulls})


# --- the reservation (aggregate) ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A step that keeps the status (R-RSV-10, R-RSV-11), like ``PARTNER_ACTIONS``'
    transitions: the states it starts from (refused as ``action`` otherwise), the
    step its history records and the event it publishes, if any."""

    allowed_from: tuple[str, ...]
    action: str
    history: str
    event: str | None = None


TICKET_STEPS: dict[str, Step] = {
    "share": Step(OPEN, "share", "shared", "reservation.shared"),
    "transfer": Step(OPEN, "transfer", "transfer_offered"),  # told to nobody until accepted
    "accept_transfer": Step(OPEN, "transfer", "transferred", "reservation.transferred"),
}
CHAT_STEPS: dict[str, Step] = {
    "request": Step(STATUSES, "request_chat", "chat_requested", "reservation.chat_requested"),
    "accepted": Step(STATUSES, "accept_chat", "chat_accepted", "reservation.chat_accepted"),
    "declined": Step(STATUSES, "decline_chat", "chat_declined", "reservation.chat_declined"),
}


@dataclass(frozen=True)
class Reservation:
    """One booking, as stored (store.RESERVATION_COLUMNS): made by ``book``, changed
    by the transitions below, which check where they start and say what changes."""

    reservation_id: str
    number: str
    partner_id: str
    product_id: str
    product_name: str
    product_version: int
    schedule_type: str
    payment: str
    cancel_policy: dict[str, Any]
    confirmation: str
    allow_partial_cancel: bool
    request_ttl_hours: int
    customer_id: str
    holder_customer_id: str
    booker_name: str | None
    booker_phone: str | None
    booker_phone_last4: str | None
    status: str
    use_date: dt.date | None
    use_time: dt.time | None
    lines: list[dict[str, Any]]
    total: int
    refund_amount: int
    fee_amount: int
    hold_sequence: int
    reason: str | None
    due_at: dt.datetime | None
    conversation_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    coupon: dict[str, Any] | None
    discount_amount: int
    pseudonymised: bool = False
    holder_name: str | None = None
    holder_phone: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Reservation:
        return cls(**{name: row[name] for name in RESERVATION_FIELDS if name in row})

    def as_row(self) -> dict[str, Any]:
        """The stored row (what views and events read)."""
        return {name: getattr(self, name) for name in RESERVATION_FIELDS}

    @classmethod
    def book(
        cls,
        intent: Mapping[str, Any],
        request: Any,
        hold: Mapping[str, Any],
        settings: BookingSettings,
        default_ttl: int,
        now: dt.datetime,
    ) -> Reservation:
        """The new reservation as the held catalog version priced it (``request`` is
        contract.reservations.ReservationCreate), with the product's policy and
        booking settings copied onto it: what it keeps whatever changes later.
        An auto-confirmed product's booking is confirmed at once (R-RSV-1)."""
        product = hold["products"][hold["lines"][0]["product_id"]]
        ttl = settings.ttl_hours(default_ttl)
        lines = lines_from_hold(hold)
        discount = hold.get("discount_amount", 0)
        status = CONFIRMED if settings.confirmation == "auto" else REQUESTED
        policy = product["cancel_policy"]
        phone = phone_digits(request.booker.phone) or ""
        return cls(
            reservation_id=intent["reservation_id"],
            number=intent["number"],
            partner_id=intent["partner_id"],
            product_id=hold["lines"][0]["product_id"],
            product_name=product["name"],
            product_version=product["version"],
            schedule_type=product["schedule_type"],
            payment=product["payment"] or "none",
            cancel_policy=policy,
            confirmation=settings.confirmation,
            allow_partial_cancel=settings.allow_partial_cancel,
            request_ttl_hours=ttl,
            customer_id=intent["customer_id"],
            holder_customer_id=intent["customer_id"],
            booker_name=request.booker.name,
            booker_phone=phone,
            booker_phone_last4=phone[-4:],
            status=status,
            use_date=request.date,
            use_time=request.time,
            lines=lines,
            total=paid_amount(lines, discount),
            refund_amount=0,
            fee_amount=0,
            hold_sequence=intent["hold_sequence"],
            reason=None,
            due_at=due_at(status, policy, request.date, request.time, now, ttl),
            conversation_id=None,
            created_at=now,
            updated_at=now,
            coupon=coupon_of_hold(dict(hold)),
            discount_amount=discount,
        )

    @property
    def booked_by_system(self) -> bool:
        """Confirmed at once: the system, not the customer, is the first event's actor."""
        return self.status == CONFIRMED

    def _check(self, step: Step) -> Step:
        if self.status not in step.allowed_from:
            raise errors.invalid_state(self.number, self.status, step.action)
        return step

    def share(self, customer_id: str) -> Step:
        """The booker or the holder shares an open booking; anyone else gets 404."""
        if customer_id not in (self.customer_id, self.holder_customer_id):
            raise errors.reservation_not_found(self.number)
        return self._check(TICKET_STEPS["share"])

    def offer_transfer(self, customer_id: str, to_phone: str | None) -> Step:
        """The holder hands an open booking to another phone than the booker's own (R-RSV-10)."""
        check_holder(self.as_row(), customer_id)
        step = self._check(TICKET_STEPS["transfer"])
        if self.customer_id == customer_id and to_phone == self.booker_phone:
            raise ValidationFailed(
                message="the ticket is already yours",
                details={"fields": {"to_phone": "this is the booker's own phone"}},
            )
        return step

    def accept_transfer(self, customer_id: str, contact: Mapping[str, Any]) -> tuple[Step, dict[str, Any]]:
        """The new holder takes the ticket with their name and verified phone."""
        return self._check(TICKET_STEPS["accept_transfer"]), {
            "holder_customer_id": customer_id,
            "holder_name": contact.get("name"),
            "holder_phone": phone_digits(contact.get("phone")),
        }

    def request_chat(self) -> Step:
        if self.conversation_id:
            raise Conflict(
                "chat_already_open",
                "this reservation already has a conversation",
                {"number": self.number, "conversation_id": self.conversation_id},
            )
        return self._check(CHAT_STEPS["request"])

    def answer_chat(self, answer: str, conversation_id: str | None) -> tuple[Step, dict[str, Any]]:
        """``accepted`` links the new conversation; ``declined`` changes nothing on the reservation."""
        return self._check(CHAT_STEPS[answer]), {"conversation_id": conversation_id} if conversation_id else {}


RESERVATION_FIELDS = tuple(f.name for f in fields(Reservation))


# --- partner actions (R-RSV-2, R-RSV-6) --------------------------------------------


@dataclass(frozen=True)
class Transition:
    allowed_from: tuple[str, ...]
    to: str
    event: str
    needs_reason: bool = False


# R-ACC-14: the reason a closing partner's open bookings are cancelled with, as customers read it.
PARTNER_CLOSED_REASON = "파트너 운영 종료 (the partner has closed)"


def partner_transition(action: str) -> Transition:
    """The transition an action names; 404 ``action_not_found`` for any other."""
    if action not in PARTNER_ACTIONS:
        raise NotFound("action_not_found", "no such action", {"action": action})
    return PARTNER_ACTIONS[action]


PARTNER_ACTIONS: dict[str, Transition] = {
    "confirm": Transition((REQUESTED,), CONFIRMED, "reservation.confirmed"),
    "reject": Transition((REQUESTED,), REJECTED, "reservation.rejected", needs_reason=True),
    "complete": Transition((CONFIRMED,), COMPLETED, "reservation.completed"),
    "cancel": Transition(OPEN, CANCELLED, "reservation.cancelled", needs_reason=True),
    "no_show": Transition((CONFIRMED,), NO_SHOW, "reservation.no_show"),
}


@dataclass(frozen=True)
class Outcome:
    """What a transition does to the money and the catalog."""

    status: str
    event: str
    refund: int = 0
    fee: int = 0
    sale: int = 0
    release: bool = False
    action: str | None = None  # the history's step and the timer's count, when not the status
    reason: str | None = None  # the reason a timer gives (a partner gives their own)


def partner_outcome(action: str, reservation: dict[str, Any], now: dt.datetime) -> Outcome:
    """Whole reservations only (R-RSV-2); 409 ``invalid_state`` naming the current state."""
    transition = PARTNER_ACTIONS[action]
    status = reservation["status"]
    if status not in transition.allowed_from:
        raise errors.invalid_state(reservation["number"], status, action)
    sold = paid_amount(reservation["lines"], reservation.get("discount_amount", 0))
    paid = sold if is_paid(reservation["payment"]) else 0
    if action == "no_show":
        check_no_show(reservation, now)
        return Outcome(NO_SHOW, transition.event, fee=paid)
    if action == "complete":
        return Outcome(COMPLETED, transition.event, sale=sold)
    if action in ("reject", "cancel"):
        return Outcome(transition.to, transition.event, refund=paid, release=True)
    return Outcome(transition.to, transition.event)


def check_no_show(reservation: dict[str, Any], now: dt.datetime) -> None:
    if not is_paid(reservation["payment"]):
        raise Conflict(
            "no_show_not_allowed",
            "only bookings paid in advance can be marked as no-show (R-CAT-6)",
            {"number": reservation["number"], "payment": reservation["payment"]},
        )
    at = use_at(reservation["use_date"], reservation["use_time"])
    if at is not None and now < at:
        raise Conflict(
            "use_time_not_reached",
            "a no-show can be marked once the use time has come",
            {"number": reservation["number"], "use_at": at.isoformat()},
        )


# --- timers ----------------------------------------------------------------------------


def due_at(
    status: str,
    policy: dict[str, Any],
    use_date: dt.date | None,
    use_time: dt.time | None,
    requested_at: dt.datetime,
    ttl_hours: int,
) -> dt.datetime | None:
    """When a timer must next look at the reservation, or None."""
    if status == REQUESTED:
        expiry = requested_at + dt.timedelta(hours=ttl_hours)
        at = use_at(use_date, use_time)
        return min(expiry, at) if at is not None else expiry
    if (
        status == CONFIRMED
        and use_date is not None
        and (policy.get("complete_after_use") or policy.get("auto_cancel_unused"))
    ):
        return day_after(use_date)
    return None


def timer_outcome(reservation: dict[str, Any]) -> Outcome | None:
    """What a due reservation becomes (the caller checked it is due)."""
    status, policy = reservation["status"], reservation["cancel_policy"]
    sold = paid_amount(reservation["lines"], reservation.get("discount_amount", 0))
    paid = sold if is_paid(reservation["payment"]) else 0
    if status == REQUESTED:
        return Outcome(
            CANCELLED, "reservation.expired", refund=paid, release=True, action="expired", reason="request_expired"
        )
    if status == CONFIRMED and policy.get("complete_after_use"):
        return Outcome(COMPLETED, "reservation.completed", sale=sold)
    if status == CONFIRMED and policy.get("auto_cancel_unused"):
        return Outcome(NO_SHOW, "reservation.no_show", fee=paid)
    return None


# --- releases to the catalog ------------------------------------------------------------


def release_retry_seconds(attempts: int) -> float:
    """How long a release the catalog did not take waits before the next try: doubling, at most 5 minutes."""
    return float(min(300, 2 * 2**attempts))


# --- date change (R-RSV-5) ---------------------------------------------------------------


def moved_hold_lines(reservation: dict[str, Any], new_date: dt.date, new_time: dt.time | None) -> list[dict[str, Any]]:
    """The catalog hold of the booking's lines still booked, on the new date."""
    return [
        {
            "product_id": reservation["product_id"],
            "price_id": line["price_id"],
            "quantity": active_quantity(line),
            "date": new_date.isoformat(),
            "time": new_time.strftime("%H:%M") if new_time else None,
        }
        for line in reservation["lines"]
        if active_quantity(line) > 0
    ]


def check_date_change(
    reservation: dict[str, Any], new_date: dt.date, new_time: dt.time | None, now: dt.datetime
) -> None:
    """The conditions that need nothing but the reservation; each has its own code.
    The "listed directly" condition needs accounts (``check_direct_listing``)."""
    number, status = reservation["number"], reservation["status"]
    if status == COMPLETED:
        raise errors.refused("line_completed", "a completed booking cannot be moved", number, status=status)
    if status not in OPEN:
        raise errors.refused("not_changeable_state", f"a {status} reservation cannot be moved", number, status=status)
    if reservation["schedule_type"] == "anytime":
        raise errors.refused("anytime_product", "a booking without a date cannot be moved", number)
    if any(line["unit_price"] != 0 for line in reservation["lines"]):
        raise errors.refused("priced_product", "only bookings of products priced 0 can be moved", number)
    if local_today(now) >= reservation["use_date"]:
        raise errors.refused(
            "use_date_passed",
            "the date can only be changed before the use date",
            number,
            use_date=reservation["use_date"].isoformat(),
        )
    if reservation["schedule_type"] == "datetime" and new_time is None:
        raise ValidationFailed(message="a time is needed", details={"fields": {"time": "this product needs a time"}})
    if reservation["schedule_type"] == "date" and new_time is not None:
        raise ValidationFailed(
            message="no time is taken", details={"fields": {"time": "this product is booked by the day"}}
        )
    if (new_date, new_time) == (reservation["use_date"], reservation["use_time"]):
        raise ValidationFailed(
            message="nothing to change", details={"fields": {"date": "this is the booking's current date and time"}}
        )


def check_move(
    before: dict[str, Any],
    current: dict[str, Any],
    hold_status: str,
    new_date: dt.date,
    new_time: dt.time | None,
    now: dt.datetime,
) -> None:
    """Right before a move commits (its new slot held meanwhile): nobody moved the
    booking since, the catalog held the slot, and R-RSV-5 still allows it."""
    if current["hold_sequence"] != before["hold_sequence"] or hold_status != "held":
        raise Conflict("concurrent_change", "the booking changed meanwhile; try again", {"number": before["number"]})
    check_date_change(current, new_date, new_time, now)


def check_direct_listing(reservation: dict[str, Any], partner: dict[str, Any]) -> None:
    if partner.get("via_agency"):
        raise errors.refused(
            "not_direct_listing", "only products listed directly by the partner can be moved", reservation["number"]
        )


# --- hand-over (R-RSV-10) -------------------------------------------------------------------


def check_holder(reservation: dict[str, Any], customer_id: str) -> None:
    """The holder acts on the ticket; the booker who handed it over gets 409
    ``not_ticket_holder`` (they still see it), anyone else 404."""
    if customer_id == reservation["holder_customer_id"]:
        return
    if customer_id == reservation["customer_id"]:
        raise Conflict(
            "not_ticket_holder",
            "the ticket was handed to a friend; only they can cancel, change or pass it on",
            {"number": reservation["number"]},
        )
    raise errors.reservation_not_found(reservation["number"])


def is_token(value: Any) -> bool:
    """Could be a share or transfer token (anything else is looked up as nothing)."""
    return isinstance(value, str) and 0 < len(value) <= 100


def transfer_open_to(transfer: dict[str, Any] | None, customer_id: str, verified_phone: str | None) -> bool:
    """A pending transfer is open to the customer whose verified phone is its
    ``to_phone`` (issue 17 item 1); an accepted one only to who took it (a retry)."""
    if transfer is None or transfer["state"] == "withdrawn":
        return False
    if transfer["state"] == "accepted":
        return bool(transfer["to_customer_id"] == customer_id)
    return verified_phone is not None and phone_digits(verified_phone) == transfer["to_phone"]


# --- chat (R-RSV-11) ------------------------------------------------------------------------


def check_invitation_pending(invitation: dict[str, Any]) -> None:
    """An invitation is answered once (the same answer again is a replay, not a change)."""
    if invitation["state"] != "pending":
        raise Conflict(
            "invalid_state",
            f"the invitation is already {invitation['state']}",
            {"invitation_id": invitation["invitation_id"], "status": invitation["state"]},
        )


# --- status board (R-RSV-9) --------------------------------------------------------------

# Every state that holds seats (HOLDING), so the counts explain the slot's ``taken``
# (a no-show keeps its seat: issue 17 item 7).
BOARD_STATES = (REQUESTED, CONFIRMED, COMPLETED, NO_SHOW)


BOARD_MAX_DAYS = 92


def check_board_period(date_from: dt.date, date_to: dt.date) -> None:
    if not date_from <= date_to <= date_from + dt.timedelta(days=BOARD_MAX_DAYS):
        raise ValidationFailed(
            message="request query is invalid", details={"fields": {"to": "from <= to, at most 93 days"}}
        )


def board(slot_board: dict[str, Any], counts: list[dict[str, Any]]) -> dict[str, Any]:
    """The catalog's capacity per slot with this service's counts per state.
    ``counts`` rows: {date, time, status, reservations, quantity}. A date row
    (no time) counts the whole day; the period row counts everything."""
    by_slot: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    by_day: dict[str, dict[str, Any]] = {}
    overall = _empty_counts()
    for row in counts:
        for bucket in (
            by_slot.setdefault((row["date"], row["time"]), _empty_counts()),
            by_day.setdefault(row["date"], _empty_counts()),
            overall,
        ):
            _add(bucket, row)

    def with_counts(slot: dict[str, Any]) -> dict[str, Any]:
        source = by_day.get(slot["date"]) if slot.get("time") is None else by_slot.get((slot["date"], slot["time"]))
        return {**slot, **(source or _empty_counts())}

    slots = [with_counts(s) for s in slot_board.get("slots", [])]
    seen = {(s["date"], s["time"]) for s in slots}
    orphans = [
        {"date": d, "time": t, "capacity": None, "taken": None, "remaining": None, "blocked": None, "past": None, **c}
        for (d, t), c in sorted(by_slot.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))
        if (d, t) not in seen and d is not None and not any(s["date"] == d and s["time"] is None for s in slots)
    ]
    period = slot_board.get("period")
    return {
        "product_id": slot_board["product_id"],
        "from": slot_board["date_from"],
        "to": slot_board["date_to"],
        "slots": slots + orphans,
        "period": {**period, **overall} if period else None,
        "blocks": slot_board.get("blocks", []),
        "totals": overall,
    }


def _empty_counts() -> dict[str, Any]:
    return {**{state: 0 for state in BOARD_STATES}, "booked_quantity": 0}


def _add(bucket: dict[str, Any], row: dict[str, Any]) -> None:
    if row["status"] in BOARD_STATES:
        bucket[row["status"]] += row["reservations"]
        bucket["booked_quantity"] += row["quantity"]


# --- dashboard (R-ACC-11) ------------------------------------------------------------------


def dashboard(counts: dict[str, int], today: dict[str, Any]) -> dict[str, Any]:
    return {"counts": {state: counts.get(state, 0) for state in STATUSES}, "today": today}


# --- settlement (reconciliation) ------------------------------------------------------


def check_period(period_start: dt.date, period_end: dt.date) -> None:
    if period_end < period_start:
        raise ValidationFailed(
            message="request is invalid", details={"fields": {"period_end": "must not be before period_start"}}
        )


def business_days(period_start: dt.date, period_end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants that bound these business dates (partner's zone), the end excluded."""
    return (
        dt.datetime.combine(period_start, dt.time(0, 0), PARTNER_TIME_ZONE),
        dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(0, 0), PARTNER_TIME_ZONE),
    )


def ledger_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sales are completed reservations' totals, fees those of cancellations and
    no-shows; customers' refunds of cancelled bookings are not ledger refunds (no
    sale was booked), so ``refunds`` is 0. ``rows``: {partner_id, kind, amount, n}."""
    totals: dict[str, Any] = {}
    for row in rows:
        entry = totals.setdefault(
            row["partner_id"], {"sales": 0, "fees": 0, "refunds": 0, "sales_count": 0, "fees_count": 0}
        )
        plural = {"sale": "sales", "fee": "fees", "refund": "refunds"}[row["kind"]]
        entry[plural] = int(row["amount"])
        if plural != "refunds":
            entry[f"{plural}_count"] = int(row["n"])
    return totals


# --- reviews (R-RSV-6, R-CAT-6) --------------------------------------------------------


def check_reviewable(reservation: dict[str, Any]) -> None:
    """A review is written once the visit is done: ``completed`` by the partner
    (R-RSV-6) or by the timer after the use date (R-CAT-6); 409 naming the state."""
    if reservation["status"] != COMPLETED:
        raise errors.review_not_allowed(reservation["number"], reservation["status"])
