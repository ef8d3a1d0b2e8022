"""The ledger in PostgreSQL, without the service around it: balanced and
append-only by construction (triggers), idempotent per source object and entry
kind, and settlement runs that always account for every won."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from settlement import domain, store
from settlement.tests.helpers import at, new_partner, order_event, reservation_event

START = date(2025, 1, 6)  # a Monday


def record(ledger, envelope) -> None:
    """What the event handler does, minus the inbox (so duplicates reach the ledger's own keys)."""
    payload = envelope.payload
    movements = domain.movements_for(envelope.type, payload, str(envelope.event_id))
    with ledger.uow() as uow:
        store.record_movements(uow, payload["partner_id"], movements, envelope, "customer-x")


def settle(ledger, partner_id: str, period_end: date) -> None:
    with ledger.uow() as uow:
        run = store.run_for_period(uow, period_end) or store.create_run(uow, period_end, "test")
        store.settle_period(uow, run["id"], period_end, partner_id)


def snapshot(ledger, partner_id: str) -> dict:
    with ledger.uow() as uow:
        return uow.fetch_one(
            """SELECT (SELECT count(*) FROM statements WHERE partner_id = %(p)s) AS statements,
                      (SELECT count(*) FROM statement_lines l JOIN statements s ON s.id = l.statement_id
                        WHERE s.partner_id = %(p)s) AS lines,
                      (SELECT coalesce(sum(amount), 0) FROM payouts WHERE partner_id = %(p)s) AS paid,
                      (SELECT count(*) FROM tax_invoices WHERE partner_id = %(p)s) AS invoices,
                      (SELECT count(*) FROM ledger_entries WHERE partner_id = %(p)s) AS entries""",
            {"p": partner_id},
        )


def check_invariants(ledger, partner_id: str, model: dict) -> None:
    with ledger.uow() as uow:
        assert store.unbalanced_transactions(uow, partner_id) == []
        last = store.last_statement(uow, partner_id)
        carried = last["carried_out"] if last else 0
        # R-STL-2: payouts plus the carried balance plus what is not settled yet = the ledger's net.
        assert store.payout_totals(uow, partner_id) + carried + store.unsettled_net(
            uow, partner_id
        ) == store.partner_net(uow, partner_id)
        totals = store.ledger_totals(uow, partner_id, date(2000, 1, 1), date(2100, 1, 1))
    gross = {k: sum(int(r[k]) for r in totals) for k in ("sales", "fees", "refunds")}
    assert gross == {k: model[k] for k in ("sales", "fees", "refunds")}


money_events = st.one_of(
    st.tuples(st.just("reservation_sale"), st.integers(0, 200_000)),
    st.tuples(st.just("order_sale"), st.lists(st.integers(1, 90_000), min_size=1, max_size=3)),
    st.tuples(st.just("partial_refund"), st.integers(0, 99), st.integers(1, 100)),
    st.tuples(st.just("partial_refund"), st.integers(0, 99), st.integers(60, 100)),  # refunds weigh more
    st.tuples(st.just("cancellation"), st.integers(0, 30_000)),
    st.tuples(st.just("next_day"), st.integers(1, 3)),
    st.tuples(st.just("duplicate"), st.integers(0, 999)),
)
# A period: some events, days passing, a settlement run, perhaps the same run again.
periods = st.tuples(st.lists(money_events, min_size=1, max_size=8), st.integers(0, 35), st.booleans())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(periods, min_size=1, max_size=6),
    schedule=st.sampled_from(["weekly", "monthly"]),
    delay=st.integers(0, 10),
    override_bps=st.one_of(st.none(), st.integers(0, 3000)),
)
def test_r_stl_2_payouts_plus_carried_balance_equal_the_ledger_net_and_reruns_change_nothing(
    ledger, history, schedule, delay, override_bps
):
    """Random sales, partial refunds, cancellations with fees, duplicates and
    settlement runs: after every step the ledger balances, payouts + carried
    balance + unsettled = the ledger's net, and a re-run or duplicate is a no-op."""
    partner = new_partner()  # a fresh partner per example: examples never see each other's rows
    with ledger.uow() as uow:
        store.remember_category(uow, partner, "salon", at(START))
        store.set_payout_schedule(uow, partner, schedule, delay)
        if override_bps is not None:
            store.add_rate(uow, "partner", partner, override_bps, date(2000, 1, 1))
    model = {"sales": 0, "fees": 0, "refunds": 0}
    orders: list[list] = []  # [order_id, total, refunded]
    published: list = []
    day, step = START, 0
    for events, days_after, rerun in history:
        for op, *args in events:
            step += 1
            envelope = None
            if op == "reservation_sale":
                envelope = reservation_event("completed", partner, f"R{step}", total=args[0], occurred_at=at(day))
                model["sales"] += args[0]
            elif op == "order_sale":
                lines = [(f"p{i}", f"P{i}", amount) for i, amount in enumerate(args[0])]
                envelope = order_event("completed", partner, f"O{step}", lines, occurred_at=at(day))
                orders.append([f"O{step}", sum(args[0]), 0])
                model["sales"] += sum(args[0])
            elif op == "partial_refund" and orders:
                order = orders[args[0] % len(orders)]
                amount = (order[1] - order[2]) * args[1] // 100
                if amount > 0:
                    envelope = order_event(
                        "refund_approved",
                        partner,
                        order[0],
                        [("p0", "P0", order[1])],
                        refund=amount,
                        request_id=f"rq{step}",
                        occurred_at=at(day),
                    )
                    order[2] += amount
                    model["refunds"] += amount
            elif op == "cancellation":
                envelope = reservation_event(
                    "cancelled", partner, f"R{step}", total=args[0] * 3, fee=args[0], occurred_at=at(day)
                )
                model["fees"] += args[0]
            elif op == "next_day":
                day += timedelta(days=args[0])
            elif op == "duplicate" and published:
                before = snapshot(ledger, partner)
                record(ledger, published[args[0] % len(published)])
                assert snapshot(ledger, partner) == before  # a duplicate event adds nothing
            if envelope is not None:
                record(ledger, envelope)
                published.append(envelope)
            check_invariants(ledger, partner, model)
        day += timedelta(days=days_after)
        period_end = day - timedelta(days=1)
        settle(ledger, partner, period_end)
        check_invariants(ledger, partner, model)
        closed_up_to = domain.schedule_period_end(schedule, period_end)
        assert (
            ledger.scalar(  # everything up to the partner's period end is settled now
                "SELECT count(*) FROM ledger_transactions t WHERE partner_id = %s AND business_date <= %s "
                "AND NOT EXISTS (SELECT 1 FROM statement_lines l WHERE l.transaction_id = t.id)",
                (partner, closed_up_to),
            )
            == 0
        )
        if rerun:
            before = snapshot(ledger, partner)
            settle(ledger, partner, period_end)
            assert snapshot(ledger, partner) == before  # re-running a period is a no-op
    with ledger.uow() as uow:  # R-STL-2: a fully refunded order leaves no commission behind
        kept = {
            r["source_ref"]: r["kept"]
            for r in uow.fetch_all(
                """SELECT t.source_ref, sum(e.credit - e.debit) AS kept FROM ledger_transactions t
               JOIN ledger_entries e ON e.transaction_id = t.id AND e.account = 'commission_revenue'
               WHERE t.partner_id = %s AND t.source = 'orders' GROUP BY t.source_ref""",
                (partner,),
            )
        }
    for order_id, total, refunded in orders:
        if refunded == total:
            assert kept.get(order_id, 0) == 0, order_id
    with ledger.uow() as uow:
        seqs = [
            r["seq"]
            for r in uow.fetch_all("SELECT seq FROM tax_invoices WHERE partner_id = %s ORDER BY seq", (partner,))
        ]
        periods = uow.fetch_all(
            "SELECT period_start, period_end FROM statements WHERE partner_id = %s ORDER BY period_end", (partner,)
        )
    event(f"statements: {min(len(seqs), 3)}+")
    assert seqs == list(range(1, len(seqs) + 1))  # R-STL-3: sequential per partner
    for earlier, later in pairwise(periods):
        assert later["period_start"] == earlier["period_end"] + timedelta(days=1)


