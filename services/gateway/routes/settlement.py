"""Settlement routes (api.md, Settlement; R-STL-1..5).

Thin: query strings and bodies go to the settlement RPCs as they came, and the
service validates them (422 naming the fields) and filters by the partner.
Reading the ledger, payouts, tax invoices and the sales summary is for admins
and masters (``partner:finance``; the sales summary carries the same money
figures). Settlement runs, commission rates and payout schedules are for
operators. A run for a period already settled answers 200 with the run as it
was (nothing changed); a new run 201.
"""

from __future__ import annotations

from contract import settlement as c

from ..auth import actor_of
from ..http import query_of, route


class SettlementRoutes:
    @route(
        "GET",
        "/v1/partners/<pid>/ledger",
        access="partner:finance",
        query_model=c.DateRangeQuery,
        response_model=c.LedgerPage,
        description="Double-entry, append-only (R-STL-1): each transaction with its debit and credit entries, "
        "in business-date order; no customer data (R-STL-5).",
        summary="ledger transactions with their entries, ?from=&to= business dates (R-STL-1)",
    )
    def settlement_ledger(self, request, pid):
        return 200, self.services.settlement.list_ledger(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/payouts",
        access="partner:finance",
        query_model=c.ListQuery,
        response_model=c.Payouts,
        summary="settled periods with upcoming and past payouts, newest first (R-STL-2)",
    )
    def settlement_payouts(self, request, pid):
        return 200, self.services.settlement.list_payouts(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/tax-invoices",
        access="partner:finance",
        query_model=c.ListQuery,
        response_model=c.TaxInvoicePage,
        summary="tax invoices per settled period, numbered per partner (R-STL-3)",
    )
    def settlement_tax_invoices(self, request, pid):
        return 200, self.services.settlement.list_tax_invoices(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/sales-summary",
        access="partner:finance",
        query_model=c.SummaryQuery,
        response_model=c.SalesSummary,
        summary="sales, fees, refunds and commission by day and product, ?from=&to= (R-STL-4)",
    )
    def settlement_sales_summary(self, request, pid):
        return 200, self.services.settlement.sales_summary(pid, query_of(request))

    @route(
        "POST",
        "/v1/ops/settlement/runs",
        access="operator",
        body_model=c.RunRequest,
        response_model=c.SettlementRun,
        status=201,
        also_status=200,
        errors={409: ["period_not_over", "period_already_closed"]},
        summary="close the period ending period_end: payouts and tax invoices (R-STL-2, R-STL-3); 201 for "
        "a new run, 200 with the run as it was for a period already settled (created: false)",
    )
    def settlement_run(self, request):
        run = self.services.settlement.run_settlement(request.json_body, actor_of(request))
        return (201 if run["created"] else 200), run

    @route(
        "GET",
        "/v1/ops/settlement/commission-rates",
        access="operator",
        response_model=c.CommissionRatePage,
        summary="commission rates by category and partner overrides, effective-dated (R-STL-2)",
    )
    def settlement_commission_rates(self, request):
        return 200, self.services.settlement.list_commission_rates()

    @route(
        "POST",
        "/v1/ops/settlement/commission-rates",
        access="operator",
        body_model=c.RateRequest,
        response_model=c.CommissionRate,
        status=201,
        errors={404: ["partner_not_found"]},
        description="A category rate or a partner override in basis points, from a future date (422 naming "
        "effective_from otherwise); rates in force are effective-dated (R-STL-2).",
        summary="a new commission rate from a future date: scope, subject, rate_bps, effective_from; "
        "404 partner_not_found for a partner that does not exist",
    )
    def settlement_add_commission_rate(self, request):
        body = request.json_body
        if isinstance(body, dict) and body.get("scope") == "partner" and isinstance(body.get("subject"), str):
            self.services.accounts.partner_info(body["subject"])  # issue 18: 404 for a partner that does not exist
        return 201, self.services.settlement.set_commission_rate(body)

    @route(
        "PUT",
        "/v1/ops/partners/<pid>/payout-schedule",
        access="operator",
        body_model=c.ScheduleRequest,
        response_model=c.PayoutSchedule,
        errors={404: ["partner_not_found"]},
        description="Weekly or monthly periods, paid delay_days after the period ends (R-STL-2).",
        summary="a partner's payout schedule: weekly or monthly, delay_days after the period",
    )
    def settlement_payout_schedule(self, request, pid):
        return 200, self.services.settlement.set_payout_schedule(pid, request.json_body)
