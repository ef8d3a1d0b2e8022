"""The insights use cases in memory (the shape of issue 19): fakes of the unit of
work with an inbox, the repository and accounts; no RabbitMQ or PostgreSQL.
A customer's contact asked of accounts once, never inside a transaction and
never for an erased one; a duplicate event changing nothing; a period or a
segment refused before (or instead of) anything is read. The read models'
SQL is tested across processes in test_api and the orders and gateway suites."""

from __future__ import annotations

import datetime as dt
import pytest

from chassis.errors import NotFound, ValidationFailed
from chassis.fakes import InMemoryTransactions
from chassis.privacy import pseudonym
from chassis.validation import parse, parse_query
from insights.schemas import SegmentRequest, StatisticsQuery
from insights.use_cases import Insights
from notifications.tests.support import event, reservation

NOW = dt.datetime(2026, 5, 20, 12, 0, tzinfo=dt.UTC)


class FakeStore:
    """store.py's functions over dicts (only those these use cases reach)."""

    def __init__(self):
        self.contacts, self.bookings, self.reads, self.segment = {}, [], [], []

    def contact_known(self, tx, customer_id):
        return customer_id in self.contacts

    def lock_customer(self, tx, customer_id):
        pass

    def remember_contact(self, tx, row):
        self.contacts.setdefault(row["customer_id"], row)

    def contact(self, tx, customer_id):
        return self.contacts.get(customer_id)

    def name_products(self, tx, partner_id, names, occurred_at):
        pass

    def apply_booking(self, tx, fact, key):
        self.bookings.append((key, fact["status"]))

    def touch_customer(self, tx, partner_id, key, contact, occurred_at):
        pass

    def refresh_customer(self, tx, partner_id, key):
        pass

    def segment_customers(self, tx, partner_id, *, visited_since, min_visits, min_total_spent, limit):
        self.reads.append(visited_since)
        return self.segment[:limit]

    def booking_groups(self, tx, *span):
        self.reads.append(span)
        return []


class FakeAccounts:
    def __init__(self, db, known=True):
        self.db, self.known, self.asked = db, known, []

    def customer_contact(self, customer_id):
        assert self.db.open == 0, "accounts asked inside a transaction"
        self.asked.append(customer_id)
        if not self.known:
            raise NotFound("customer_not_found", "no such customer")
        return {"customer_id": customer_id, "name": "김하온", "phone": "01012345678", "erased": False}


def world(known=True):
    store = FakeStore()
    db = InMemoryTransactions(store)
    accounts = FakeAccounts(db, known)
    return Insights(db, store, accounts, now=lambda: NOW), store, accounts


def booked(customer_id):
    return event("reservation.requested", reservation("p-1", customer_id))


def test_a_new_customer_is_asked_of_accounts_once_and_a_duplicate_event_changes_nothing():
    insights, store, accounts = world()
    first = booked("c-1")
    insights.consume(first)
    insights.consume(first)  # redelivered
    insights.consume(booked("c-1"))  # another booking of the same customer
    assert accounts.asked == ["c-1"]
    assert store.contacts["c-1"]["name"] == "김하온"
    assert store.bookings == [("c-1", "requested"), ("c-1", "requested")]


def test_an_erased_customer_is_not_asked_of_accounts_and_is_kept_under_the_pseudonym():
    insights, store, accounts = world()
    erased = pseudonym("customer", "c-2")
    insights.consume(booked(erased))
    assert accounts.asked == []
    assert store.contacts[erased]["erased"] and store.bookings == [(erased, "requested")]


def test_a_customer_accounts_does_not_know_is_listed_without_name_or_phone():
    insights, store, accounts = world(known=False)
    insights.consume(booked("c-3"))
    assert accounts.asked == ["c-3"]
    assert (store.contacts["c-3"]["name"], store.contacts["c-3"]["phone"]) == (None, None)


def test_half_a_period_is_refused_naming_the_missing_end_before_anything_is_read():
    insights, store, _ = world()
    with pytest.raises(ValidationFailed) as half:
        insights.statistics("p-1", parse_query(StatisticsQuery, {"from": "2026-05-01"}), "admin")
    assert "to" in half.value.details["fields"]
    assert store.reads == []


def test_a_segment_counts_visits_from_the_clock_and_is_refused_when_empty_or_too_large():
    insights, store, _ = world()
    segment = parse(SegmentRequest, {"segment": {"visited_within_days": 30}}).segment
    with pytest.raises(ValidationFailed) as empty:
        insights.segment_customers("p-1", segment)
    assert "no customer" in empty.value.details["fields"]["segment"]
    assert store.reads == [NOW - dt.timedelta(days=30)]
    store.segment = [f"c-{n}" for n in range(1001)]
    with pytest.raises(ValidationFailed) as too_large:
        insights.segment_customers("p-1", segment)
    assert too_large.value.details["matched"] == 1001
    store.segment = ["c-1", "c-2"]
    assert insights.segment_customers("p-1", segment)["count"] == 2
