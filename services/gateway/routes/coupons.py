"""Coupon routes (issue #11): partners define coupons, issue them to customers
or publish a code, pause and resume them; customers list the coupons given to
them. Coupons live in the catalog (they are part of what is sold and its
price); a booking or an order redeems one with ``coupon_code`` or
``coupon_id`` in its body (reservations and orders routes).

Thin, like the catalog routes: the body goes to the catalog RPC as it came
(the service validates it, 422 naming the fields) with the partner from the
path; the service filters every query by that partner, so another partner's
coupon is a 404 there too. Managing is ``partner:manage`` (as products),
reading ``partner:read``.
"""

from __future__ import annotations

from chassis.validation import NoBody
from contract import coupons as c

from ..http import query_of, route
from .catalog import actor_of


class CouponsRoutes:
    @route(
        "POST",
        "/v1/partners/<pid>/coupons",
        access="partner:manage",
        body_model=c.CouponCreate,
        response_model=c.Coupon,
        status=201,
        errors={409: ["coupon_code_taken"]},
        summary="define a coupon: name, discount_type fixed (amount) or percent (percent, max_discount?), "
        "min_spend, starts_at/ends_at, product_ids (empty: all), total_limit, per_customer_limit, "
        "distribution code (with code) or issued; no product review, applies to the live price",
    )
    def create_coupon(self, request, pid):
        return 201, self.services.catalog.create_coupon(pid, request.json_body, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/coupons",
        access="partner:read",
        query_model=c.CouponListQuery,
        response_model=c.CouponPage,
        summary="the partner's coupons, newest first, with state, redeemed, remaining and issued counts",
    )
    def list_coupons(self, request, pid):
        return 200, self.services.catalog.list_coupons(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/coupons/<coupon_id>",
        access="partner:read",
        response_model=c.Coupon,
        errors={404: ["coupon_not_found"]},
        summary="one coupon: settings, state (active, paused, scheduled, expired, exhausted) and use",
    )
    def get_coupon(self, request, pid, coupon_id):
        return 200, self.services.catalog.get_coupon(pid, coupon_id)

    @route(
        "PATCH",
        "/v1/partners/<pid>/coupons/<coupon_id>",
        access="partner:manage",
        body_model=c.CouponPatch,
        response_model=c.Coupon,
        errors={404: ["coupon_not_found"], 409: ["limit_below_redeemed", "coupon_code_taken"]},
        summary="edit a coupon's settings (later redemptions only); 409 limit_below_redeemed, coupon_code_taken",
    )
    def update_coupon(self, request, pid, coupon_id):
        return 200, self.services.catalog.update_coupon(pid, coupon_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/coupons/<coupon_id>/issue",
        access="partner:manage",
        body_model=c.IssueIn,
        response_model=c.CouponIssued,
        errors={404: ["coupon_not_found"], 409: ["coupon_not_issuable"]},
        summary="give an issued coupon to customers {customer_ids}; 409 coupon_not_issuable for code coupons",
    )
    def issue_coupon(self, request, pid, coupon_id):
        return 200, self.services.catalog.issue_coupon(pid, coupon_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/coupons/<coupon_id>/pause",
        body_model=NoBody,
        access="partner:manage",
        response_model=c.Coupon,
        errors={404: ["coupon_not_found"]},
        summary="pause a coupon: new redemptions are refused with coupon_paused, taken ones stay",
    )
    def pause_coupon(self, request, pid, coupon_id):
        return 200, self.services.catalog.pause_coupon(pid, coupon_id, True, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/coupons/<coupon_id>/resume",
        body_model=NoBody,
        access="partner:manage",
        response_model=c.Coupon,
        errors={404: ["coupon_not_found"]},
        summary="resume a paused coupon",
    )
    def resume_coupon(self, request, pid, coupon_id):
        return 200, self.services.catalog.pause_coupon(pid, coupon_id, False, actor_of(request))

    @route(
        "GET",
        "/v1/shop/coupons",
        access="customer",
        query_model=c.CouponListQuery,
        response_model=c.CustomerCouponPage,
        summary="the coupons given to me (?partner_id=), their state and the uses left to me",
    )
    def shop_coupons(self, request):
        return 200, self.services.catalog.shop_list_coupons(request.principal.customer_id, query_of(request))
