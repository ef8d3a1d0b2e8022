"""The settlement application layer (the shape of issue 19): what each event,
request and scheduler tick does, and in which transaction.

It works through the ``Transactions`` of ``chassis.ports`` (the inbox of the
chassis in the same transaction as the ledger rows, so a redelivered sale is
booked once), the repository (``store.py``: explicit SQL, no rules) and a
clock (``today``: the business date in the partner's zone), all handed in by
service.py and replaced by in-memory fakes in tests/test_use_cases.py. The
rules (postings, commission, periods, payouts, retention) are domain.py's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chassis.contracts import PartnerChanged, read_payload
from chassis.errors import NotFound
from chassis.jsonvalues import jsonable, pick
from chassis.paging import decode_cursor, page
from chassis.ports import Transactions
from chassis.privacy import pseudonym
from chassis.validation import parse

from . import domain, errors
from .schemas import DateRangeQuery, ListQuery, RateRequest, RunRequest, ScheduleRequest, SummaryQuery

Row = dict[str, Any]
View = dict[str, Any]
MAX_SUMMARY_DAYS = 366


@dataclass(eq=False)
class Settlement:
    """One worker's use cases; ``store`` is the repository module (or a fake of it)."""

    db: Transactions
    store: Any
    today: Callable[[], dt.date] = domain.today_in_partner_zone

    # --- events: what enters the ledger (domain.py's table, R-STL-1) ----------------------------

    def record(self, event: Any) -> None:
        payload = read_payload(event.type, event.payload).model_dump()
        movements = domain.movements_for(event.type, payload, str(event.event_id))
        # Pseudonymous reference only: no customer id, name or phone in the ledger (R-STL-5).
        customer_ref = pseudonym("customer", payload["customer_id"])
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # duplicate delivery: the inbox already has it
            self.store.record_movements(uow, payload["partner_id"], movements, event, customer_ref)

    def remember_category(self, event: Any) -> None:
        """The partner's category picks its commission rate (R-STL-2)."""
        payload = read_payload(event.type, event.payload, PartnerChanged)
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            self.store.remember_category(uow, payload.partner_id, payload.category, event.occurred_at)

    # --- partner reads (R-STL-2, R-STL-3, R-STL-4) ----------------------------------------------

    def list_ledger(self, partner_id: str, q: DateRangeQuery) -> View:
        """Ledger transactions with their entries, by business date (``from``/``to`` inclusive)."""
        after = decode_cursor(q.cursor, dt.date.fromisoformat, int)
        with self.db.transaction() as uow:
            rows = self.store.list_transactions(uow, partner_id, q.date_from, q.date_to, after, q.limit + 1)
        for row in rows:
            row["transaction_id"] = row.pop("id")
            row["amount"] = sum(e["debit"] for e in row["entries"])
            row["partner_effect"] = domain.partner_effect(row["kind"], row["amount"])
        return page(rows, q.limit, lambda last: (last["business_date"], last["transaction_id"]), jsonable)

    def list_payouts(self, partner_id: str, q: ListQuery) -> View:
        """Upcoming and past payouts, newest period first: one item per settled
        period, with ``payout`` null when its balance was carried forward; plus
        the payout schedule, the balance not settled yet and ``upcoming``: the
        next payout's period end, pay date and the amount it will carry as the
        ledger stands now (issue 18 item 14, domain.upcoming_payout)."""
        before = decode_cursor(q.cursor, int)
        today = self.today()
        with self.db.transaction() as uow:
            rows = self.store.list_payouts(uow, partner_id, before[0] if before else None, q.limit + 1)
            schedule = self.store.payout_schedule(uow, partner_id)
            unsettled = self.store.unsettled_net(uow, partner_id)
            last = self.store.last_statement(uow, partner_id)
        body = page([_payout_item(row, today) for row in rows], q.limit, lambda item: (item["statement_id"],), jsonable)
        # What the next runs will settle: sales not in any statement yet, net of commission and refunds.
        body["schedule"] = schedule
        body["unsettled_balance"] = unsettled
        upcoming = domain.upcoming_payout(schedule, today, unsettled, last["carried_out"] if last else 0)
        body["upcoming"] = jsonable(
            {
                "period_end": upcoming.period_end,
                "pay_date": upcoming.pay_date,
                "amount": upcoming.amount,
                "status": "estimated",
            }
        )
        return body

    def list_tax_invoices(self, partner_id: str, q: ListQuery) -> View:
        before = decode_cursor(q.cursor, int)
        with self.db.transaction() as uow:
            rows = self.store.list_tax_invoices(uow, partner_id, before[0] if before else None, q.limit + 1)
        return page(rows, q.limit, lambda last: (last["seq"],), jsonable)

    def sales_summary(self, partner_id: str, q: SummaryQuery) -> View:
        """Sales, fees, refunds, commission and revenue (chassis.money's definition,
        as insights') by day and by product (R-STL-4); defaults to the current
        month. ``discounts`` (by day) is what the partner's coupons took off its
        sales (issue #11): sales are already net of it."""
        date_to = q.date_to or self.today()
        date_from = q.date_from or date_to.replace(day=1)
        if (date_to - date_from).days >= MAX_SUMMARY_DAYS or date_from > date_to:
            raise errors.invalid_field("from", "a summary covers 1 to 366 days, from before to")
        with self.db.transaction() as uow:
            days = self.store.sales_by_day(uow, partner_id, date_from, date_to)
            products = self.store.sales_by_product(uow, partner_id, date_from, date_to)
        for row in [*days, *products]:
            _add_revenue(row)
        summary: View = jsonable(
            {"from": date_from, "to": date_to, "days": days, "products": products, "totals": _totals(days)}
        )
        return summary

    def dashboard_summary(self, partner_id: str, role: str) -> View:
        """The dashboard's sales and settlement block for a viewer's role (R-STL-4, R-ACC-11)."""
        today = self.today()
        with self.db.transaction() as uow:
            days = self.store.sales_by_day(uow, partner_id, today.replace(day=1), today)
            upcoming, last = self.store.next_and_last_payout(uow, partner_id, today)
            unsettled = self.store.unsettled_net(uow, partner_id)
        figures = {
            "today": _totals([d for d in days if d["date"] == today]),
            "month_to_date": _totals(days),
            "next_payout": upcoming,
            "last_payout": last,
            "unsettled_balance": unsettled,
        }
        block: View = jsonable(domain.dashboard_view(role, figures))
        return block

    # --- operators and the scheduler --------------------------------------------------------------

    def run_settlement(self, request: RunRequest, recorded_as: str) -> View:
        """Close a period (R-STL-2, R-STL-3), recording who ran it (an operator,
        the scheduler). The same period again returns the run as it was,
        ``created`` false, with nothing changed."""
        today = self.today()
        if not domain.run_period_allowed(request.period_end, today):
            raise errors.period_not_over(request.period_end, today)
        with self.db.transaction() as uow:
            self.store.lock_runs(uow)  # one run at a time: sequential invoice numbers, no double statements
            run = self.store.run_for_period(uow, request.period_end)
            created = run is None
            if run is None:
                latest = self.store.latest_run_end(uow)
                if latest is not None and request.period_end < latest:
                    raise errors.period_already_closed(request.period_end, latest)
                run = self.store.create_run(uow, request.period_end, recorded_as)
                assert run is not None  # INSERT ... RETURNING gives the row
                self.store.settle_period(uow, run["id"], request.period_end)
            statements = self.store.run_statements(uow, run["id"])
        result: View = jsonable(
            {
                "run_id": run["id"],
                "period_end": run["period_end"],
                "created": created,
                "statements": [_statement_view(s) for s in statements],
            }
        )
        return result

    def set_commission_rate(self, request: RateRequest) -> View:
        """A new category rate or partner override from a future date (R-STL-2)."""
        today = self.today()
        if not domain.rate_change_allowed(request.effective_from, today):
            raise errors.rate_change_in_past(request.effective_from, today)
        with self.db.transaction() as uow:
            rate = self.store.add_rate(uow, request.scope, request.subject, request.rate_bps, request.effective_from)
        added: View = jsonable(rate)
        return added

    def list_commission_rates(self) -> View:
        with self.db.transaction() as uow:
            return {"items": jsonable(self.store.list_rates(uow)), "next_cursor": None}

    def set_payout_schedule(self, partner_id: str, request: ScheduleRequest) -> View:
        with self.db.transaction() as uow:
            schedule: Row | None = self.store.set_payout_schedule(uow, partner_id, request.schedule, request.delay_days)
        if schedule is None:
            raise NotFound("partner_not_found", "no such partner")
        return schedule

    def purge_expired(self) -> View:
        """Remove settled records past the 5-year retention (R-STL-5, R-ACC-5)."""
        cutoff = domain.retention_cutoff(self.today())
        with self.db.transaction() as uow:
            counts = self.store.purge_expired(uow, cutoff)
        return {"cutoff": cutoff.isoformat(), "removed": counts}

    def settle_yesterday(self, recorded_as: str) -> None:
        """The scheduler's tick: settles yesterday and purges expired records;
        idempotent, so every tick after the first of the day changes nothing."""
        yesterday = self.today() - dt.timedelta(days=1)
        self.run_settlement(parse(RunRequest, {"period_end": yesterday.isoformat()}), recorded_as)
        self.purge_expired()

    # --- ops: reconciliation ----------------------------------------------------------------------

    def ledger_totals(self, partner_id: str | None, start: dt.date, end: dt.date) -> View:
        """Gross sales, fees and refunds per partner and source service over
        business dates, for ``settlement.reconcile``: ``{partner_id:
        {"reservations": {...}, "orders": {...}}}``."""
        with self.db.transaction() as uow:
            rows = self.store.ledger_totals(uow, partner_id, start, end)
        totals: View = {}
        for row in rows:
            totals.setdefault(row["partner_id"], {})[row["source"]] = {
                "sales": int(row["sales"]),
                "fees": int(row["fees"]),
                "refunds": int(row["refunds"]),
            }
        return totals


