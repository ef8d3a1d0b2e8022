"""Insights routes (issue #11): customers, statistics and reviews, served from
the insights service's read models (fed by events, so they trail the writes by
the time an event takes to arrive).

Thin: query strings go to the insights RPCs as they came (the service
validates them, 422 naming the fields) and it filters by the partner in the
path. Reading is ``partner:read``; the statistics' revenue block is left out
for the ``member`` role (money figures are for admins and masters, as the
ledger and the sales summary; the caller's role is passed on). Reviews of
reservations and orders are listed together here (the partner list used to be
orders' own); replying stays with the service that owns the review. A
product's public reviews need no token.
"""

from __future__ import annotations

from contract import insights as c

from ..auth import actor_of
from ..http import query_of, route

P = "/v1/partners/<pid>"


class InsightsRoutes:
    @route(
        "GET",
        f"{P}/customers",
        access="partner:read",
        query_model=c.CustomerQuery,
        response_model=c.CustomerPage,
        summary="customers who booked or ordered: masked phone, visits, last visit, total spent, coupon use; "
        "?q= name or last 4 phone digits, ?visited_within_days= (R-RSV-8, R-NTF-3)",
    )
    def insights_customers(self, request, pid):
        return 200, self.services.insights.list_customers(pid, query_of(request))

    @route(
        "GET",
        f"{P}/statistics",
        access="partner:read",
        query_model=c.StatisticsQuery,
        response_model=c.Statistics,
        description="Bookings and orders by state, cancellation and no-show rates, revenue (sales, refunds, "
        "fees, net) by product and by day, busiest slots, over from..to inclusive (partner-zone "
        "dates; both or neither). Revenue is left out for the member role.",
        summary="?from=&to= (partner-zone dates; the current month by default): bookings and orders by "
        "state, cancellation and no-show rates, revenue by product and day, busiest slots",
    )
    def insights_statistics(self, request, pid):
        return 200, self.services.insights.statistics(pid, query_of(request), actor_of(request))

    @route(
        "GET",
        f"{P}/reviews",
        access="partner:read",
        query_model=c.PartnerReviewQuery,
        response_model=c.PartnerReviewPage,
        summary="reservation and order reviews, newest first; ?product_id=&replied=true|false (R-RSV-6, R-ORD-9)",
    )
    def insights_partner_reviews(self, request, pid):
        return 200, self.services.insights.list_partner_reviews(pid, query_of(request))

    @route(
        "GET",
        "/v1/shop/products/<product_id>/reviews",
        access="public",
        query_model=c.ListQuery,
        response_model=c.ProductReviews,
        errors={404: ["product_not_found"]},
        summary="a product's reviews (author masked), newest first, with its average rating and count",
    )
    def insights_product_reviews(self, request, product_id):
        # insights knows reviews, not which products exist: an unknown product is a 404 (issue 15, defect 5)
        self.services.catalog.shop_get_product(product_id)
        return 200, self.services.insights.product_reviews(product_id, query_of(request))
