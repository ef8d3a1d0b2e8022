"""Settlement rules (R-STL-1..5, R-ACC-5). No I/O here: store.py does the SQL.

The ledger (R-STL-1)
--------------------
Double-entry, append-only, per partner, amounts in integer KRW. Three accounts,
seen from the platform:

- ``customer_funds``      money the platform collected from customers (asset)
- ``partner_payable``     what the platform owes the partner (liability)
- ``commission_revenue``  the platform's commission (income)

Every ledger transaction has at least two entries and its debits equal its
credits (a deferred trigger refuses anything else at commit). Nothing is ever
updated or deleted: a refund is a reversing transaction. A partner's *net* is
the balance of its ``partner_payable`` account (credits minus debits).

Which events make which transactions (one transaction per source object and
entry kind: the ``key`` is unique, so duplicates and replays add nothing):

======================================  =================================  ==========================================
event                                   transaction(s)                     key
======================================  =================================  ==========================================
reservation.completed  (total > 0)      sale + commission                  reservation:<number>:sale
reservation.cancelled  (fee_amount > 0) fee + commission                   reservation:<number>:fee:<event_id>
reservation.no_show    (fee_amount > 0) fee + commission                   reservation:<number>:no_show_fee
order.completed / order.delivered       sale + commission                  order:<id>:sale
  ... with refunds before completion    refund + commission_reversal       order:<id>:refund:before_completion
order.refund_approved  (completed)      refund + commission_reversal       order:<id>:refund:<request_id|event_id>
anything else                           nothing
======================================  =================================  ==========================================

A refund approved before the order completed (issue 18) reverses the
customer's payment, not a sale: nothing is booked when it is approved, and
the order's completion books the sale of its total with, beside it, one
refund of everything paid back so far (its ``refunded_total``). An order
that never completes (cancelled, partly refunded or not) books nothing. So
no refund and no commission reversal is ever booked without its sale.
Products' shares of sales and refunds follow the one allocation rule of
``chassis.money`` (the one orders and insights use).

Coupons (issue #11): the partner funds a coupon's discount. The sale is
booked at the event's ``total``, what the customer paid after the discount,
and commission is taken on that; the discount (``discount_amount``,
``coupon_id``) is recorded on the sale's transaction beside it. Refunds and
fees are on what was paid too (the producers compute them so).

Why: only a *completed* sale is the partner's revenue (R-STL-1); money taken
for a booking that is cancelled goes back to the customer except the
cancellation fee, which is the partner's (and a partial cancellation is one
event per fee, hence the event id in its key). A completed reservation cannot
be cancelled (R-RSV-4) and an order cannot be cancelled once completed
(R-ORD-5), so cancellations never reverse a sale; refunds after a completed
order come as ``order.refund_approved`` (R-ORD-8). ``order.delivered``
completes a delivery order (R-ORD-3): producers may send it, ``order.completed``
or both; the sale key is the order, so it is counted once.

Commission (R-STL-2)
--------------------
A rate in basis points per partner category, with per-partner overrides, each
effective from a date. The rate in force on the sale's business date is copied
onto the commission transaction, so a rate change never rewrites the past; a
new rate may only start in the future. Commission is taken on sales and fees
alike and rounded down (in the partner's favour). A refund gives back the
commission at the rate of the original sale so that, after every refund, the
commission kept is the commission on what the customer kept (the sale less
everything refunded): never below 0, and a full refund, in however many
parts, gives back exactly the commission taken.

Business date: the event's ``occurred_at`` as a date in Asia/Seoul (the
partner's time zone by default, ../shared/api.md).

Settlement runs (R-STL-2, R-STL-3)
----------------------------------
A run closes a period ending on ``period_end`` (a day that is over). For each
partner, the period actually settled ends at the last boundary of the
partner's payout schedule on or before ``period_end``: the last Sunday for
``weekly`` partners, the last day of a month for ``monthly`` ones. Its
statement takes every ledger transaction not yet settled with a business date
up to that day (so an event that arrives late, for a day already settled, is
settled with the next period instead of being lost), adds the negative balance
carried in from the previous statement, and:

- pays the total when it is positive (a payout, with a pay date ``delay_days``
  after the period end, moved off a weekend to the Monday);
- otherwise carries it forward (a clawback from the next payouts).

So, always: payouts + carried balance + what is not settled yet = the ledger's
net. One tax invoice per partner and period, numbered 1, 2, 3 ... per partner,
for the platform's net commission of the period (VAT included, 10%). A period
is settled once: running it again changes nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from chassis.contracts import (
    ReservationCancelled,
    ReservationCompleted,
    ReservationEvent,
    ReservationNoShow,
    read_payload,
)
from chassis.money import products_of, split_amount

# Re-exported (``X as X``): the service reads the partner's time as domain.*.
from chassis.partner_time import PARTNER_TIME_ZONE as PARTNER_TIME_ZONE
from chassis.partner_time import business_date as business_date
from chassis.partner_time import today_in_partner_zone as today_in_partner_zone

CUSTOMER_FUNDS = "customer_funds"
PARTNER_PAYABLE = "partner_payable"
COMMISSION_REVENUE = "commission_revenue"

SALE, FEE, REFUND = "sale", "fee", "refund"
COMMISSION, COMMISSION_REVERSAL = "commission", "commission_reversal"

# kind -> (account debited, account credited)
POSTING_RULES: dict[str, tuple[str, str]] = {
    SALE: (CUSTOMER_FUNDS, PARTNER_PAYABLE),
    FEE: (CUSTOMER_FUNDS, PARTNER_PAYABLE),
    REFUND: (PARTNER_PAYABLE, CUSTOMER_FUNDS),
    COMMISSION: (PARTNER_PAYABLE, COMMISSION_REVENUE),
    COMMISSION_REVERSAL: (COMMISSION_REVENUE, PARTNER_PAYABLE),
}
COMMISSION_OF = {SALE: COMMISSION, FEE: COMMISSION, REFUND: COMMISSION_REVERSAL}

WEEKLY, MONTHLY = "weekly", "monthly"
RETENTION_YEARS = 5  # R-ACC-5, R-STL-5
VAT_DIVISOR = 11  # VAT is 10% of the supply value: 1/11 of a VAT-inclusive total


@dataclass(frozen=True)
class Entry:
    account: str
    debit: int
    credit: int


@dataclass(frozen=True)
class ProductShare:
    product_id: str
    product_name: str
    amount: int


@dataclass(frozen=True)
class Movement:
    """Money that moved for the partner: a sale, a fee or a refund."""

    kind: str
    source: str  # "reservations" or "orders"
    source_ref: str  # reservation number or order id
    key: str  # unique per partner: the idempotency key of the transaction
    amount: int
    products: tuple[ProductShare, ...] = field(default_factory=tuple)
    discount: int = 0  # a sale's coupon discount, funded by the partner (issue #11)
    coupon_id: str | None = None

    @property
    def commission_key(self) -> str:
        return f"{self.key}:{COMMISSION_OF[self.kind]}"


# --- the ledger --------------------------------------------------------------


def postings(kind: str, amount: int) -> list[Entry]:
    """The balanced entries of one ledger transaction (R-STL-1)."""
    if amount <= 0:
        raise ValueError(f"a {kind} transaction needs a positive amount, got {amount}")
    debited, credited = POSTING_RULES[kind]
    return [Entry(debited, amount, 0), Entry(credited, 0, amount)]


def partner_effect(kind: str, amount: int) -> int:
    """What a transaction does to the partner's net (its partner_payable balance)."""
    debited, credited = POSTING_RULES[kind]
    return amount if credited == PARTNER_PAYABLE else -amount if debited == PARTNER_PAYABLE else 0


