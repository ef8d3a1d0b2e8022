"""Pure rules of settlement (no broker, no database)."""

from datetime import UTC, date, datetime

import pytest

from settlement import domain
from settlement.domain import COMMISSION_REVENUE, CUSTOMER_FUNDS, PARTNER_PAYABLE, Entry


def test_r_stl_1_every_kind_posts_balanced_entries_and_moves_the_partner_net_its_way():
    for kind in domain.POSTING_RULES:
        entries = domain.postings(kind, 700)
        assert sum(e.debit for e in entries) == sum(e.credit for e in entries) == 700
    assert domain.postings("sale", 100) == [Entry(CUSTOMER_FUNDS, 100, 0), Entry(PARTNER_PAYABLE, 0, 100)]
    assert domain.postings("commission", 10) == [Entry(PARTNER_PAYABLE, 10, 0), Entry(COMMISSION_REVENUE, 0, 10)]
    effects = {kind: domain.partner_effect(kind, 100) for kind in domain.POSTING_RULES}
    assert effects == {"sale": 100, "fee": 100, "refund": -100, "commission": -100, "commission_reversal": 100}
    with pytest.raises(ValueError):
        domain.postings("sale", 0)


def test_r_stl_1_which_events_make_which_movements():
    reservation = {
        "reservation_number": "R1",
        "product_id": "p1",
        "product_name": "Cut",
        "total": 30000,
        "fee_amount": 0,
        "customer_id": "c1",
        "partner_id": "P",
        "status": "completed",
    }
    (sale,) = domain.movements_for("reservation.completed", reservation, "e1")
    assert (sale.kind, sale.amount, sale.key, sale.source) == ("sale", 30000, "reservation:R1:sale", "reservations")
    assert domain.movements_for("reservation.cancelled", reservation, "e2") == []  # no fee, nothing earned
    (fee,) = domain.movements_for("reservation.cancelled", {**reservation, "fee_amount": 3000}, "e3")
    assert (fee.kind, fee.amount, fee.key) == ("fee", 3000, "reservation:R1:fee:e3")
    assert domain.movements_for("reservation.confirmed", reservation, "e4") == []
    assert domain.movements_for("reservation.completed", {**reservation, "total": 0}, "e5") == []  # free booking

    lines = [
        {
            "line_id": "l1",
            "product_id": "a",
            "product_name": "A",
            "unit_price": 3000,
            "quantity": 1,
            "amount": 3000,
            "refunded_quantity": 0,
        },
        {
            "line_id": "l2",
            "product_id": "b",
            "product_name": "B",
            "unit_price": 500,
            "quantity": 2,
            "amount": 1000,
            "refunded_quantity": 0,
        },
    ]
    order = {
        "order_id": "O1",
        "status": "completed",
        "total": 4000,
        "lines": lines,
        "refund_amount": 0,
        "refunded_line_ids": [],
        "request_id": None,
    }
    completed = domain.movements_for("order.completed", order, "e6")
    delivered = domain.movements_for("order.delivered", order, "e7")
    assert completed[0].key == delivered[0].key == "order:O1:sale"  # R-ORD-3: one sale, whichever event
    assert [(p.product_id, p.amount) for p in completed[0].products] == [("a", 3000), ("b", 1000)]
    refund_of_b = {
        **order,
        "refund_amount": 500,
        "refunded_line_ids": ["l2"],
        "request_id": "rq1",
        "refund_products": [{"product_id": "b", "amount": 500}],
    }
    (refund,) = domain.movements_for("order.refund_approved", refund_of_b, "e8")
    assert (refund.kind, refund.key, [(p.product_id, p.amount) for p in refund.products]) == (
        "refund",
        "order:O1:refund:rq1",
        [("b", 500)],
    )
    assert domain.movements_for("order.cancelled", order, "e9") == []  # R-ORD-5: never after completion


def test_r_stl_1_a_refund_before_completion_is_booked_with_the_sale_never_alone():
    lines = [
        {
            "line_id": "l1",
            "product_id": "a",
            "product_name": "A",
            "unit_price": 37500,
            "quantity": 2,
            "amount": 75000,
            "refunded_quantity": 1,
        }
    ]
    order = {
        "order_id": "O2",
        "status": "preparing_shipment",
        "total": 75000,
        "lines": lines,
        "refund_amount": 37500,
        "refunded_total": 37500,
        "refunded_line_ids": ["l1"],
        "request_id": "rq2",
        "refund_products": [{"product_id": "a", "amount": 37500}],
    }
    assert domain.movements_for("order.refund_approved", order, "e1") == []  # no sale yet: nothing booked
    assert domain.movements_for("order.cancelled", {**order, "status": "cancelled"}, "e2") == []
    sale, refund = domain.movements_for("order.delivered", {**order, "status": "completed", "refund_amount": 0}, "e3")
    assert (sale.kind, sale.amount, refund.kind, refund.amount, refund.key) == (
        "sale",
        75000,
        "refund",
        37500,
        "order:O2:refund:before_completion",
    )


