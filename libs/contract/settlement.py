"""Settlement area of the HTTP contract (api.md, Settlement; R-STL-1..5): the
ledger, payouts, tax invoices and the sales summary for a partner's admins and
masters, settlement runs, commission rates and payout schedules for operators.
Request bodies and query strings are the classes the settlement service
validates with (its ``schemas.py`` imports them from here). Money is integer
KRW everywhere; dates are partner-zone business dates (YYYY-MM-DD)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from chassis.paging import PageQuery
from chassis.validation import Strict, invalid_query

from .common import Out, Page, Timestamp, examples

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_RANGE_DAYS = 366
Schedule = Literal["weekly", "monthly"]


# --- query strings ---------------------------------------------------------------------------


class ListQuery(PageQuery):
    """``?limit=`` (default 20, clamped to 1..100) and an opaque ``?cursor=``."""

    model_config = ConfigDict(populate_by_name=True)


class DateRangeQuery(ListQuery):
    date_from: dt.date | None = Field(None, alias="from", description="first business date, YYYY-MM-DD")
    date_to: dt.date | None = Field(None, alias="to", description="last business date, YYYY-MM-DD (inclusive)")

    @model_validator(mode="after")
    def _ordered(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid_query(**{"from": "must not be after 'to'"})  # a query error names its parameter
        return self


class SummaryQuery(Strict):
    """Sales summary over at most a year; defaults to the current month."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date | None = Field(None, alias="from", description="YYYY-MM-DD; the 1st of to's month by default")
    date_to: dt.date | None = Field(None, alias="to", description="YYYY-MM-DD (inclusive); today by default")

    @model_validator(mode="after")
    def _bounded(self):
        if self.date_from and self.date_to:
            if self.date_from > self.date_to:
                raise invalid_query(**{"from": "must not be after 'to'"})
            if (self.date_to - self.date_from).days >= MAX_RANGE_DAYS:
                raise invalid_query(**{"from": f"a summary covers at most {MAX_RANGE_DAYS} days"})
        return self


# --- request bodies -------------------------------------------------------------------------


class RunRequest(Strict):
    model_config = examples({"period_end": "2026-11-30"})
    period_end: dt.date


class RateRequest(Strict):
    model_config = examples({"scope": "category", "subject": "salon", "rate_bps": 550, "effective_from": "2027-01-01"})
    scope: Literal["category", "partner"]
    subject: str = Field(min_length=1, max_length=64)
    rate_bps: int = Field(ge=0, le=10_000)
    effective_from: dt.date


class ScheduleRequest(Strict):
    model_config = examples({"schedule": "monthly", "delay_days": 5})
    schedule: Schedule
    delay_days: int = Field(ge=0, le=60)


# --- responses ---------------------------------------------------------------------------------


class Entry(Out):
    account: Literal["customer_funds", "partner_payable", "commission_revenue"]
    debit: int
    credit: int


class LedgerTransaction(Out):
    """One double-entry transaction (R-STL-1) with its entries; ``partner_effect`` is
    what it did to the partner's payable balance (negative for refunds and commission)."""

    transaction_id: int
    kind: Literal["sale", "fee", "refund", "commission", "commission_reversal"]
    source: str
    source_ref: str
    business_date: dt.date
    occurred_at: Timestamp
    recorded_at: Timestamp
    commission_bps: int | None
    discount_amount: int
    coupon_id: str | None
    entries: list[Entry]
    amount: int
    partner_effect: int


class PayoutOut(Out):
    payout_id: str
    amount: int
    pay_date: dt.date
    status: Literal["upcoming", "paid"]


class PayoutSchedule(Out):
    model_config = examples({"schedule": "weekly", "delay_days": 3})
    schedule: Schedule
    delay_days: int


class UpcomingPayout(Out):
    period_end: dt.date
    pay_date: dt.date
    amount: int
    status: Literal["estimated"]


class PeriodFigures(Out):
    """A settled period's figures (R-STL-2), as a statement holds them: what was sold, charged and
    refunded, the commission, the net, and the balance carried in and out."""

    period_start: dt.date
    period_end: dt.date
    sales: int
    fees: int
    refunds: int
    commission: int
    net: int
    carried_in: int
    carried_out: int


class SettledPeriod(PeriodFigures):
    """One settled period (R-STL-2); ``payout`` null when its balance was carried forward."""

    statement_id: int
    payout: PayoutOut | None
    invoice_number: str | None


class Payouts(Page[SettledPeriod]):
    schedule: PayoutSchedule
    unsettled_balance: int = Field(description="sales not in any statement yet, net of commission and refunds")
    upcoming: UpcomingPayout = Field(
        description="the period holding today, its pay date and what it will carry as the ledger stands"
    )


class TaxInvoice(Out):
    """Numbered per partner (R-STL-3); VAT is 1/11 of the VAT-inclusive total."""

    id: str
    seq: int
    invoice_number: str
    supply_amount: int
    vat_amount: int
    total_amount: int
    period_start: dt.date
    period_end: dt.date
    issued_at: Timestamp


class SalesFigures(Out):
    """``revenue`` = sales - refunds (chassis.money, as insights' revenue.net); ``net_sales`` adds the fees."""

    sales: int
    sales_count: int
    fees: int
    refunds: int
    revenue: int
    net_sales: int


class DaySales(SalesFigures):
    date: dt.date
    discounts: int = Field(description="what the partner's coupons took off (sales are already net of it)")
    commission: int


class ProductSales(SalesFigures):
    product_id: str | None
    product_name: str | None


class SalesTotals(SalesFigures):
    discounts: int
    commission: int


class SalesSummary(Out):
    model_config = ConfigDict(populate_by_name=True)
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    days: list[DaySales]
    products: list[ProductSales]
    totals: SalesTotals


class StatementPayout(Out):
    payout_id: str
    amount: int
    pay_date: dt.date


class StatementInvoice(Out):
    invoice_number: str | None
    supply_amount: int | None
    vat_amount: int | None
    total_amount: int | None


class Statement(PeriodFigures):
    partner_id: str
    payout: StatementPayout | None
    tax_invoice: StatementInvoice


class SettlementRun(Out):
    run_id: int
    period_end: dt.date
    created: bool = Field(description="false: the period was settled before; the run as it was")
    statements: list[Statement]


class CommissionRate(Out):
    model_config = examples(
        {"id": 7, "scope": "category", "subject": "salon", "rate_bps": 550, "effective_from": "2027-01-01"}
    )
    id: int
    scope: Literal["category", "partner"]
    subject: str
    rate_bps: int
    effective_from: dt.date


LedgerPage = Page[LedgerTransaction]
TaxInvoicePage = Page[TaxInvoice]
CommissionRatePage = Page[CommissionRate]
