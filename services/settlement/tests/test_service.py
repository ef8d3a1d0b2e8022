"""The settlement service on the real broker and database: events in (with
duplicates), the ledger, runs, payouts, tax invoices, the sales summary and
the dashboard block, over RPC. (Through the gateway: test_api.py.)"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from nameko.testing.services import entrypoint_hook

from chassis.errors import Conflict, NotFound, ValidationFailed
from settlement import domain
from settlement.tests.helpers import at, days_ago, deliver, new_partner, order_event, partner_event, reservation_event


@pytest.fixture
def settlement(run_service):
    return run_service("settlement", SCHEDULED_RUNS=False, EVENT_RETRY_BASE_MS=50)


def sql(container, query, params=None):
    with psycopg.connect(container.config["DATABASE_URL"]) as conn:
        return conn.execute(query, params).fetchall()


def test_r_stl_1_sales_fees_and_refunds_enter_the_ledger_once_balanced_even_delivered_three_times(
    settlement, rpc, amqp_uri
):
    partner, other = new_partner(), new_partner()
    deliver(amqp_uri, [partner_event("registered", partner, "cafe")])  # cafe: 5% commission
    events = [
        reservation_event("completed", partner, "R1", total=30000, product=("p-a", "Latte class")),
        reservation_event(
            "cancelled", partner, "R2", total=20000, fee=4000, refund=16000, product=("p-a", "Latte class")
        ),
        reservation_event("cancelled", partner, "R3", total=20000, refund=20000),  # no fee: nothing earned
        order_event("completed", partner, "O1", [("p-a", "Latte class", 7000), ("p-b", "Beans", 3000)]),
        order_event("delivered", partner, "O1", [("p-a", "Latte class", 7000), ("p-b", "Beans", 3000)]),
        order_event(
            "refund_approved",
            partner,
            "O1",
            [("p-a", "Latte class", 7000), ("p-b", "Beans", 3000)],
            refund=3000,
            refunded_lines=["O1-l1"],
            request_id="rq-1",
        ),
        order_event("cancelled", partner, "O2", [("p-b", "Beans", 3000)]),  # R-ORD-5: never a sale
        reservation_event("completed", other, "X1", total=99000),
    ]
    deliver(amqp_uri, events, copies=3)  # every event delivered three times, concurrently

    ledger = rpc.settlement.list_ledger(partner, {"limit": "100"})
    got = sorted((t["kind"], t["source_ref"], t["amount"]) for t in ledger["items"])
    assert got == sorted(
        [
            ("sale", "R1", 30000),
            ("commission", "R1", 1500),
            ("fee", "R2", 4000),
            ("commission", "R2", 200),
            ("sale", "O1", 10000),
            ("commission", "O1", 500),
            ("refund", "O1", 3000),
            ("commission_reversal", "O1", 150),
        ]
    )
    assert sum(t["partner_effect"] for t in ledger["items"]) == 30000 - 1500 + 4000 - 200 + 10000 - 500 - 3000 + 150
    assert ledger["next_cursor"] is None
    for txn in ledger["items"]:  # every transaction balances
        assert sum(e["debit"] for e in txn["entries"]) == sum(e["credit"] for e in txn["entries"]) == txn["amount"]
    assert (
        sql(
            settlement,
            """SELECT transaction_id FROM ledger_entries GROUP BY transaction_id
                              HAVING sum(debit) <> sum(credit)""",
        )
        == []
    )
    # Tenancy: another partner's entries are not in this partner's ledger, and vice versa.
    assert {t["source_ref"] for t in rpc.settlement.list_ledger(other)["items"]} == {"X1"}
    # R-STL-5: pseudonymous references only, no customer id, name or phone anywhere in the ledger.
    dump = str(
        sql(settlement, "SELECT t.*, e.* FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id")
    )
    assert "cust-" not in dump and "김" not in dump and "customer-" in dump

    # Pagination: limit 3 then the rest, nothing lost or repeated.
    first = rpc.settlement.list_ledger(partner, {"limit": "3"})
    rest = rpc.settlement.list_ledger(partner, {"limit": "100", "cursor": first["next_cursor"]})
    assert [t["transaction_id"] for t in first["items"] + rest["items"]] == [
        t["transaction_id"] for t in ledger["items"]
    ]
    with pytest.raises(ValidationFailed) as bad:
        rpc.settlement.list_ledger(partner, {"limit": "many", "cursor": "%%%", "colour": "red"})
    assert set(bad.value.details["fields"]) == {"limit", "colour"}
    with pytest.raises(ValidationFailed) as bad_cursor:
        rpc.settlement.list_ledger(partner, {"cursor": "not-ours"})
    assert set(bad_cursor.value.details["fields"]) == {"cursor"}

    # R-STL-4: the sales summary by day and by product, and the dashboard block by role.
    today = domain.today_in_partner_zone()
    summary = rpc.settlement.sales_summary(partner, {"from": today.isoformat(), "to": today.isoformat()})
    assert summary["totals"] == {
        "sales": 40000,
        "sales_count": 2,
        "discounts": 0,
        "fees": 4000,
        "refunds": 3000,
        "commission": 2050,
        "revenue": 37000,
        "net_sales": 41000,
    }
    assert [(d["date"], d["net_sales"]) for d in summary["days"]] == [(today.isoformat(), 41000)]
    by_product = {p["product_id"]: (p["sales"], p["fees"], p["refunds"]) for p in summary["products"]}
    assert by_product == {"p-a": (37000, 4000, 0), "p-b": (3000, 0, 3000)}
    admin = rpc.settlement.dashboard_summary(partner, "admin")
    assert admin["sales"]["today"]["net_sales"] == 41000 and admin["sales"]["unsettled_balance"] == 38950
    assert admin["sales"]["next_payout"] is None
    assert rpc.settlement.dashboard_summary(partner, "member") == {
        "counts": {"sales_today": 2, "sales_month_to_date": 2}
    }
    with pytest.raises(ValidationFailed):
        rpc.settlement.dashboard_summary(partner, "operator")

    # The scheduler settles yesterday, once, and only when switched on (today's sales wait for tomorrow).
    runs = "SELECT period_end, actor FROM settlement_runs"
    with entrypoint_hook(settlement, "scheduled_run") as tick:
        tick()
        assert sql(settlement, runs) == []
        settlement.config["SCHEDULED_RUNS"] = True
        tick()
        tick()
    assert sql(settlement, runs) == [(today - timedelta(days=1), "scheduler")]
    assert rpc.settlement.dashboard_summary(partner, "admin")["sales"]["unsettled_balance"] == 38950


def test_r_stl_2_r_stl_3_runs_pay_positive_periods_carry_negative_ones_and_never_settle_twice(
    settlement, rpc, amqp_uri
):
    today = domain.today_in_partner_zone()
    week3_end = domain.schedule_period_end("weekly", today - timedelta(days=1))
    week2_end, week1_end = week3_end - timedelta(days=7), week3_end - timedelta(days=14)
    weekly, monthly = new_partner(), new_partner()
    deliver(amqp_uri, [partner_event("registered", weekly, "cafe"), partner_event("verified", monthly, "fashion")])
    assert rpc.settlement.set_payout_schedule(monthly, {"schedule": "monthly", "delay_days": 10}) == {
        "schedule": "monthly",
        "delay_days": 10,
    }
    # A partner override decided earlier, in force from week 2: week 1 keeps the cafe rate (5%).
    sql(
        settlement,
        "INSERT INTO commission_rates (scope, subject, rate_bps, effective_from) "
        "VALUES ('partner', %s, 1000, %s) RETURNING id",
        (weekly, week1_end + timedelta(days=1)),
    )
    with pytest.raises(ValidationFailed) as past:
        rpc.settlement.set_commission_rate(
            {"scope": "category", "subject": "cafe", "rate_bps": 700, "effective_from": today.isoformat()}
        )
    assert set(past.value.details["fields"]) == {"effective_from"}
    future = rpc.settlement.set_commission_rate(
        {
            "scope": "category",
            "subject": "cafe",
            "rate_bps": 700,
            "effective_from": (today + timedelta(days=1)).isoformat(),
        }
    )
    assert future["rate_bps"] == 700

    lines = [("p-a", "Latte class", 50000)]
    deliver(
        amqp_uri,
        [
            reservation_event("completed", weekly, "W1", total=100000, occurred_at=at(week1_end - timedelta(days=2))),
            order_event("completed", weekly, "O1", lines, occurred_at=at(week1_end - timedelta(days=1))),
            reservation_event("completed", monthly, "M1", total=80000, occurred_at=days_ago(45)),
        ],
    )
    first = rpc.settlement.run_settlement({"period_end": week1_end.isoformat()})
    mine = next(s for s in first["statements"] if s["partner_id"] == weekly)
    assert first["created"] is True
    assert (mine["sales"], mine["commission"], mine["net"], mine["carried_out"]) == (150000, 7500, 142500, 0)
    assert mine["payout"]["amount"] == 142500
    assert mine["payout"]["pay_date"] == domain.pay_date(week1_end, 3).isoformat()
    assert mine["tax_invoice"] == {
        "invoice_number": "TI-000001",
        "supply_amount": 6819,
        "vat_amount": 681,
        "total_amount": 7500,
    }
    counts = (
        "SELECT (SELECT count(*) FROM statements), (SELECT count(*) FROM payouts), (SELECT count(*) FROM tax_invoices)"
    )
    before = sql(settlement, counts)
    again = rpc.settlement.run_settlement({"period_end": week1_end.isoformat()})
    assert again["created"] is False and again["statements"] == first["statements"]
    assert sql(settlement, counts) == before  # running the same period twice changes nothing

    # A full refund arriving late for week 1 and a small week-2 sale (10%): a negative period, carried forward.
    deliver(
        amqp_uri,
        [
            order_event(
                "refund_approved",
                weekly,
                "O1",
                lines,
                refund=50000,
                request_id="rq-1",
                occurred_at=at(week1_end - timedelta(days=1)),
            ),
            reservation_event("completed", weekly, "W2", total=10000, occurred_at=at(week2_end - timedelta(days=3))),
        ],
    )
    second = next(
        s
        for s in rpc.settlement.run_settlement({"period_end": week2_end.isoformat()})["statements"]
        if s["partner_id"] == weekly
    )
    assert (second["period_start"], second["refunds"], second["commission"]) == (
        (week1_end + timedelta(days=1)).isoformat(),
        50000,
        1000 - 2500,
    )
    assert (second["payout"], second["carried_out"]) == (None, 10000 - 1000 - 50000 + 2500)
    assert second["tax_invoice"]["invoice_number"] == "TI-000002"

    deliver(
        amqp_uri,
        [reservation_event("completed", weekly, "W3", total=60000, occurred_at=at(week3_end - timedelta(days=1)))],
    )
    third = next(
        s
        for s in rpc.settlement.run_settlement({"period_end": week3_end.isoformat()})["statements"]
        if s["partner_id"] == weekly
    )
    assert (third["carried_in"], third["net"], third["payout"]["amount"]) == (-38500, 54000, 15500)

    with pytest.raises(Conflict) as closed:
        rpc.settlement.run_settlement({"period_end": (week3_end - timedelta(days=1)).isoformat()})
    assert closed.value.code == "period_already_closed"
    with pytest.raises(Conflict) as open_period:
        rpc.settlement.run_settlement({"period_end": today.isoformat()})
    assert open_period.value.code == "period_not_over"
    with pytest.raises(ValidationFailed) as invalid:
        rpc.settlement.run_settlement({"period_end": "yesterday", "partner_id": weekly})
    assert set(invalid.value.details["fields"]) == {"period_end", "partner_id"}

    payouts = rpc.settlement.list_payouts(weekly)
    assert [p["period_end"] for p in payouts["items"]] == [d.isoformat() for d in (week3_end, week2_end, week1_end)]
    assert [p["payout"] and p["payout"]["amount"] for p in payouts["items"]] == [15500, None, 142500]
    expected_status = "upcoming" if domain.pay_date(week3_end, 3) > today else "paid"
    assert payouts["items"][0]["payout"]["status"] == expected_status
    assert payouts["items"][2]["payout"]["status"] == "paid"
    assert payouts["schedule"] == {"schedule": "weekly", "delay_days": 3}
    assert payouts["unsettled_balance"] == 0
    page1 = rpc.settlement.list_tax_invoices(weekly, {"limit": "2"})
    page2 = rpc.settlement.list_tax_invoices(weekly, {"limit": "2", "cursor": page1["next_cursor"]})
    assert [i["invoice_number"] for i in page1["items"] + page2["items"]] == ["TI-000003", "TI-000002", "TI-000001"]
    assert page2["next_cursor"] is None

    # The monthly partner is settled once, to a month end, paid 10 days later (off weekends).
    monthly_payouts = rpc.settlement.list_payouts(monthly)["items"]
    assert len(monthly_payouts) == 1
    month_end = monthly_payouts[0]["period_end"]
    assert domain.schedule_period_end("monthly", domain.date.fromisoformat(month_end)).isoformat() == month_end
    assert (
        monthly_payouts[0]["payout"]["pay_date"]
        == domain.pay_date(domain.date.fromisoformat(month_end), 10).isoformat()
    )
    assert monthly_payouts[0]["payout"]["amount"] == 80000 - 80000 * 1200 // 10000  # fashion: 12%
    assert rpc.settlement.list_tax_invoices(weekly + "-nobody")["items"] == []
    with pytest.raises(NotFound):
        rpc.settlement.set_payout_schedule(weekly + "-nobody", {"schedule": "weekly", "delay_days": 1})
    assert rpc.settlement.purge_expired()["removed"]["ledger_transactions"] == 0  # nothing is 5 years old