def test_r_stl_2_commission_kept_is_the_commission_on_what_the_customer_kept():
    assert domain.commission_for(12345, 800) == 987
    taken = domain.commission_for(10001, 333)
    refunded, given_back = 0, 0
    for part in (1, 2999, 3001, 4000):
        given_back += domain.commission_reversal_for(10001, refunded, part, 333)
        refunded += part
        assert taken - given_back == domain.commission_for(10001 - refunded, 333) >= 0
    assert refunded == 10001 and given_back == taken
    assert domain.commission_reversal_for(500, 500, 500, 1000) == 0  # nothing left to give back


def test_r_stl_2_a_rate_change_only_starts_in_the_future():
    today = date(2026, 3, 10)
    assert domain.rate_change_allowed(date(2026, 3, 11), today)
    assert not domain.rate_change_allowed(today, today)
    assert not domain.rate_change_allowed(date(2026, 3, 1), today)


def test_r_stl_2_statement_pays_a_positive_total_and_carries_a_negative_one():
    paid = domain.statement_figures(
        {"sale": 10000, "fee": 1000, "refund": -2000, "commission": -1100, "commission_reversal": 200}, carried_in=-3000
    )
    assert (paid.sales, paid.fees, paid.refunds, paid.commission, paid.net) == (10000, 1000, 2000, 900, 8100)
    assert (paid.payout_amount, paid.carried_out) == (5100, 0)
    clawback = domain.statement_figures({"refund": -5000, "commission_reversal": 500}, carried_in=-100)
    assert (clawback.net, clawback.payout_amount, clawback.carried_out) == (-4500, 0, -4600)


def test_r_stl_2_payout_schedule_periods_and_pay_dates():
    wednesday = date(2026, 11, 25)
    assert domain.schedule_period_end("weekly", wednesday) == date(2026, 11, 22)  # last Sunday
    assert domain.schedule_period_end("weekly", date(2026, 11, 22)) == date(2026, 11, 22)
    assert domain.schedule_period_end("monthly", wednesday) == date(2026, 10, 31)
    assert domain.schedule_period_end("monthly", date(2026, 11, 30)) == date(2026, 11, 30)
    assert domain.pay_date(date(2026, 11, 22), 3) == date(2026, 11, 25)
    assert domain.pay_date(date(2026, 11, 22), 6) == date(2026, 11, 30)  # Saturday -> Monday
    assert domain.run_period_allowed(date(2026, 11, 25), today=date(2026, 11, 26))
    assert not domain.run_period_allowed(date(2026, 11, 26), today=date(2026, 11, 26))


def test_r_stl_3_tax_invoice_amounts_include_vat_and_numbers_are_sequential():
    assert domain.invoice_amounts(1100) == domain.InvoiceAmounts(1000, 100, 1100)
    assert domain.invoice_amounts(-1100) == domain.InvoiceAmounts(-1000, -100, -1100)
    assert domain.invoice_amounts(0) == domain.InvoiceAmounts(0, 0, 0)
    assert [domain.invoice_number(n) for n in (1, 2)] == ["TI-000001", "TI-000002"]


def test_r_stl_5_retention_cutoff_is_five_years():
    assert domain.retention_cutoff(date(2026, 11, 26)) == date(2021, 11, 26)
    assert domain.retention_cutoff(date(2028, 2, 29)) == date(2023, 2, 28)


def test_business_date_is_the_partner_zone_day():
    assert domain.business_date(datetime(2026, 1, 1, 15, 30, tzinfo=UTC)) == date(2026, 1, 2)


def test_r_stl_4_members_see_sales_counts_not_money():
    figures = {
        "today": {"sales": 5, "sales_count": 1},
        "month_to_date": {"sales": 9, "sales_count": 2},
        "next_payout": {"amount": 3},
        "last_payout": None,
        "unsettled_balance": 4,
    }
    counts = {"sales_today": 1, "sales_month_to_date": 2}
    assert domain.dashboard_view("admin", figures) == {"counts": counts, "sales": figures}
    assert domain.dashboard_view("member", figures) == {"counts": counts}


def test_r_stl_2_the_upcoming_payout_is_the_period_holding_today_with_what_is_unsettled():
    wednesday = date(2026, 12, 2)
    weekly = domain.upcoming_payout({"schedule": "weekly", "delay_days": 3}, wednesday, 50000, -8000)
    assert (weekly.period_end, weekly.pay_date, weekly.amount) == (date(2026, 12, 6), date(2026, 12, 9), 42000)
    monthly = domain.upcoming_payout({"schedule": "monthly", "delay_days": 10}, wednesday, 1000, -5000)
    assert (monthly.period_end, monthly.pay_date, monthly.amount) == (date(2026, 12, 31), date(2027, 1, 11), 0)
    assert domain.next_period_end("weekly", date(2026, 12, 6)) == date(2026, 12, 6)  # a Sunday closes itself