def _payout_item(row: Row, today: dt.date) -> View:
    payout = None
    if row["payout_id"] is not None:
        payout = {
            "payout_id": row["payout_id"],
            "amount": row["payout_amount"],
            "pay_date": row["pay_date"],
            "status": "upcoming" if row["pay_date"] > today else "paid",
        }
    figures = {k: row[k] for k in ("sales", "fees", "refunds", "commission", "net", "carried_in", "carried_out")}
    return {
        "statement_id": row["statement_id"],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        **figures,
        "payout": payout,
        "invoice_number": row["invoice_number"],
    }


def _totals(days: list[Row]) -> Row:
    keys = ("sales", "sales_count", "discounts", "fees", "refunds", "commission")
    return _add_revenue({k: sum(int(d[k]) for d in days) for k in keys})


def _add_revenue(row: Row) -> Row:
    """``revenue``: sales less refunds, the one definition of chassis.money that
    insights' ``revenue.net`` shares (issue 18); ``net_sales`` adds the fees kept."""
    row["revenue"] = int(row["sales"]) - int(row["refunds"])
    row["net_sales"] = row["revenue"] + int(row["fees"])
    return row


STATEMENT_FIGURES = (
    "partner_id",
    "period_start",
    "period_end",
    "sales",
    "fees",
    "refunds",
    "commission",
    "net",
    "carried_in",
    "carried_out",
)


def _statement_view(row: Row) -> View:
    payout = (
        {"payout_id": row["payout_id"], "amount": row["payout_amount"], "pay_date": row["pay_date"]}
        if row["payout_id"]
        else None
    )
    invoice = pick(row, "invoice_number", "supply_amount", "vat_amount", "total_amount")
    return {**{k: row[k] for k in STATEMENT_FIGURES}, "payout": payout, "tax_invoice": invoice}
