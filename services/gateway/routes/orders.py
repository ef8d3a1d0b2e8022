"""Orders routes (api.md, Orders): customers order and follow their orders;
partners run the order board, shipments, refunds, exchanges, inquiries and
reviews (R-ORD-1..9).

Thin: the body goes to the orders RPC as it came (the service validates it,
422 naming the fields) with the caller; the service re-checks that the order
is the partner's or the customer's own (404 otherwise). ``Idempotency-Key``
is forwarded as it came; the service requires it on order creation and
honours it on the customer's other POSTs (refund and exchange requests,
inquiries, reviews).
"""

from __future__ import annotations

from chassis.errors import NotFound, ServiceUnavailable
from chassis.reviews import ReplyIn
from chassis.validation import NoBody
from contract.orders import (
    AnswerIn,
    CourierPage,
    CustomerOrderDetailOut,
    CustomerOrderPage,
    ExchangeApproveIn,
    ExchangeRequestIn,
    InquiryIn,
    InquiryOut,
    InquiryPage,
    ListQuery,
    OrderChangeIn,
    OrderCreate,
    OrderOut,
    OrderRequestOut,
    OrderRequestPage,
    OrderReviewOut,
    PartnerOrderDetailOut,
    PartnerOrderPage,
    ReasonIn,
    ReasonRequired,
    RefundRequestIn,
    ReplyOut,
    RequestListQuery,
    ReviewIn,
    ShipmentCorrectionIn,
    ShipmentIn,
    StartPreparingIn,
)

from ..auth import actor_of, require_person
from ..http import query_of, route
from ..identity_models import OrderPhoneOut
from ..ratelimit import RateLimitedRoutes


def _key(request) -> str | None:
    return request.headers.get("Idempotency-Key")