def movements_for(event_type: str, payload: dict[str, Any], event_id: str) -> list[Movement]:
    """The sales, fees and refunds an event brings (the table in this module's doc)."""
    if event_type.startswith("reservation."):
        return _reservation_movements(event_type.split(".", 1)[1], payload, event_id)
    if event_type.startswith("order."):
        return _order_movements(event_type.split(".", 1)[1], payload, event_id)
    return []


def _reservation_movements(kind: str, payload: dict[str, Any], event_id: str) -> list[Movement]:
    """R-STL-1: a completed reservation is a sale of its ``total`` (after the coupon's
    discount); a cancellation's or a no-show's fee is earned (R-RSV-4, R-CAT-6)."""
    r = read_payload(f"reservation.{kind}", payload, ReservationEvent)
    number = r.reservation_number

    def movement(entry_kind: str, key: str, amount: int) -> list[Movement]:
        if amount <= 0:
            return []
        shares = (ProductShare(r.product_id, r.product_name, amount),)
        return [Movement(entry_kind, "reservations", number, key, amount, shares)]

    if isinstance(r, ReservationCompleted):
        return [
            replace(m, discount=r.discount_amount, coupon_id=r.coupon_id)
            for m in movement(SALE, f"reservation:{number}:sale", r.total)
        ]
    if isinstance(r, ReservationCancelled):
        return movement(FEE, f"reservation:{number}:fee:{event_id}", r.fee_amount)
    if isinstance(r, ReservationNoShow):
        return movement(FEE, f"reservation:{number}:no_show_fee", r.fee_amount)
    return []


