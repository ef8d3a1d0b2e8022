"""Catalog routes (../shared/api.md, Catalog): products and their review,
inventory and blocks for partners, the review queue for operators, and the
shop's view of approved products for consumers.

Thin on purpose: the body goes to the catalog RPC as it came (the service
validates it, 422 naming the fields) with the partner from the path and the
caller as the actor of the product's history; the service filters every
query by that partner, so another partner's product is a 404 there too.
"""

from __future__ import annotations

from chassis.errors import DomainError
from chassis.validation import NoBody
from contract import catalog as c

from ..auth import authorize, bearer_token
from ..http import query_of, route


def actor_of(request) -> str:
    """Who did it, for the product's history: the member (or operator), else the kind (an API key)."""
    principal = request.principal
    return principal.member_id or principal.kind


class CatalogRoutes:
    # --- partner center: products (R-CAT-1..6) ----------------------------------------

    @route(
        "POST",
        "/v1/partners/<pid>/products",
        access="partner:manage",
        body_model=c.ProductCreate,
        response_model=c.Product,
        status=201,
        errors={422: ["place_not_found"]},
        description="Booking products: schedule_type (R-CAT-1), quantity_mode (R-CAT-2), prices per person type "
        "(R-CAT-3), payment and cancel_policy (R-CAT-6), the place where it is used (R-CAT-4). Goods: "
        "options with prices (R-CAT-3). Nobody but the partner sees it until an operator approves "
        "it (R-CAT-5).",
        summary="create a product: a draft revision until submitted and approved (R-CAT-5)",
    )
    def create_product(self, request, pid):
        return 201, self.services.catalog.create_product(pid, request.json_body, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/products",
        access="partner:read",
        query_model=c.ListQuery,
        response_model=c.ProductPage,
        summary="the partner's products, newest first, with display state and review status",
    )
    def list_products(self, request, pid):
        return 200, self.services.catalog.list_products(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/products/<product_id>",
        access="partner:read",
        response_model=c.Product,
        errors={404: ["product_not_found"]},
        summary="live version and pending revision side by side (R-CAT-5)",
    )
    def get_product(self, request, pid, product_id):
        return 200, self.services.catalog.get_product(pid, product_id)

    @route(
        "PATCH",
        "/v1/partners/<pid>/products/<product_id>",
        access="partner:manage",
        body_model=c.ProductPatch,
        response_model=c.Product,
        errors={404: ["product_not_found"], 422: ["place_not_found"]},
        summary="edit: review fields open a revision, sale window and pause apply at once (R-CAT-5)",
    )
    def update_product(self, request, pid, product_id):
        return 200, self.services.catalog.update_product(pid, product_id, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/products/<product_id>/submit",
        body_model=NoBody,
        access="partner:manage",
        response_model=c.Revision,
        status=201,
        errors={404: ["product_not_found"], 409: ["nothing_to_submit", "already_in_review"], 422: ["place_required"]},
        summary="send the draft revision to review (R-CAT-5)",
    )
    def submit_product(self, request, pid, product_id):
        return 201, self.services.catalog.submit_product(pid, product_id, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/products/<product_id>/history",
        access="partner:read",
        response_model=c.ProductHistory,
        errors={404: ["product_not_found"]},
        summary="every step of the product: edits, submissions, decisions, inventory (R-CAT-5)",
    )
    def product_history(self, request, pid, product_id):
        return 200, self.services.catalog.product_history(pid, product_id)

    # --- inventory, stock, blocks: no review (R-CAT-2, R-CAT-3) -----------------------

    @route(
        "PUT",
        "/v1/partners/<pid>/products/<product_id>/inventory",
        access="partner:manage",
        body_model=c.InventoryIn,
        response_model=c.Inventory,
        errors={404: ["product_not_found"], 409: ["capacity_below_booked", "slot_has_bookings"]},
        description="Applies at once, without review (R-CAT-2, R-CAT-3): listed slots are added or updated, "
        "others stay; a capacity below what is already booked is 409 capacity_below_booked; stock is "
        "what is available now, null stops tracking.",
        summary="slots [{date, time?, capacity}], period_capacity, stock per option, remove_slots",
    )
    def set_inventory(self, request, pid, product_id):
        return 200, self.services.catalog.set_inventory(pid, product_id, request.json_body, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/products/<product_id>/inventory",
        access="partner:read",
        response_model=c.Inventory,
        errors={404: ["product_not_found"]},
        summary="slots with capacity and remaining, period, stock, price maxima, blocks",
    )
    def get_inventory(self, request, pid, product_id):
        return 200, self.services.catalog.get_inventory(pid, product_id)

    @route(
        "POST",
        "/v1/partners/<pid>/products/<product_id>/blocks",
        access="partner:manage",
        body_model=c.BlocksIn,
        response_model=c.Blocks,
        status=201,
        errors={404: ["product_not_found"]},
        description="Holds on blocked dates and times are refused; the reservation board shows them (R-RSV-9).",
        summary="close dates or times: {dates: [...], times: [{date, time}], reason}",
    )
    def add_blocks(self, request, pid, product_id):
        return 201, self.services.catalog.add_blocks(pid, product_id, request.json_body, actor_of(request))

    @route(
        "DELETE",
        "/v1/partners/<pid>/products/<product_id>/blocks/<block_id>",
        access="partner:manage",
        status=204,
        errors={404: ["product_not_found", "block_not_found"]},
        summary="open a blocked date or time again",
    )
    def remove_block(self, request, pid, product_id, block_id):
        self.services.catalog.remove_block(pid, product_id, block_id, actor_of(request))
        return 204, None

    # --- operators: product review (R-CAT-5) ------------------------------------------

    @route(
        "GET",
        "/v1/ops/reviews",
        access="operator",
        query_model=c.ListQuery,
        response_model=c.RevisionPage,
        summary="revisions to review, oldest submission first (?status=pending|approved|rejected)",
    )
    def list_reviews(self, request):
        return 200, self.services.catalog.list_reviews(query_of(request))

    @route(
        "POST",
        "/v1/ops/reviews/<rid>/approve",
        access="operator",
        body_model=c.ApproveIn,
        response_model=c.Product,
        errors={404: ["review_not_found"], 409: ["invalid_state"]},
        summary="the revision becomes the live version (R-CAT-5)",
    )
    def approve_review(self, request, rid):
        return 200, self.services.catalog.approve_review(rid, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/ops/reviews/<rid>/reject",
        access="operator",
        body_model=c.ReasonIn,
        response_model=c.Product,
        errors={404: ["review_not_found"], 409: ["invalid_state"]},
        summary="refuse the revision with a reason; the live version stays (R-CAT-5)",
    )
    def reject_review(self, request, rid):
        return 200, self.services.catalog.reject_review(rid, request.json_body, actor_of(request))

    # --- consumers ------------------------------------------------------------------------

    @route(
        "GET",
        "/v1/shop/products",
        access="public",
        query_model=c.ShopListQuery,
        response_model=c.ShopProductPage,
        summary="a partner's approved products with display state (?partner_id=, R-CAT-4)",
    )
    def shop_products(self, request):
        query = query_of(request)
        return 200, self.services.catalog.shop_list_products(query.pop("partner_id", None), query)

    @route(
        "GET",
        "/v1/shop/products/<product_id>",
        access="public",
        response_model=c.ShopProductDetail,
        errors={404: ["product_not_found"]},
        summary="the approved version, display state and availability (R-CAT-4, R-CAT-5)",
    )
    def shop_product(self, request, product_id):
        return 200, self.services.catalog.shop_get_product(product_id)

    # --- product questions before buying (issue 18 item 12, seed 003) --------------------------------

    @route(
        "POST",
        "/v1/shop/products/<product_id>/questions",
        access="customer",
        body_model=c.QuestionIn,
        response_model=c.Question,
        status=201,
        errors={404: ["product_not_found"]},
        summary="ask about a product before buying {body, private?}; private: only you and the partner read it",
    )
    def catalog_ask_question(self, request, product_id):
        return 201, self.services.catalog.ask_question(request.principal.customer_id, product_id, request.json_body)

    @route(
        "GET",
        "/v1/shop/products/<product_id>/questions",
        access="public",
        query_model=c.QuestionListQuery,
        response_model=c.QuestionPage,
        errors={404: ["product_not_found"]},
        summary="a product's questions and answers, newest first; private ones show only to their asker",
    )
    def catalog_product_questions(self, request, product_id):
        """Public; a signed-in customer's token, when sent, also shows their own private questions."""
        customer_id = None
        if bearer_token(request):
            try:
                customer_id = authorize(self.services, request, "customer", None).customer_id
            except DomainError:
                pass  # a stale or staff token reads what everyone reads
        return 200, self.services.catalog.list_product_questions(product_id, customer_id, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/product-questions",
        access="partner:read",
        query_model=c.QuestionListQuery,
        response_model=c.PartnerQuestionPage,
        summary="customers' questions about the partner's products, ?answered=true|false",
    )
    def catalog_partner_questions(self, request, pid):
        return 200, self.services.catalog.list_partner_questions(pid, query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/product-questions/<question_id>/answer",
        access="partner:operate",
        body_model=c.AnswerIn,
        response_model=c.PartnerQuestion,
        errors={404: ["question_not_found"], 409: ["already_answered"]},
        summary="answer a product question {body}, once; 409 already_answered",
    )
    def catalog_answer_question(self, request, pid, question_id):
        return 200, self.services.catalog.answer_question(
            pid, question_id, request.json_body, request.principal.member_id
        )
