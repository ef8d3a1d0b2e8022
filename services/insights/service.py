"""The insights service (issue #11): entrypoints only. They parse the input and
call the application layer (use_cases.py); rules and definitions live in
domain.py, SQL in store.py.

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

from chassis import Actor
from chassis.consumer import handles
from chassis.contracts import INSIGHTS_EVENTS
from chassis.rpc_contracts import ChannelAudienceQuery
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import store
from .schemas import CustomerQuery, DashboardRequest, ListQuery, PartnerReviewQuery, SegmentRequest, StatisticsQuery
from .use_cases import Insights


class InsightsService(DataService):
    name = "insights"

    @property
    def insights(self) -> Insights:
        """This worker's use cases, with its transactions and accounts' RPC proxy."""
        return Insights(self.db, store, self.services.accounts)

    # --- events ----------------------------------------------------------------------------

    @handles(*(kind for kind in INSIGHTS_EVENTS if kind != "customer.erased"))  # erasure: its own, below
    def _consume(self, event) -> None:
        self.insights.consume(event)

    @handles("customer.erased")
    def on_customer_erased(self, event):
        self.insights.customer_erased(event)

    # --- customers (R-RSV-8, R-NTF-3) --------------------------------------------------------

    @rpc
    def list_customers(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.insights.list_customers(partner_id, parse_query(CustomerQuery, query))

    @rpc
    def segment_customers(self, partner_id: str, body: dict | None) -> dict:
        """``{"segment": {...}}`` -> the ids of the partner's customers in it."""
        partner_id = require_id(partner_id, "partner_id")
        return self.insights.segment_customers(partner_id, parse(SegmentRequest, body).segment)

    @rpc
    def channel_audience(self, partner_id: str, query: dict | None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.insights.channel_audience(partner_id, parse(ChannelAudienceQuery, query))

    # --- statistics (issue #11) and the dashboard (R-ACC-11) -----------------------------------

    @rpc
    def statistics(self, partner_id: str, query: dict | None = None, actor=None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        q = parse_query(StatisticsQuery, query)
        return self.insights.statistics(partner_id, q, Actor.from_wire(actor).role)

    @rpc
    def dashboard_summary(self, partner_id: str, role: str) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.insights.dashboard_summary(partner_id, parse(DashboardRequest, {"role": role}).role)

    # --- reviews (R-RSV-6, R-ORD-9) ---------------------------------------------------------------

    @rpc
    def list_partner_reviews(self, partner_id: str, query: dict | None = None) -> dict:
        partner_id = require_id(partner_id, "partner_id")
        return self.insights.list_partner_reviews(partner_id, parse_query(PartnerReviewQuery, query))

    @rpc
    def product_reviews(self, product_id: str, query: dict | None = None) -> dict:
        product_id = require_id(product_id, "product_id")
        return self.insights.product_reviews(product_id, parse_query(ListQuery, query))