def test_r_stl_1_ledger_refuses_updates_deletes_and_unbalanced_transactions(ledger):
    partner = new_partner()
    record(ledger, reservation_event("completed", partner, "R1", total=10000, occurred_at=at(START)))
    for sql in (
        "UPDATE ledger_entries SET credit = credit + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET kind = 'fee'",
        "DELETE FROM ledger_transactions",
        "TRUNCATE ledger_entries CASCADE",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"), ledger.uow() as uow:
            uow.execute(sql)
    with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"), ledger.uow() as uow:
        txn = store.insert_transaction(
            uow,
            partner,
            "manual:1",
            "sale",
            500,
            source="orders",
            source_ref="x",
            event_id="00000000-0000-0000-0000-000000000001",
            occurred_at=at(START),
        )
        uow.execute(
            "INSERT INTO ledger_entries (transaction_id, partner_id, account, debit) "
            "VALUES (%s, %s, 'customer_funds', 1)",
            (txn, partner),
        )
    # a transaction with no entries at all
    with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"), ledger.uow() as uow:
        uow.execute(
            "INSERT INTO ledger_transactions (partner_id, txn_key, kind, source, source_ref, "
            "source_event_id, business_date, occurred_at) VALUES (%s, 'lonely', 'sale', 'orders', "
            "'x', gen_random_uuid(), current_date, now())",
            (partner,),
        )
    assert ledger.scalar("SELECT count(*) FROM ledger_transactions") == 2  # sale + commission, nothing else


def test_r_stl_5_purge_removes_only_settled_records_older_than_five_years(ledger):
    partner = new_partner()
    old_day, recent_day = date(2019, 3, 4), date(2025, 3, 3)
    record(ledger, reservation_event("completed", partner, "OLD", total=10000, occurred_at=at(old_day)))
    settle(ledger, partner, old_day + timedelta(days=6))
    record(
        ledger, reservation_event("completed", partner, "OLD-LATE", total=500, occurred_at=at(old_day))
    )  # never settled
    record(ledger, reservation_event("completed", partner, "NEW", total=20000, occurred_at=at(recent_day)))
    settle(ledger, partner, recent_day + timedelta(days=6))
    with ledger.uow() as uow:
        removed = store.purge_expired(uow, domain.retention_cutoff(date(2026, 11, 26)))
    assert removed["statements"] == 1 and removed["payouts"] == 1 and removed["tax_invoices"] == 1
    assert removed["ledger_transactions"] == 2 and removed["ledger_entries"] == 4  # the old sale and its commission
    with ledger.uow() as uow:
        refs = {r["source_ref"] for r in uow.fetch_all("SELECT source_ref FROM ledger_transactions")}
        assert refs == {"OLD-LATE", "NEW"}  # unsettled money is never purged
        assert store.unbalanced_transactions(uow) == []
    # the purge switch does not outlive its transaction
    with pytest.raises(psycopg.errors.RestrictViolation), ledger.uow() as uow:
        uow.execute("DELETE FROM ledger_entries")
