"""The settlement service: entrypoints only. They parse the input and call the
application layer (use_cases.py); rules live in domain.py, SQL in store.py.

Consumes completed sales, cancellation fees and refunds (R-STL-1), closes
periods into payouts and tax invoices (R-STL-2, R-STL-3), feeds the dashboard
(R-STL-4) and keeps its records 5 years whatever is erased elsewhere (R-STL-5,
R-ACC-5: it holds no personal data, so member.withdrawn and customer.erased
need no handler here).
"""

from __future__ import annotations

from datetime import date

from nameko.timer import timer

from chassis import Actor
from chassis.consumer import handles
from chassis.contracts import LEDGER_EVENTS
from chassis.errors import DomainError
from chassis.logging import get_logger
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import errors, store
from .schemas import DashboardRequest, DateRangeQuery, ListQuery, RateRequest, RunRequest, ScheduleRequest, SummaryQuery
from .use_cases import Settlement

log = get_logger(__name__)

SCHEDULER_INTERVAL_SECONDS = 300


class SettlementService(DataService):
    name = "settlement"

    @property
    def settlement(self) -> Settlement:
        """This worker's use cases, with its transactions."""
        return Settlement(self.db, store)

    # --- events: what enters the ledger (domain.py's table) -------------------

    @handles(*LEDGER_EVENTS)
    def _record(self, event):
        self.settlement.record(event)

    @handles("partner.registered", "partner.verified")
    def _remember_category(self, event):
        self.settlement.remember_category(event)

    # --- partner reads (R-STL-2, R-STL-3, R-STL-4) ------------------------------

    @rpc
    def list_ledger(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.list_ledger(partner_id, parse_query(DateRangeQuery, query))

    @rpc
    def list_payouts(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.list_payouts(partner_id, parse_query(ListQuery, query))

    @rpc
    def list_tax_invoices(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.list_tax_invoices(partner_id, parse_query(ListQuery, query))

    @rpc
    def sales_summary(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.sales_summary(partner_id, parse_query(SummaryQuery, query))

    @rpc
    def dashboard_summary(self, partner_id: str, role: str) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.dashboard_summary(partner_id, parse(DashboardRequest, {"role": role}).role)

    # --- operators ---------------------------------------------------------------

    @rpc
    def run_settlement(self, body: dict | None, actor=None) -> dict:
        return self.settlement.run_settlement(parse(RunRequest, body), Actor.from_wire(actor).recorded_as)

    @rpc
    def set_commission_rate(self, body: dict | None) -> dict:
        return self.settlement.set_commission_rate(parse(RateRequest, body))

    @rpc
    def list_commission_rates(self) -> dict:
        return self.settlement.list_commission_rates()

    @rpc
    def set_payout_schedule(self, partner_id: str, body: dict | None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.settlement.set_payout_schedule(partner_id, parse(ScheduleRequest, body))

    @rpc
    def purge_expired(self) -> dict:
        return self.settlement.purge_expired()

    # --- ops: reconciliation -------------------------------------------------------

    @rpc
    def ledger_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict:
        start, end = _parse_period(period_start, period_end)
        return self.settlement.ledger_totals(partner_id, start, end)

    # --- the scheduler ---------------------------------------------------------------

    @timer(interval=SCHEDULER_INTERVAL_SECONDS)
    def scheduled_run(self):
        """Settles yesterday and purges expired records (idempotent). Off with SCHEDULED_RUNS=false."""
        if str(self.config.get("SCHEDULED_RUNS", True)).lower() in ("false", "0", "no"):
            return
        try:
            self.settlement.settle_yesterday(Actor.system("scheduler").recorded_as)
        except DomainError as exc:  # e.g. an operator already closed a later period
            log.info("scheduled_run_skipped", code=exc.code, message=exc.message)


def _parse_period(period_start, period_end) -> tuple[date, date]:
    try:
        start, end = date.fromisoformat(period_start), date.fromisoformat(period_end)
    except (TypeError, ValueError):
        raise errors.invalid_field("period", "period_start and period_end are YYYY-MM-DD dates") from None
    if start > end:
        raise errors.invalid_field("period_start", "must not be after period_end")
    return start, end
