"""The settlement service: entrypoints only; rules live in domain.py, SQL in store.py.

Consumes completed sales, cancellation fees and refunds (R-STL-1), closes
periods into payouts and tax invoices (R-STL-2, R-STL-3), feeds the dashboard
(R-STL-4) and keeps its records 5 years whatever is erased elsewhere (R-STL-5,
R-ACC-5: it holds no personal data, so member.withdrawn and customer.erased
need no handler here).
"""

from __future__ import annotations

from datetime import date, timedelta

from nameko.timer import timer

from chassis import Actor
from chassis.consumer import handles
from chassis.contracts import LEDGER_EVENTS, PartnerChanged, read_payload
from chassis.errors import DomainError, NotFound
from chassis.jsonvalues import jsonable, pick
from chassis.logging import get_logger
from chassis.paging import decode_cursor, page
from chassis.privacy import pseudonym
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import domain, errors, store
from .schemas import DashboardRequest, DateRangeQuery, ListQuery, RateRequest, RunRequest, ScheduleRequest, SummaryQuery

log = get_logger(__name__)

SCHEDULER_INTERVAL_SECONDS = 300


class SettlementService(DataService):
    name = "settlement"

    # --- events: what enters the ledger (domain.py's table) -------------------

    @handles(*LEDGER_EVENTS)
    def _record(self, event):
        payload = read_payload(event.type, event.payload).model_dump()
        movements = domain.movements_for(event.type, payload, str(event.event_id))
        # Pseudonymous reference only: no customer id, name or phone in the ledger (R-STL-5).
        customer_ref = pseudonym("customer", payload["customer_id"])
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # duplicate delivery: the inbox already has it
            store.record_movements(uow, payload["partner_id"], movements, event, customer_ref)

    @handles("partner.registered", "partner.verified")
    def _remember_category(self, event):
        payload = read_payload(event.type, event.payload, PartnerChanged)
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            store.remember_category(uow, payload.partner_id, payload.category, event.occurred_at)

    # --- partner reads (R-STL-2, R-STL-3, R-STL-4) ------------------------------

    @rpc
    def list_ledger(self, partner_id: str, query: dict | None = None) -> dict:
        """Ledger transactions with their entries, by business date (``from``/``to`` inclusive)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(DateRangeQuery, query)
        after = decode_cursor(q.cursor, date.fromisoformat, int)
        with self.db.transaction() as uow:
            rows = store.list_transactions(uow, partner_id, q.date_from, q.date_to, after, q.limit + 1)
        for row in rows:
            row["transaction_id"] = row.pop("id")
            row["amount"] = sum(e["debit"] for e in row["entries"])
            row["partner_effect"] = domain.partner_effect(row["kind"], row["amount"])
        return page(rows, q.limit, lambda last: (last["business_date"], last["transaction_id"]), jsonable)

    @rpc
    def list_payouts(self, partner_id: str, query: dict | None = None) -> dict:
        """Upcoming and past payouts, newest period first: one item per settled
        period, with ``payout`` null when its balance was carried forward; plus
        the payout schedule, the balance not settled yet and ``upcoming``: the
        next payout's period end, pay date and the amount it will carry as the
        ledger stands now (issue 18 item 14, domain.upcoming_payout)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(ListQuery, query)
        before = decode_cursor(q.cursor, int)
        today = domain.today_in_partner_zone()
        with self.db.transaction() as uow:
            rows = store.list_payouts(uow, partner_id, before[0] if before else None, q.limit + 1)
            schedule = store.payout_schedule(uow, partner_id)
            unsettled = store.unsettled_net(uow, partner_id)
            last = store.last_statement(uow, partner_id)
        items = [self._payout_item(row, today) for row in rows]
        body = page(items, q.limit, lambda last: (last["statement_id"],), jsonable)
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

    @staticmethod
    def _payout_item(row: dict, today: date) -> dict:
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

    @rpc
    def list_tax_invoices(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(ListQuery, query)
        before = decode_cursor(q.cursor, int)
        with self.db.transaction() as uow:
            rows = store.list_tax_invoices(uow, partner_id, before[0] if before else None, q.limit + 1)
        return page(rows, q.limit, lambda last: (last["seq"],), jsonable)

    @rpc
    def sales_summary(self, partner_id: str, query: dict | None = None) -> dict:
        """Sales, fees, refunds, commission and revenue (chassis.money's definition,
        as insights') by day and by product (R-STL-4); defaults to the current month. ``discounts`` (by day) is what the
        partner's coupons took off its sales (issue #11): sales are already net of it."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(SummaryQuery, query)
        today = domain.today_in_partner_zone()
        date_to = q.date_to or today
        date_from = q.date_from or date_to.replace(day=1)
        if (date_to - date_from).days >= 366 or date_from > date_to:
            raise errors.invalid_field("from", "a summary covers 1 to 366 days, from before to")
        with self.db.transaction() as uow:
            days = store.sales_by_day(uow, partner_id, date_from, date_to)
            products = store.sales_by_product(uow, partner_id, date_from, date_to)
        for row in [*days, *products]:
            _add_revenue(row)
        return jsonable({"from": date_from, "to": date_to, "days": days, "products": products, "totals": _totals(days)})

    @rpc
    def dashboard_summary(self, partner_id: str, role: str) -> dict:
        """The dashboard's sales and settlement block for a viewer's role (R-STL-4, R-ACC-11)."""
        partner_id = require_id(partner_id, "partner_id")
        role = parse(DashboardRequest, {"role": role}).role
        today = domain.today_in_partner_zone()
        with self.db.transaction() as uow:
            days = store.sales_by_day(uow, partner_id, today.replace(day=1), today)
            upcoming, last = store.next_and_last_payout(uow, partner_id, today)
            unsettled = store.unsettled_net(uow, partner_id)
        figures = {
            "today": _totals([d for d in days if d["date"] == today]),
            "month_to_date": _totals(days),
            "next_payout": upcoming,
            "last_payout": last,
            "unsettled_balance": unsettled,
        }
        return jsonable(domain.dashboard_view(role, figures))

    # --- operators ---------------------------------------------------------------

    @rpc
    def run_settlement(self, body: dict | None, actor=None) -> dict:
        """Close a period (R-STL-2, R-STL-3), recording who ran it (an operator,
        the scheduler). The same period again returns the run as it was,
        ``created`` false, with nothing changed."""
        request = parse(RunRequest, body)
        today = domain.today_in_partner_zone()
        if not domain.run_period_allowed(request.period_end, today):
            raise errors.period_not_over(request.period_end, today)
        with self.db.transaction() as uow:
            store.lock_runs(uow)  # one run at a time: sequential invoice numbers, no double statements
            run = store.run_for_period(uow, request.period_end)
            created = run is None
            if run is None:
                latest = store.latest_run_end(uow)
                if latest is not None and request.period_end < latest:
                    raise errors.period_already_closed(request.period_end, latest)
                run = store.create_run(uow, request.period_end, Actor.from_wire(actor).recorded_as)
                assert run is not None  # INSERT ... RETURNING gives the row
                store.settle_period(uow, run["id"], request.period_end)
            statements = store.run_statements(uow, run["id"])
        return jsonable(
            {
                "run_id": run["id"],
                "period_end": run["period_end"],
                "created": created,
                "statements": [_statement_view(s) for s in statements],
            }
        )

    @rpc
    def set_commission_rate(self, body: dict | None) -> dict:
        """A new category rate or partner override from a future date (R-STL-2)."""
        request = parse(RateRequest, body)
        today = domain.today_in_partner_zone()
        if not domain.rate_change_allowed(request.effective_from, today):
            raise errors.rate_change_in_past(request.effective_from, today)
        with self.db.transaction() as uow:
            return jsonable(
                store.add_rate(uow, request.scope, request.subject, request.rate_bps, request.effective_from)
            )

    @rpc
    def list_commission_rates(self) -> dict:
        with self.db.transaction() as uow:
            return {"items": jsonable(store.list_rates(uow)), "next_cursor": None}

    @rpc
    def set_payout_schedule(self, partner_id: str, body: dict | None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        request = parse(ScheduleRequest, body)
        with self.db.transaction() as uow:
            schedule = store.set_payout_schedule(uow, partner_id, request.schedule, request.delay_days)
        if schedule is None:
            raise NotFound("partner_not_found", "no such partner")
        return schedule

    @rpc
    def purge_expired(self) -> dict:
        """Remove settled records past the 5-year retention (R-STL-5, R-ACC-5)."""
        cutoff = domain.retention_cutoff(domain.today_in_partner_zone())
        with self.db.transaction() as uow:
            counts = store.purge_expired(uow, cutoff)
        return {"cutoff": cutoff.isoformat(), "removed": counts}

    # --- ops: reconciliation -------------------------------------------------------

    @rpc
    def ledger_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict:
        """Gross sales, fees and refunds per partner and source service over
        business dates, for ``settlement.reconcile``: ``{partner_id:
        {"reservations": {...}, "orders": {...}}}``."""
        start, end = _parse_period(period_start, period_end)
        with self.db.transaction() as uow:
            rows = store.ledger_totals(uow, partner_id, start, end)
        totals: dict = {}
        for row in rows:
            totals.setdefault(row["partner_id"], {})[row["source"]] = {
                "sales": int(row["sales"]),
                "fees": int(row["fees"]),
                "refunds": int(row["refunds"]),
            }
        return totals

    # --- the scheduler ---------------------------------------------------------------

    @timer(interval=SCHEDULER_INTERVAL_SECONDS)
    def scheduled_run(self):
        """Settles yesterday and purges expired records; idempotent, so every
        tick after the first of the day is a no-op. Off with SCHEDULED_RUNS=false."""
        if str(self.config.get("SCHEDULED_RUNS", True)).lower() in ("false", "0", "no"):
            return
        yesterday = domain.today_in_partner_zone() - timedelta(days=1)
        try:
            self.run_settlement({"period_end": yesterday.isoformat()}, Actor.system("scheduler"))
            self.purge_expired()
        except DomainError as exc:  # e.g. an operator already closed a later period
            log.info("scheduled_run_skipped", code=exc.code, message=exc.message)


def _totals(days: list[dict]) -> dict:
    keys = ("sales", "sales_count", "discounts", "fees", "refunds", "commission")
    return _add_revenue({k: sum(int(d[k]) for d in days) for k in keys})


def _add_revenue(row: dict) -> dict:
    """``revenue``: sales less refunds, the one definition of chassis.money that
    insights' ``revenue.net`` shares (issue 18); ``net_sales`` adds the fees kept."""
    row["revenue"] = int(row["sales"]) - int(row["refunds"])
    row["net_sales"] = row["revenue"] + int(row["fees"])
    return row


def _statement_view(row: dict) -> dict:
    payout = (
        {"payout_id": row["payout_id"], "amount": row["payout_amount"], "pay_date": row["pay_date"]}
        if row["payout_id"]
        else None
    )
    invoice = pick(row, "invoice_number", "supply_amount", "vat_amount", "total_amount")
    figures = {
        k: row[k]
        for k in (
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
    }
    return {**figures, "payout": payout, "tax_invoice": invoice}


def _parse_period(period_start, period_end) -> tuple[date, date]:
    try:
        start, end = date.fromisoformat(period_start), date.fromisoformat(period_end)
    except (TypeError, ValueError):
        raise errors.invalid_field("period", "period_start and period_end are YYYY-MM-DD dates") from None
    if start > end:
        raise errors.invalid_field("period_start", "must not be after period_end")
    return start, end
