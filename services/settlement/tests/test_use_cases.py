"""The settlement use cases in memory (the shape of issue 19): fakes of the unit
of work, the repository and the clock; no RabbitMQ or PostgreSQL. Closing a
period (not before it is over, once, never behind a later one), the
scheduler's tick for yesterday, and a summary's range checked before any
query. The ledger's SQL, concurrency and redelivery are in test_service,
test_ledger_store and test_api against the real database."""

from __future__ import annotations

import datetime as dt

import pytest

from chassis.errors import Conflict, ValidationFailed
from chassis.fakes import InMemoryTransactions
from chassis.validation import parse, parse_query
from settlement.schemas import RunRequest, SummaryQuery
from settlement.use_cases import Settlement

TODAY = dt.date(2026, 5, 20)


class FakeStore:
    """store.py's run and summary functions over dicts."""

    def __init__(self):
        self.runs, self.settled, self.purged, self.queries = {}, [], [], []

    def lock_runs(self, tx):
        pass

    def run_for_period(self, tx, period_end):
        return self.runs.get(period_end)

    def latest_run_end(self, tx):
        return max(self.runs, default=None)

    def create_run(self, tx, period_end, recorded_as):
        self.runs[period_end] = {"id": len(self.runs) + 1, "period_end": period_end, "by": recorded_as}
        return self.runs[period_end]

    def settle_period(self, tx, run_id, period_end):
        self.settled.append(period_end)

    def run_statements(self, tx, run_id):
        return []

    def purge_expired(self, tx, cutoff):
        self.purged.append(cutoff)
        return {"transactions": 0}

    def sales_by_day(self, tx, partner_id, date_from, date_to):
        self.queries.append((date_from, date_to))
        return []

    def sales_by_product(self, tx, partner_id, date_from, date_to):
        return []


def world():
    store = FakeStore()
    return Settlement(InMemoryTransactions(store), store, today=lambda: TODAY), store


def run(settlement, period_end, by="operator-1"):
    return settlement.run_settlement(parse(RunRequest, {"period_end": period_end.isoformat()}), by)


def test_a_period_is_closed_once_and_the_same_run_is_answered_again():
    settlement, store = world()
    first = run(settlement, TODAY - dt.timedelta(days=1))
    again = run(settlement, TODAY - dt.timedelta(days=1), by="operator-2")
    assert (first["created"], again["created"]) == (True, False)
    assert again["run_id"] == first["run_id"]
    assert store.settled == [TODAY - dt.timedelta(days=1)]  # R-STL-3: never settled twice


def test_a_period_not_over_yet_or_behind_a_closed_one_is_refused_and_nothing_is_settled():
    settlement, store = world()
    with pytest.raises(Conflict) as not_over:
        run(settlement, TODAY)
    assert not_over.value.code == "period_not_over"
    run(settlement, TODAY - dt.timedelta(days=1))
    with pytest.raises(Conflict) as behind:
        run(settlement, TODAY - dt.timedelta(days=5))
    assert behind.value.code == "period_already_closed"
    assert store.settled == [TODAY - dt.timedelta(days=1)]


def test_the_scheduler_settles_yesterday_as_the_scheduler_and_purges():
    settlement, store = world()
    settlement.settle_yesterday("scheduler")
    settlement.settle_yesterday("scheduler")  # every tick after the first of the day changes nothing
    yesterday = TODAY - dt.timedelta(days=1)
    assert store.settled == [yesterday] and store.runs[yesterday]["by"] == "scheduler"
    assert len(store.purged) == 2 and store.purged[0] < TODAY.replace(year=TODAY.year - 4)  # R-STL-5: 5 years kept


def test_a_summary_defaults_to_this_month_and_refuses_a_range_over_a_year_before_any_query():
    settlement, store = world()
    summary = settlement.sales_summary("p-1", parse_query(SummaryQuery, {}))
    assert (summary["from"], summary["to"]) == ("2026-05-01", "2026-05-20")
    with pytest.raises(ValidationFailed) as too_long:
        settlement.sales_summary("p-1", parse_query(SummaryQuery, {"from": "2025-01-01", "to": "2026-05-20"}))
    assert "from" in too_long.value.details["fields"]
    assert store.queries == [(dt.date(2026, 5, 1), TODAY)]