def _order_movements(kind: str, payload: dict[str, Any], event_id: str) -> list[Movement]:
    order_id = payload["order_id"]
    lines = payload.get("lines", [])
    products = products_of(lines, payload.get("discount_amount") or 0)
    if kind in ("completed", "delivered"):
        amount = payload.get("total", 0)
        if amount <= 0:
            return []
        sale = Movement(
            SALE,
            "orders",
            order_id,
            f"order:{order_id}:sale",
            amount,
            _shares([(p, p.paid) for p in products], amount),
            discount=payload.get("discount_amount") or 0,
            coupon_id=payload.get("coupon_id"),
        )
        refunded = min(payload.get("refunded_total") or 0, amount)
        if refunded <= 0:
            return [sale]
        before = Movement(
            REFUND,
            "orders",
            order_id,
            f"order:{order_id}:refund:before_completion",
            refunded,
            _shares([(p, p.refunded) for p in products], refunded),
        )
        return [sale, before]
    if kind == "refund_approved" and payload.get("status") == "completed":
        amount = payload.get("refund_amount", 0)
        if amount <= 0:
            return []
        names = {p.product_id: p for p in products}
        asked = [
            (names[r["product_id"]], r["amount"])
            for r in payload.get("refund_products") or []
            if r["product_id"] in names
        ]
        if not asked:  # an event from before refund_products: spread over the refunded lines' products
            refunded = {
                line["product_id"] for line in lines if line["line_id"] in set(payload.get("refunded_line_ids") or [])
            }
            asked = [(p, p.gross) for p in products if p.product_id in refunded or not refunded]
        reference = payload.get("request_id") or event_id
        return [
            Movement(REFUND, "orders", order_id, f"order:{order_id}:refund:{reference}", amount, _shares(asked, amount))
        ]
    return []


def _shares(weighted: list[tuple[Any, ...]], amount: int) -> tuple[ProductShare, ...]:
    """Per-product shares of an order amount for the sales summary by product
    (R-STL-4): the figures of chassis.money when they add up to ``amount``
    (they do for every event orders publishes), else split in their proportion."""
    if not weighted:
        return (ProductShare("unknown", "unknown", amount),)
    figures = [max(int(value), 0) for _, value in weighted]
    if sum(figures) != amount:
        figures = split_amount(amount, figures)
    return tuple(
        ProductShare(p.product_id, p.product_name, share)
        for (p, _), share in zip(weighted, figures, strict=True)
        if share
    )


# --- commission ----------------------------------------------------------------


def commission_for(amount: int, rate_bps: int) -> int:
    """Commission on an amount, rounded down (R-STL-2)."""
    return amount * rate_bps // 10_000


def commission_reversal_for(sale: int, refunded_before: int, refund: int, rate_bps: int) -> int:
    """Commission given back for a refund of a sale of ``sale``: what brings the
    commission kept to the commission on what the customer kept, so it never
    goes below 0 and refunds in parts add up to the commission of the whole."""
    kept_before = max(sale - refunded_before, 0)
    kept_after = max(kept_before - refund, 0)
    return commission_for(kept_before, rate_bps) - commission_for(kept_after, rate_bps)


def rate_change_allowed(effective_from: date, today: date) -> bool:
    """A new rate starts tomorrow at the earliest: today's sales keep today's rate."""
    return effective_from > today


# --- settlement runs ---------------------------------------------------------


@dataclass(frozen=True)
class StatementFigures:
    sales: int
    fees: int
    refunds: int
    commission: int  # net of reversals
    net: int  # sales + fees - refunds - commission
    carried_in: int  # <= 0: a clawback carried from the previous statement
    payout_amount: int  # >= 0
    carried_out: int  # <= 0