class OrdersRoutes(RateLimitedRoutes):
    # --- customers (the consumer app) -------------------------------------------------

    @route(
        "POST",
        "/v1/shop/orders",
        access="customer",
        body_model=OrderCreate,
        response_model=OrderOut,
        status=201,
        idempotency="required",
        rate_limit="order",  # per customer (issue 16), counted before the body is read
        errors={
            404: ["product_not_found", "coupon_not_found"],
            409: [
                "out_of_stock",
                "capacity_exhausted",
                "partner_not_open",
                "product_unavailable",
                "sale_not_started",
                "sale_ended",
                "coupon_not_issued",
                "coupon_not_started",
                "coupon_expired",
                "coupon_paused",
                "coupon_exhausted",
                "coupon_limit_reached",
                "coupon_min_spend",
                "coupon_not_applicable",
                "idempotency_key_reused",
            ],
            503: ["order_creation_interrupted"],
        },
        summary="order (Idempotency-Key required), coupon_code or coupon_id optional; 409 out_of_stock, "
        "partner_not_open, coupon_* refusals (R-ORD-1, R-ORD-6, R-ACC-8, issue #11)",
    )
    def orders_create_order(self, request):
        principal = request.principal
        return 201, self.services.orders.create_order(
            principal.customer_id, request.json_body, _key(request), customer_name=principal.name
        )

    @route(
        "GET",
        "/v1/shop/orders",
        access="customer",
        query_model=ListQuery,
        response_model=CustomerOrderPage,
        summary="my orders, newest first (R-ORD-1)",
    )
    def orders_my_orders(self, request):
        return 200, self.services.orders.customer_list_orders(request.principal.customer_id, query_of(request))

    @route(
        "GET",
        "/v1/shop/orders/<order_id>",
        access="customer",
        response_model=CustomerOrderDetailOut,
        errors={404: ["order_not_found"]},
        summary="one of my orders with its requests, inquiries and reviews (R-ORD-8, R-ORD-9)",
    )
    def orders_my_order(self, request, order_id):
        return 200, self.services.orders.customer_get_order(request.principal.customer_id, order_id)

    @route(
        "PATCH",
        "/v1/shop/orders/<order_id>",
        access="customer",
        body_model=OrderChangeIn,
        response_model=CustomerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["order_not_changeable"]},
        description="Never succeeds: an order is not changed once received; the customer cancels and orders "
        "again (R-ORD-4). The 200 is documented for the shape only.",
        summary="always 409 order_not_changeable: cancel and order again (R-ORD-4)",
    )
    def orders_change_my_order(self, request, order_id):
        return 200, self.services.orders.customer_change_order(
            request.principal.customer_id, order_id, request.json_body
        )

    @route(
        "POST",
        "/v1/shop/orders/<order_id>/cancel",
        access="customer",
        body_model=ReasonIn,
        response_model=CustomerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["cancel_not_allowed"]},
        summary="cancel before preparation or shipment starts; 409 cancel_not_allowed (R-ORD-5)",
    )
    def orders_cancel_my_order(self, request, order_id):
        return 200, self.services.orders.customer_cancel(request.principal.customer_id, order_id, request.json_body)

    @route(
        "POST",
        "/v1/shop/orders/<order_id>/refund-requests",
        access="customer",
        body_model=RefundRequestIn,
        response_model=OrderRequestOut,
        status=201,
        idempotency="optional",
        errors={
            404: ["order_not_found"],
            409: [
                "not_a_shop_order",
                "invalid_state",
                "quantity_exceeds_order",
                "cancel_instead",
                "idempotency_key_reused",
            ],
        },
        summary="ask for a refund of some lines (R-ORD-8)",
    )
    def orders_request_refund(self, request, order_id):
        return 201, self.services.orders.request_refund(
            request.principal.customer_id, order_id, request.json_body, _key(request)
        )

    @route(
        "POST",
        "/v1/shop/orders/<order_id>/exchange-requests",
        access="customer",
        body_model=ExchangeRequestIn,
        response_model=OrderRequestOut,
        status=201,
        idempotency="optional",
        errors={
            404: ["order_not_found"],
            409: [
                "not_a_shop_order",
                "invalid_state",
                "quantity_exceeds_order",
                "exchange_price_differs",
                "idempotency_key_reused",
            ],
        },
        summary="ask to exchange units for another option (R-ORD-8)",
    )
    def orders_request_exchange(self, request, order_id):
        return 201, self.services.orders.request_exchange(
            request.principal.customer_id, order_id, request.json_body, _key(request)
        )

    @route(
        "POST",
        "/v1/shop/orders/<order_id>/inquiries",
        access="customer",
        body_model=InquiryIn,
        response_model=InquiryOut,
        status=201,
        idempotency="optional",
        errors={404: ["order_not_found"], 409: ["idempotency_key_reused"]},
        summary="ask the partner (R-ORD-9)",
    )
    def orders_post_inquiry(self, request, order_id):
        return 201, self.services.orders.post_inquiry(
            request.principal.customer_id, order_id, request.json_body, _key(request)
        )

    @route(
        "POST",
        "/v1/shop/orders/<order_id>/reviews",
        access="customer",
        body_model=ReviewIn,
        response_model=OrderReviewOut,
        status=201,
        idempotency="optional",
        errors={404: ["order_not_found"], 409: ["review_not_allowed", "review_exists", "idempotency_key_reused"]},
        summary="review a line of a completed order, once (R-ORD-9)",
    )
    def orders_post_review(self, request, order_id):
        return 201, self.services.orders.post_review(
            request.principal.customer_id, order_id, request.json_body, _key(request)
        )

    # --- partners: the order board ------------------------------------------------------

    @route(
        "GET",
        "/v1/partners/<pid>/orders",
        access="partner:read",
        query_model=ListQuery,
        response_model=PartnerOrderPage,
        summary="orders newest first; ?channel=dine_in,takeout|delivery|parcel&status= (R-ORD-1)",
    )
    def orders_list_orders(self, request, pid):
        return 200, self.services.orders.list_orders(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/couriers",
        access="partner:read",
        response_model=CourierPage,
        summary="the couriers the platform knows and their tracking URL templates (R-ORD-7)",
    )
    def orders_couriers(self, request, pid):
        return 200, self.services.orders.list_couriers()

    @route(
        "GET",
        "/v1/partners/<pid>/orders/<order_id>",
        access="partner:read",
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"]},
        summary="an order with its requests, inquiries and reviews",
    )
    def orders_get_order(self, request, pid, order_id):
        return 200, self.services.orders.get_order(pid, order_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/reveal-phone",
        access="partner:manage",
        body_model=NoBody,
        response_model=OrderPhoneOut,
        errors={403: ["api_key_not_allowed"], 404: ["order_not_found"]},
        summary="the recipient's or customer's whole phone, for admins and masters; recorded (R-RSV-12)",
    )
    def orders_reveal_phone(self, request, pid, order_id):
        require_person(request.principal)
        return 200, self.services.orders.reveal_phone(pid, order_id, actor_of(request))

    @route(
        "PATCH",
        "/v1/partners/<pid>/orders/<order_id>",
        access="partner:operate",
        body_model=OrderChangeIn,
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["order_not_changeable"]},
        description="Never succeeds: an order is not changed once received; the partner cancels it and the "
        "customer orders again (R-ORD-4). The 200 is documented for the shape only.",
        summary="always 409 order_not_changeable: cancel and have the customer order again (R-ORD-4)",
    )
    def orders_change_order(self, request, pid, order_id):
        return 200, self.services.orders.partner_change_order(pid, order_id, request.json_body)

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/start-preparing",
        access="partner:operate",
        body_model=StartPreparingIn,
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="dine-in/takeout: received -> preparing, {minutes}? sets ready_at (R-ORD-2, seed 004 소요 시간)",
    )
    def orders_start_preparing(self, request, pid, order_id):
        return 200, self.services.orders.start_preparing(pid, order_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/complete",
        body_model=NoBody,
        access="partner:operate",
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="dine-in/takeout: preparing -> completed (R-ORD-2)",
    )
    def orders_complete(self, request, pid, order_id):
        return 200, self.services.orders.complete(pid, order_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/prepare-shipment",
        body_model=NoBody,
        access="partner:operate",
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="delivery/parcel: received -> preparing_shipment (R-ORD-3)",
    )
    def orders_prepare_shipment(self, request, pid, order_id):
        return 200, self.services.orders.prepare_shipment(pid, order_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/ship",
        access="partner:operate",
        body_model=ShipmentIn,
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="courier and invoice_number: preparing_shipment -> shipped (R-ORD-3, R-ORD-7)",
    )
    def orders_ship(self, request, pid, order_id):
        return 200, self.services.orders.ship(pid, order_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/deliver",
        body_model=NoBody,
        access="partner:operate",
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="shipped -> completed (R-ORD-3)",
    )
    def orders_deliver(self, request, pid, order_id):
        return 200, self.services.orders.deliver(pid, order_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/orders/<order_id>/cancel",
        access="partner:operate",
        body_model=ReasonIn,
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["cancel_not_allowed"]},
        summary="cancel; 409 cancel_not_allowed with the reason (R-ORD-5)",
    )
    def orders_cancel_order(self, request, pid, order_id):
        return 200, self.services.orders.partner_cancel(pid, order_id, request.json_body, actor_of(request))

    @route(
        "PATCH",
        "/v1/partners/<pid>/orders/<order_id>/shipment",
        access="partner:operate",
        body_model=ShipmentCorrectionIn,
        response_model=PartnerOrderDetailOut,
        errors={404: ["order_not_found"], 409: ["invalid_state"]},
        summary="correct courier, invoice_number or both while shipped (R-ORD-3)",
    )
    def orders_correct_shipment(self, request, pid, order_id):
        return 200, self.services.orders.correct_shipment(pid, order_id, request.json_body, actor_of(request))

    # --- partners: refunds, exchanges, inquiries, reviews (R-ORD-8, R-ORD-9) --------------------

    @route(
        "GET",
        "/v1/partners/<pid>/refund-requests",
        access="partner:read",
        query_model=RequestListQuery,
        response_model=OrderRequestPage,
        summary="?status= (R-ORD-8)",
    )
    def orders_list_refund_requests(self, request, pid):
        return 200, self.services.orders.list_requests(pid, "refund", query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/refund-requests/<request_id>/approve",
        body_model=NoBody,
        access="partner:operate",
        response_model=OrderRequestOut,
        errors={404: ["refund_request_not_found"], 409: ["invalid_state"]},
        summary="refund the lines asked; unshipped stock returns (R-ORD-8)",
    )
    def orders_approve_refund(self, request, pid, request_id):
        return 200, self.services.orders.approve_refund(pid, request_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/refund-requests/<request_id>/reject",
        access="partner:operate",
        body_model=ReasonRequired,
        response_model=OrderRequestOut,
        errors={404: ["refund_request_not_found"], 409: ["invalid_state"]},
        summary="reject with a reason (R-ORD-8)",
    )
    def orders_reject_refund(self, request, pid, request_id):
        return 200, self.services.orders.reject_refund(pid, request_id, request.json_body, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/exchange-requests",
        access="partner:read",
        query_model=RequestListQuery,
        response_model=OrderRequestPage,
        summary="?status= (R-ORD-8)",
    )
    def orders_list_exchange_requests(self, request, pid):
        return 200, self.services.orders.list_requests(pid, "exchange", query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/exchange-requests/<request_id>/approve",
        access="partner:operate",
        body_model=ExchangeApproveIn,
        response_model=OrderRequestOut,
        errors={
            404: ["exchange_request_not_found"],
            409: ["invalid_state", "out_of_stock", "capacity_exhausted", "product_unavailable"],
        },
        summary="hold the new option; {return_courier, return_invoice_number}? for the return pickup (R-ORD-8)",
    )
    def orders_approve_exchange(self, request, pid, request_id):
        return 200, self.services.orders.approve_exchange(pid, request_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/exchange-requests/<request_id>/receive",
        access="partner:operate",
        response_model=OrderRequestOut,
        errors={404: ["exchange_request_not_found"], 409: ["invalid_state"]},
        body_model=NoBody,
        summary="the returned units arrived: back in stock (R-ORD-8, issue 18)",
    )
    def orders_receive_exchange_return(self, request, pid, request_id):
        return 200, self.services.orders.receive_exchange_return(pid, request_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/exchange-requests/<request_id>/ship",
        access="partner:operate",
        body_model=ShipmentIn,
        response_model=OrderRequestOut,
        errors={404: ["exchange_request_not_found"], 409: ["invalid_state"]},
        summary="the replacement ships {courier, invoice_number}, after the return arrived (R-ORD-7, R-ORD-8)",
    )
    def orders_ship_exchange(self, request, pid, request_id):
        return 200, self.services.orders.ship_exchange(pid, request_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/exchange-requests/<request_id>/deliver",
        access="partner:operate",
        response_model=OrderRequestOut,
        errors={404: ["exchange_request_not_found"], 409: ["invalid_state"]},
        body_model=NoBody,
        summary="the replacement was delivered: the exchange is done (R-ORD-8)",
    )
    def orders_deliver_exchange(self, request, pid, request_id):
        return 200, self.services.orders.deliver_exchange(pid, request_id, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/exchange-requests/<request_id>/reject",
        access="partner:operate",
        body_model=ReasonRequired,
        response_model=OrderRequestOut,
        errors={404: ["exchange_request_not_found"], 409: ["invalid_state"]},
        summary="reject with a reason (R-ORD-8)",
    )
    def orders_reject_exchange(self, request, pid, request_id):
        return 200, self.services.orders.reject_exchange(pid, request_id, request.json_body, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/inquiries",
        access="partner:read",
        query_model=RequestListQuery,
        response_model=InquiryPage,
        summary="?answered=true|false (R-ORD-9)",
    )
    def orders_list_inquiries(self, request, pid):
        return 200, self.services.orders.list_inquiries(pid, query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/inquiries/<inquiry_id>/answer",
        access="partner:operate",
        body_model=AnswerIn,
        response_model=InquiryOut,
        errors={404: ["inquiry_not_found"], 409: ["already_answered"]},
        summary="answer a customer inquiry, once (R-ORD-9)",
    )
    def orders_answer_inquiry(self, request, pid, inquiry_id):
        return 200, self.services.orders.answer_inquiry(pid, inquiry_id, request.json_body, actor_of(request))

    # GET /v1/partners/<pid>/reviews lists reservation and order reviews together: routes/insights.py.

    @route(
        "POST",
        "/v1/partners/<pid>/reviews/<review_id>/reply",
        access="partner:operate",
        body_model=ReplyIn,
        response_model=ReplyOut,
        errors={404: ["review_not_found"], 409: ["already_replied"]},
        summary="reply {body} to a review of a reservation or an order, once; 409 already_replied (R-RSV-6, R-ORD-9)",
    )
    def orders_reply_review(self, request, pid, review_id):
        """Review ids are unique across services: the owner is found by asking each (both
        scoped by the partner). 404 only when every one answered ``review_not_found``; a
        service that did not answer, when no other owns the review, is the 503."""
        unavailable = not_found = None
        for service in ("reservations", "orders"):
            try:
                return 200, self.services.get(service).reply_review(
                    pid, review_id, request.json_body, actor_of(request)
                )
            except NotFound as missing:
                if missing.code != "review_not_found":
                    raise
                not_found = missing
            except ServiceUnavailable as away:
                unavailable = away
        raise unavailable or not_found
