"""The insights service (issue #11): entrypoints only; rules and definitions
live in domain.py, SQL in store.py.

Read models fed only by events (never another service's database):

- Customers per partner (``list_customers``; R-RSV-8 search) and segments
  for channel messages (``segment_customers``, R-NTF-3; the gateway resolves
  ``audience: segment`` through it into ``customers``); who a channel message
  reaches (``channel_audience``, asked by notifications), ticket holders included.
- Statistics per partner and period (``statistics``) and the dashboard
  section (``dashboard_summary``, R-ACC-11).
- Reviews of reservations and orders (``list_partner_reviews``,
  ``product_reviews``; R-RSV-6, R-ORD-9).

Events: ``chassis.contracts.INSIGHTS_EVENTS`` (the reservation.* and order.*
kinds that change a booking, an order or a review; handler ``on_<family>_<kind>``)
and ``customer.erased``. Every handler runs in the inbox transaction
(``db.consuming``), so a duplicate changes nothing; older events never move
a row back (domain.py). The first event naming a customer asks accounts for
their name and phone (``accounts.customer_contact``) before that transaction;
accounts being away makes the event retry later, never lose data.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from chassis import Actor, privacy
from chassis.consumer import handles
from chassis.contracts import INSIGHTS_EVENTS, CustomerErased, read_payload
from chassis.errors import NotFound
from chassis.logging import get_logger
from chassis.paging import decode_cursor, page
from chassis.rpc_contracts import ChannelAudience, ChannelAudienceQuery
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import domain, errors, store, views
from .schemas import CustomerQuery, DashboardRequest, ListQuery, PartnerReviewQuery, SegmentRequest, StatisticsQuery

log = get_logger(__name__)


def visited_since(days: int | None) -> datetime | None:
    """The start of "visited in the last ``days`` days" (None: no such filter)."""
    return datetime.now(domain.PARTNER_TIME_ZONE) - timedelta(days=days) if days else None


def start_of_day(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=domain.PARTNER_TIME_ZONE)


class InsightsService(DataService):
    name = "insights"

    # --- events ----------------------------------------------------------------------------

    @handles(*(kind for kind in INSIGHTS_EVENTS if kind != "customer.erased"))  # erasure: its own, below
    def _consume(self, event) -> None:
        """One reservation.* or order.* event into the read models."""
        payload = read_payload(event.type, event.payload).model_dump()
        partner_id, customer_id = payload["partner_id"], payload["customer_id"]
        fetched = self._contact_if_new(customer_id)
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # duplicate delivery: the inbox already has it
            store.lock_customer(uow, customer_id)
            if fetched is not None:
                store.remember_contact(uow, fetched)
            contact = store.contact(uow, customer_id)
            key = contact["pseudonym"] if contact and contact["erased"] else customer_id
            store.name_products(uow, partner_id, domain.products_named(event.type, payload), event.occurred_at)
            if event.type.startswith("reservation."):
                store.apply_booking(uow, domain.booking_fact(event.type, payload, event.occurred_at), key)
            else:
                store.apply_order(
                    uow,
                    domain.order_fact(event.type, payload, event.occurred_at),
                    key,
                    domain.order_product_shares(payload),
                )
            if event.type.endswith((".review_posted", ".review_replied")):
                review = domain.review_fact(event.type, payload, event.occurred_at)
                if review is None:
                    log.warning("review_event_without_review", event_type=event.type, event_id=str(event.event_id))
                else:
                    store.apply_review(uow, review, key, domain.author_of(contact, review["booker_name_masked"]))
            store.touch_customer(uow, partner_id, key, contact, event.occurred_at)
            store.refresh_customer(uow, partner_id, key)

    def _contact_if_new(self, customer_id: str) -> dict | None:
        """The contacts row of a customer seen for the first time (asked from
        accounts, outside any transaction), or None when insights knows them."""
        with self.db.transaction() as uow:
            if store.contact_known(uow, customer_id):
                return None
        if domain.is_pseudonym(customer_id):
            return domain.contact_row(customer_id, {"erased": True, "pseudonym": customer_id})
        try:
            answer = self.services.accounts.customer_contact(customer_id)
        except NotFound:
            answer = None  # not a customer accounts knows: listed without name or phone
        return domain.contact_row(customer_id, answer)

    @handles("customer.erased")
    def on_customer_erased(self, event):
        """R-ACC-3: name -> pseudonym, phone gone, counts and amounts stay; review authors pseudonymised."""
        payload = read_payload(event.type, event.payload, CustomerErased)
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            store.lock_customer(uow, payload.customer_id)
            moved = store.erase_customer(uow, payload.customer_id, payload.pseudonym)
        log.info("customer_pseudonymised", **moved)

    # --- customers (R-RSV-8, R-NTF-3) --------------------------------------------------------

    @rpc
    def list_customers(self, partner_id: str, query: dict | None = None) -> dict:
        """The partner's customers, most recent activity first; ``q`` a name or
        the last 4 phone digits, ``visited_within_days`` a recent visit."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(CustomerQuery, query)
        after = decode_cursor(q.cursor, datetime.fromisoformat, str)
        last4, name_part = privacy.search_terms(q.q)
        since = visited_since(q.visited_within_days)
        with self.db.transaction() as uow:
            rows = store.list_customers(
                uow, partner_id, last4=last4, name_part=name_part, visited_since=since, after=after, limit=q.limit
            )
        body = page(rows, q.limit, lambda r: (r["last_activity_at"].isoformat(), r["customer_id"]))
        body["items"] = [views.customer_view(r) for r in body["items"]]
        return body

    @rpc
    def segment_customers(self, partner_id: str, body: dict | None) -> dict:
        """``{"segment": {...}}`` -> the ids of the partner's customers in it
        (at most what one channel message may reach; never erased customers)."""
        partner_id = require_id(partner_id, "partner_id")
        segment = parse(SegmentRequest, body).segment
        since = visited_since(segment.visited_within_days)
        with self.db.transaction() as uow:
            ids = store.segment_customers(
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

    @rpc
    def channel_audience(self, partner_id: str, query: dict | None) -> dict:
        """Who a channel message reaches (R-NTF-3; ``ChannelAudienceQuery``), for
        notifications: insights owns who a partner's customers are (issue 19)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse(ChannelAudienceQuery, query)
        with self.db.transaction() as uow:
            if q.audience == "booked_on":
                ids = store.ticket_holders_on(uow, partner_id, q.use_date, domain.AWAITING_VISIT)
            else:
                ids = store.channel_customers(uow, partner_id, q.customer_ids if q.audience == "customers" else None)
        return ChannelAudience.of({"customer_ids": ids})

    # --- statistics (issue #11) and the dashboard (R-ACC-11) -----------------------------------

    @rpc
    def statistics(self, partner_id: str, query: dict | None = None, actor=None) -> dict:
        """Bookings and orders by state, cancellation and no-show rates, revenue
        by product and by day, busiest slots over ``from``..``to`` (partner-zone
        dates, inclusive; the current month by default). Definitions: domain.py.
        Revenue is left out unless the actor's role reads money (admins, masters)."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(StatisticsQuery, query)
        if (q.date_from is None) != (q.date_to is None):
            raise errors.invalid_field(
                "to" if q.date_to is None else "from", "give both 'from' and 'to', or neither (the current month)"
            )
        date_from, date_to = (
            (q.date_from, q.date_to)
            if q.date_from and q.date_to
            else domain.default_period(domain.today_in_partner_zone())
        )
        if problem := domain.period_problem(date_from, date_to):
            raise errors.invalid_field(*problem)
        with self.db.transaction() as uow:
            body = self._statistics(
                uow, partner_id, date_from, date_to, domain.may_see_money(Actor.from_wire(actor).role)
            )
        return views.jsonable(body)

    @staticmethod
    def _statistics(uow, partner_id: str, date_from, date_to, with_money: bool) -> dict:
        bookings = store.booking_groups(uow, partner_id, date_from, date_to)
        slots = store.busiest_slots(uow, partner_id, date_from, date_to, domain.BUSIEST_SLOTS)
        orders = store.order_groups(uow, partner_id, date_from, date_to)
        order_products = store.order_product_revenue(uow, partner_id, date_from, date_to) if with_money else []
        product_ids = sorted({r["product_id"] for r in [*bookings, *order_products] if r["product_id"]})
        names = store.product_names(uow, partner_id, product_ids) if with_money else {}
        return domain.statistics_view(date_from, date_to, bookings, slots, orders, order_products, names, with_money)

    @rpc
    def dashboard_summary(self, partner_id: str, role: str) -> dict:
        """The dashboard's insights section: customers, reviews and this month's
        bookings, orders and rates (revenue for admins and masters)."""
        partner_id = require_id(partner_id, "partner_id")
        role = parse(DashboardRequest, {"role": role}).role
        date_from, date_to = domain.default_period(domain.today_in_partner_zone())
        with self.db.transaction() as uow:
            stats = self._statistics(uow, partner_id, date_from, date_to, True)
            customers = store.customer_counts(uow, partner_id, start_of_day(date_from))
            reviews = store.partner_review_counts(uow, partner_id)
        month = {
            "bookings": stats["bookings"]["total"],
            "orders": stats["orders"]["total"],
            "cancellation_rate": stats["bookings"]["cancellation_rate"],
            "no_show_rate": stats["bookings"]["no_show_rate"],
            "revenue": stats["revenue"]["net"],
        }
        return views.jsonable(domain.dashboard_view(role, customers, reviews, month))

    # --- reviews (R-RSV-6, R-ORD-9) ---------------------------------------------------------------

    @rpc
    def list_partner_reviews(self, partner_id: str, query: dict | None = None) -> dict:
        """Reservation and order reviews of the partner, newest first;
        ``?product_id=`` and ``?replied=true|false``."""
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(PartnerReviewQuery, query)
        after = decode_cursor(q.cursor, datetime.fromisoformat, str)
        with self.db.transaction() as uow:
            rows = store.list_reviews(
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

    @rpc
    def product_reviews(self, product_id: str, query: dict | None = None) -> dict:
        """A product's reviews as the shop shows them (author masked), newest
        first, with its average rating and count. A product nobody reviewed
        (or unknown) has none: ``average`` null, ``count`` 0."""
        product_id = require_id(product_id, "product_id")
        q = parse_query(ListQuery, query)
        after = decode_cursor(q.cursor, datetime.fromisoformat, str)
        with self.db.transaction() as uow:
            rows = store.list_reviews(uow, product_id=product_id, after=after, limit=q.limit)
            rating = store.product_rating(uow, product_id)
        body = page(rows, q.limit, lambda r: (r["posted_at"].isoformat(), r["review_id"]))
        body["items"] = [views.review_view(r, partner=False) for r in body["items"]]
        return {**body, "product_id": product_id, **views.jsonable(rating)}