def statement_figures(partner_effects_by_kind: dict[str, int], carried_in: int) -> StatementFigures:
    """One partner's statement from the partner effects of the transactions it
    settles: a positive total is paid out, a negative one carried forward."""
    sales = partner_effects_by_kind.get(SALE, 0)
    fees = partner_effects_by_kind.get(FEE, 0)
    refunds = -partner_effects_by_kind.get(REFUND, 0)
    commission = -(partner_effects_by_kind.get(COMMISSION, 0) + partner_effects_by_kind.get(COMMISSION_REVERSAL, 0))
    net = sales + fees - refunds - commission
    due = carried_in + net
    return StatementFigures(
        sales, fees, refunds, commission, net, carried_in, payout_amount=max(due, 0), carried_out=min(due, 0)
    )


def schedule_period_end(schedule: str, run_period_end: date) -> date:
    """The last day a partner's schedule closes on or before ``run_period_end``."""
    if schedule == WEEKLY:  # weeks run Monday to Sunday
        return run_period_end - timedelta(days=(run_period_end.weekday() + 1) % 7)
    if schedule == MONTHLY:
        last_day = calendar.monthrange(run_period_end.year, run_period_end.month)[1]
        if run_period_end.day == last_day:
            return run_period_end
        return run_period_end.replace(day=1) - timedelta(days=1)
    raise ValueError(f"unknown payout schedule {schedule!r}")


def next_period_end(schedule: str, today: date) -> date:
    """The end of the schedule's period that holds ``today`` (this week's Sunday,
    this month's last day): what the next run settles."""
    if schedule == WEEKLY:
        return today + timedelta(days=6 - today.weekday())
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


@dataclass(frozen=True)
class UpcomingPayout:
    period_end: date
    pay_date: date
    amount: int  # >= 0; what is not settled yet, with the carried balance, as of now


def upcoming_payout(schedule: dict[str, Any], today: date, unsettled: int, carried: int) -> UpcomingPayout:
    """The next payout as it stands (R-STL-2, issue 18 item 14): the period
    that holds today, paid ``delay_days`` after it, carrying what the ledger
    holds unsettled plus the balance carried from the last statement (0 when
    that is not positive: the run then carries it forward instead)."""
    end = next_period_end(schedule["schedule"], today)
    return UpcomingPayout(end, pay_date(end, schedule["delay_days"]), max(unsettled + carried, 0))


def pay_date(period_end: date, delay_days: int) -> date:
    """``delay_days`` after the period, moved to Monday when it falls on a weekend."""
    day = period_end + timedelta(days=delay_days)
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def run_period_allowed(period_end: date, today: date) -> bool:
    """Only a day that is over can be closed."""
    return period_end < today


@dataclass(frozen=True)
class InvoiceAmounts:
    supply_amount: int
    vat_amount: int
    total_amount: int


def invoice_amounts(commission: int) -> InvoiceAmounts:
    """The tax invoice of a period's commission (R-STL-3), VAT included: a
    negative commission (more reversed than taken) gives a negative invoice."""
    vat = (abs(commission) // VAT_DIVISOR) * (1 if commission >= 0 else -1)
    return InvoiceAmounts(commission - vat, vat, commission)


def invoice_number(seq: int) -> str:
    return f"TI-{seq:06d}"


def retention_cutoff(today: date) -> date:
    """Settlement records dated before this day are past the 5-year retention (R-STL-5)."""
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - RETENTION_YEARS, day=28)


# --- the dashboard (R-STL-4, R-ACC-11) ----------------------------------------

FINANCE_ROLES = {"admin", "master"}
PARTNER_ROLES = {"admin", "master", "member"}


def dashboard_view(role: str, figures: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's settlement section (the gateway's dashboard convention:
    ``{"counts": {...}, ...}``). Admins and masters see amounts and payouts
    (they may read the ledger, ../shared/api.md); members see how many sales
    there were, not how much money."""
    counts = {
        "sales_today": figures["today"]["sales_count"],
        "sales_month_to_date": figures["month_to_date"]["sales_count"],
    }
    if role in FINANCE_ROLES:
        return {"counts": counts, "sales": figures}
    return {"counts": counts}
