"""Acceptance (issue 23), in a real browser: the payouts and tax-invoice pages for a settled period.

Sales and a refund reach settlement as events dated last week; an operator closes the week through the
operator's API route; the owner's 정산 shows the payout and the tax invoice (downloadable) with the API's
figures, 매출 the sales summary with its discounts, 원장 exports as CSV, the dashboard sums it up
(R-STL-1..4); a member sees none of it (R-ACC-11).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from settlement import domain
from settlement.tests.helpers import at, deliver, wait_until_settlement_knows, week_of_sales
from support.api import expect


@pytest.mark.timeout(480)
def test_R_STL_3_payouts_and_tax_invoices_of_a_settled_period_in_the_console(console, amqp_uri):
    site = console("settlement", service_config={"settlement": {"SCHEDULED_RUNS": False}})
    pc = site.pc
    cafe = pc.create_partner(category="cafe")
    member = pc.staff(cafe, "member")
    admin = cafe.admin.client
    wait_until_settlement_knows(pc, cafe.partner_id)
    today = domain.today_in_partner_zone()
    week_end = domain.schedule_period_end("weekly", today - timedelta(days=1))
    deliver(amqp_uri, week_of_sales(cafe.partner_id, week_end, "원두 200g", refunded_at=at(week_end)))
    run = expect(pc.operator().client.post("/v1/ops/settlement/runs", json={"period_end": week_end.isoformat()}), 201)
    assert any(s["partner_id"] == cafe.partner_id for s in run["statements"])
    payouts = expect(admin.get(f"{cafe.path}/payouts"), 200)
    invoice = expect(admin.get(f"{cafe.path}/tax-invoices"), 200)["items"][0]
    period = {"from": (week_end - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    summary = expect(admin.get(f"{cafe.path}/sales-summary", params=period), 200)
    ledger = expect(admin.get(f"{cafe.path}/ledger", params={**period, "limit": 200}), 200)["items"]
    dashboard = expect(admin.get(f"{cafe.path}/dashboard"), 200)["sections"]["settlement"]["sales"]
    assert payouts["items"][0]["payout"]["amount"] > 0 and summary["totals"]["sales"] == 120000
    site.play(
        "commerce_stories.money_story",
        partner_id=cafe.partner_id,
        admin_login=cafe.admin.login_id,
        member_login=member.login_id,
        payout=payouts["items"][0],
        upcoming=payouts["upcoming"],
        invoice=invoice,
        summary=summary,
        ledger_count=len(ledger),
        dashboard=dashboard,
    )
