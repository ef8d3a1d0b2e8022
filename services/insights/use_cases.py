"""The insights application layer (the shape of issue 19): what each event and
read does, and in which transaction.

It works through the ``Transactions`` of ``chassis.ports`` (every event in
the inbox transaction of the chassis, so a duplicate changes nothing), the
repository (``store.py``: explicit SQL, no rules), ``AccountsPort`` (a
customer's name and phone, asked the first time insights sees them and never
inside a transaction) and a clock, all handed in by service.py and replaced
by in-memory fakes in tests/test_use_cases.py. Definitions (rates, periods,
segments, what an older event may not undo) are domain.py's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chassis import privacy
from chassis.contracts import CustomerErased, read_payload
from chassis.errors import NotFound
from chassis.logging import get_logger
from chassis.paging import decode_cursor, page
from chassis.ports import UnitOfWork, Transactions
from chassis.rpc_contracts import ChannelAudience, ChannelAudienceQuery

from . import domain, errors, views
from .schemas import CustomerQuery, ListQuery, PartnerReviewQuery, Segment, StatisticsQuery

log = get_logger(__name__)

Row = dict[str, Any]
View = dict[str, Any]


class AccountsPort(Protocol):
    def customer_contact(self, customer_id: str) -> Row:
        """Name and phone, or ``erased``; NotFound for a customer accounts does not know."""
        ...


def _partner_now() -> dt.datetime:
    return dt.datetime.now(domain.PARTNER_TIME_ZONE)


@dataclass(eq=False)
class Insights:
    """One worker's use cases; ``store`` is the repository module (or a fake of it)."""

    db: Transactions
    store: Any
    accounts: AccountsPort
    now: Callable[[], dt.datetime] = _partner_now

    # --- events ------------------------------------------------------------------------------------

    def consume(self, event: Any) -> None:
        """One reservation.* or order.* event into the read models."""
        payload = read_payload(event.type, event.payload).model_dump()
        partner_id, customer_id = payload["partner_id"], payload["customer_id"]
        fetched = self._contact_if_new(customer_id)
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # duplicate delivery: the inbox already has it
            self.store.lock_customer(uow, customer_id)
            if fetched is not None:
                self.store.remember_contact(uow, fetched)
            contact = self.store.contact(uow, customer_id)
            key = contact["pseudonym"] if contact and contact["erased"] else customer_id
            self.store.name_products(uow, partner_id, domain.products_named(event.type, payload), event.occurred_at)
            self._apply_fact(uow, event, payload, key)
            if event.type.endswith((".review_posted", ".review_replied")):
                self._apply_review(uow, event, payload, key, contact)
            self.store.touch_customer(uow, partner_id, key, contact, event.occurred_at)
            self.store.refresh_customer(uow, partner_id, key)

    def _apply_fact(self, uow: UnitOfWork, event: Any, payload: Row, key: str) -> None:
        if event.type.startswith("reservation."):
            self.store.apply_booking(uow, domain.booking_fact(event.type, payload, event.occurred_at), key)
        else:
            fact = domain.order_fact(event.type, payload, event.occurred_at)
            self.store.apply_order(uow, fact, key, domain.order_product_shares(payload))

    def _apply_review(self, uow: UnitOfWork, event: Any, payload: Row, key: str, contact: Row | None) -> None:
        review = domain.review_fact(event.type, payload, event.occurred_at)
        if review is None:
            log.warning("review_event_without_review", event_type=event.type, event_id=str(event.event_id))
            return
        self.store.apply_review(uow, review, key, domain.author_of(contact, review["booker_name_masked"]))

    def _contact_if_new(self, customer_id: str) -> Row | None:
        """The contacts row of a customer seen for the first time (asked from
        accounts, outside any transaction), or None when insights knows them.
        Accounts being away makes the event retry later, never lose data."""
        with self.db.transaction() as uow:
            if self.store.contact_known(uow, customer_id):
                return None
        if domain.is_pseudonym(customer_id):
            return domain.contact_row(customer_id, {"erased": True, "pseudonym": customer_id})
        try:
            answer: Row | None = self.accounts.customer_contact(customer_id)
        except NotFound:
            answer = None  # not a customer accounts knows: listed without name or phone
        return domain.contact_row(customer_id, answer)

    def customer_erased(self, event: Any) -> None:
        """R-ACC-3: name -> pseudonym, phone gone, counts and amounts stay; review authors pseudonymised."""
        payload = read_payload(event.type, event.payload, CustomerErased)
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            self.store.lock_customer(uow, payload.customer_id)
            moved = self.store.erase_customer(uow, payload.customer_id, payload.pseudonym)
        log.info("customer_pseudonymised", **moved)

    # --- customers (R-RSV-8, R-NTF-3) ----------------------------------------------------------------

    def list_customers(self, partner_id: str, q: CustomerQuery) -> View:
        """The partner's customers, most recent activity first; ``q`` a name or
        the last 4 phone digits, ``visited_within_days`` a recent visit."""
        after = decode_cursor(q.cursor, dt.datetime.fromisoformat, str)
        last4, name_part = privacy.search_terms(q.q)
        since = self._visited_since(q.visited_within_days)
        with self.db.transaction() as uow:
            rows = self.store.list_customers(
                uow, partner_id, last4=last4, name_part=name_part, visited_since=since, after=after, limit=q.limit
            )
        body = page(rows, q.limit, lambda r: (r["last_activity_at"].isoformat(), r["customer_id"]))
        body["items"] = [views.customer_view(r) for r in body["items"]]
        return body

    def segment_customers(self, partner_id: str, segment: Segment) -> View:
        """The ids of the partner's customers in ``segment`` (at most what one
        channel message may reach; never erased customers)."""
        since = self._visited_since(segment.visited_within_days)
        with self.db.transaction() as uow:
            ids = self.store.segment_customers(
                uow,
                partner_id,
                visited_since=since,
                min_visits=segment.min_visits,
                min_total_spent=segment.min_total_spent,
                limit=domain.SEGMENT_MAX_CUSTOMERS + 1,
            )
        if len(ids) > domain.SEGMENT_MAX_CUSTOMERS:
            raise errors.segment_too_large(len(ids), domain.SEGMENT_MAX_CUSTOMERS)
        if not ids:
            raise errors.segment_empty()
        return {"customer_ids": ids, "count": len(ids), "segment": segment.model_dump(exclude_none=True)}

    def channel_audience(self, partner_id: str, q: ChannelAudienceQuery) -> View:
        """Who a channel message reaches (R-NTF-3), for notifications: insights
        owns who a partner's customers are (issue 19), ticket holders included."""
        with self.db.transaction() as uow:
            if q.audience == "booked_on":
                ids = self.store.ticket_holders_on(uow, partner_id, q.use_date, domain.AWAITING_VISIT)
            else:
                named = q.customer_ids if q.audience == "customers" else None
                ids = self.store.channel_customers(uow, partner_id, named)
        return ChannelAudience.of({"customer_ids": ids})

    def _visited_since(self, days: int | None) -> dt.datetime | None:
        """The start of "visited in the last ``days`` days" (None: no such filter)."""
        return self.now() - dt.timedelta(days=days) if days else None

    # --- statistics (issue #11) and the dashboard (R-ACC-11) -------------------------------------------

    def statistics(self, partner_id: str, q: StatisticsQuery, role: str | None) -> View:
        """Bookings and orders by state, cancellation and no-show rates, revenue
        by product and by day, busiest slots over ``from``..``to`` (partner-zone
        dates, inclusive; the current month by default). Definitions: domain.py.
        Revenue is left out unless the role reads money (admins, masters)."""
        if (q.date_from is None) != (q.date_to is None):
            raise errors.invalid_field(
                "to" if q.date_to is None else "from", "give both 'from' and 'to', or neither (the current month)"
            )
        if q.date_from and q.date_to:
            date_from, date_to = q.date_from, q.date_to
        else:
            date_from, date_to = domain.default_period(self._today())
        if problem := domain.period_problem(date_from, date_to):
            raise errors.invalid_field(*problem)
        with self.db.transaction() as uow:
            body = self._statistics(uow, partner_id, date_from, date_to, domain.may_see_money(role))
        result: View = views.jsonable(body)
        return result

    def _statistics(
        self, uow: UnitOfWork, partner_id: str, date_from: dt.date, date_to: dt.date, with_money: bool
    ) -> View:
        store, span = self.store, (partner_id, date_from, date_to)
        bookings = store.booking_groups(uow, *span)
        slots = store.busiest_slots(uow, *span, domain.BUSIEST_SLOTS)
        orders = store.order_groups(uow, *span)
        order_products = store.order_product_revenue(uow, *span) if with_money else []
        product_ids = sorted({r["product_id"] for r in [*bookings, *order_products] if r["product_id"]})
        names = self.store.product_names(uow, partner_id, product_ids) if with_money else {}
        return domain.statistics_view(date_from, date_to, bookings, slots, orders, order_products, names, with_money)

    def dashboard_summary(self, partner_id: str, role: str) -> View:
        """The dashboard's insights section: customers, reviews and this month's
        bookings, orders and rates (revenue for admins and masters)."""
        date_from, date_to = domain.default_period(self._today())
        with self.db.transaction() as uow:
            stats = self._statistics(uow, partner_id, date_from, date_to, True)
            customers = self.store.customer_counts(uow, partner_id, _start_of_day(date_from))
            reviews = self.store.partner_review_counts(uow, partner_id)
        month = {
            "bookings": stats["bookings"]["total"],
            "orders": stats["orders"]["total"],
            "cancellation_rate": stats["bookings"]["cancellation_rate"],
            "no_show_rate": stats["bookings"]["no_show_rate"],
            "revenue": stats["revenue"]["net"],
        }
        section: View = views.jsonable(domain.dashboard_view(role, customers, reviews, month))
        return section

    def _today(self) -> dt.date:
        return domain.today_in_partner_zone(self.now())

    # --- reviews (R-RSV-6, R-ORD-9) ------------------------------------------------------------------

    def list_partner_reviews(self, partner_id: str, q: PartnerReviewQuery) -> View:
        """Reservation and order reviews of the partner, newest first;
        ``?product_id=`` and ``?replied=true|false``."""
        after = decode_cursor(q.cursor, dt.datetime.fromisoformat, str)
        with self.db.transaction() as uow:
            rows = self.store.list_reviews(
                uow,
                partner_id=partner_id,
                product_id=q.product_id,
                replied=None if q.replied is None else q.replied == "true",
                after=after,
                limit=q.limit,
            )
        body = page(rows, q.limit, lambda r: (r["posted_at"].isoformat(), r["review_id"]))
        body["items"] = [views.review_view(r, partner=True) for r in body["items"]]
        return body

    def product_reviews(self, product_id: str, q: ListQuery) -> View:
        """A product's reviews as the shop shows them (author masked), newest
        first, with its average rating and count. A product nobody reviewed
        (or unknown) has none: ``average`` null, ``count`` 0."""
        after = decode_cursor(q.cursor, dt.datetime.fromisoformat, str)
        with self.db.transaction() as uow:
            rows = self.store.list_reviews(uow, product_id=product_id, after=after, limit=q.limit)
            rating = self.store.product_rating(uow, product_id)
        body = page(rows, q.limit, lambda r: (r["posted_at"].isoformat(), r["review_id"]))
        body["items"] = [views.review_view(r, partner=False) for r in body["items"]]
        return {**body, "product_id": product_id, **views.jsonable(rating)}


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=domain.PARTNER_TIME_ZONE)
