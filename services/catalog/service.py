"""The catalog service: products, their review, inventory, and holds on capacity.

Entrypoints only: each parses its request (schemas.py) and calls one use case
(use_cases.py), which runs the steps through the store (store.py, SQL), the
rules (domain.py) and the views (views.py). Rules cited from
../shared/domain.md: R-CAT-1..6, R-RSV-3. Who acts (``actor``, ``operator``)
is read as a ``chassis.actor.Actor`` in any shape a caller sends; histories
record its ``recorded_as``. Replies other services read are built through
their models in ``chassis.rpc_contracts`` (``HoldReply``, ``ProductSummary``).

RPC contract for other services (reservations, orders)
======================================================

All amounts are integer KRW; dates ``YYYY-MM-DD`` and times ``HH:MM`` in the
partner's zone (Asia/Seoul). Errors are chassis DomainErrors with a stable
``code`` and ``details``; every call names the partner and a product of
another partner is ``product_not_found`` (404).

``hold(hold_id, partner_id, lines, coupon=None, kind=None) -> hold``
    Takes capacity or stock for every line at once, or nothing (R-RSV-3).
    Only for a verified partner (R-ACC-8): otherwise 409 ``partner_not_open``
    ``{partner_id, status}`` (asked of accounts' ``partner_info``; a verified
    answer is remembered, verification being final).
    ``lines``: ``[{product_id, quantity, price_id?, date?, time?}]`` for a
    booking (``date`` for datetime/date products, ``time`` for datetime ones),
    ``[{product_id, quantity, option_id?}]`` for goods (no ``option_id``: the
    product's only option; with several, 422 ``lines.<i>.option_id``). ``kind``
    (``booking`` or ``goods``): every line's product must be of it, else 422
    ``lines.<i>.product_id``. Lines may name several
    products of the partner. What is checked, for the live (approved) version:
    the sale window and pause (409 ``sale_not_started`` / ``sale_ended`` /
    ``product_unavailable``), the date/time offered, not past, not blocked
    (409 ``slot_not_offered`` / ``slot_past`` / ``slot_blocked``), then
    capacity: the slot, date or period by the product's quantity mode, and the
    price maximum within that unit (R-CAT-2) -> 409 ``capacity_exhausted``;
    goods stock -> 409 ``out_of_stock``. Those errors name the line:
    ``details = {line, product_id, price_id|option_id, date, time, bucket,
    remaining, requested}``. A line that does not fit the product (unknown
    price, missing date, ...) is 422 naming ``lines.<i>.<field>``.
    Returns ``{hold_id, partner_id, status: "held", created_at, total,
    lines: [{line, product_id, kind, version, name, label, price_id|option_id,
    date, time, quantity, unit_price, amount, released}], products:
    {product_id: {version, name, kind, payment, schedule_type, quantity_mode,
    cancel_policy}}}``: the prices and the cancellation policy of the version
    sold, for the caller to keep (R-CAT-6, policies are versioned).
    Idempotent by ``hold_id`` (single use, up to 100 chars of
    ``[A-Za-z0-9_.:-]``): a retry with the same lines returns the same hold
    (its current status) and never takes twice; the same id with other lines
    is 409 ``hold_id_reused``; a refused hold leaves no trace, so retrying it
    re-evaluates. Once an id is released (even by a release that arrived
    before its hold), ``hold`` with it takes nothing and returns status
    ``released``: use a new id to hold again.

    ``coupon`` (issue #11): ``{code | coupon_id, customer_id, redemption_key}``
    redeems the partner's coupon in the same transaction as the capacity
    (the retry of a hold id replays its redemption: it redeems once). The
    ``redemption_key`` is the caller's booking or order (``reservation:<id>``,
    ``order:<id>``): every hold made with it shares one redemption, so a date
    change (a new hold, then the old one released) keeps it without counting
    it again. Limits are counted under the coupon row's lock, so the total and
    per-customer limits hold under any concurrency. Refusals (nothing is
    held): 404 ``coupon_not_found`` (unknown or another partner's), 409
    ``coupon_paused``, ``coupon_not_started``, ``coupon_expired``,
    ``coupon_not_issued`` (an issued coupon not given to this customer),
    ``coupon_not_applicable`` (no line of its products), ``coupon_min_spend``
    (on the lines it applies to), ``coupon_exhausted`` (total limit),
    ``coupon_limit_reached`` (per customer), ``redemption_key_reused`` (the
    key holds another coupon). The hold then carries ``subtotal`` (at the live
    prices), ``discount_amount``, ``total`` = subtotal - discount (what the
    customer pays) and ``coupon: {coupon_id, name, code, discount_type,
    redemption_key, discount_amount}``; without a coupon ``subtotal`` =
    ``total``, ``discount_amount`` 0 and ``coupon`` null.

``release(hold_id, partner_id, lines=None, release_id=None) -> hold``
    Gives back everything still held, or, for a partial cancellation,
    ``lines=[{line, quantity}]`` with a ``release_id`` that makes the retry a
    no-op. Releasing an unknown or already released hold is a no-op (status
    ``released``, ``released_now: []``). More than is still held is 409
    ``release_exceeds_hold``. Releasing the whole hold (no ``lines``) gives its
    coupon back, unless another hold of its redemption key is still held (the
    new hold of a date change); a partial release (a partial cancellation, a
    refund before shipment) keeps the coupon.

``get_hold(hold_id, partner_id)``: the hold's current state (404 ``hold_not_found``).

``get_live_product(partner_id, product_id)``: the approved version as consumers
    see it, with ``display_state`` (R-CAT-4); 404 when never approved.
``get_product_version(partner_id, product_id, version)``: any approved version's
    content, e.g. the cancellation policy a booking was sold under.
``quote_cancellation(partner_id, product_id, {version, amount, use_at?, now?})``:
    ``{allowed, reason, fee, refund, fee_percent}`` under that version's policy.
``slot_board(partner_id, product_id, date_from, date_to)``: per slot and date:
    capacity, taken, remaining, blocked, past (R-RSV-9); plus period and price maxima.
``dashboard_summary(partner_id, role)``: product counts by display state and review status.

Lock order (no deadlock): product rows by id (holds take them FOR KEY SHARE,
writers FOR UPDATE), a hold's own row, then capacity rows by (product_id,
bucket_key), then a coupon row and its redemption row; releases take only
the last ones. Capacity is taken with a conditional UPDATE
(``taken + q <= capacity``), so it is never exceeded whatever the concurrency.

Coupons (issue #11) for the partner center: ``create_coupon``,
``list_coupons``, ``get_coupon``, ``update_coupon``, ``pause_coupon(paused)``,
``issue_coupon({customer_ids})``; for customers ``shop_list_coupons`` (the
coupons given to them and the uses left). Choices where the issue is silent:

* Coupons need no product review: R-CAT-5 lists the review fields of a
  product and a coupon is not one of them. A coupon never changes the listed
  price: it applies to the approved live price of the lines it covers, and
  its discount is part of the hold's price snapshot. Edits apply at once to
  later redemptions; a redemption keeps the discount it was given.
* Minimum spend and percent are on the lines the coupon applies to (its
  products, or all of the partner's); a fixed discount is at most their amount.
* A code coupon is redeemed by its code (any case) or id; an issued one by
  id, only by a customer it was given to. Codes are unique per partner.
* Per-customer limit defaults to 1; total limit to none. Returned
  redemptions (a cancellation) free their place in both limits.
* Customer erasure (``customer.erased``): issues and redemptions keep
  counting under the pseudonym.

Choices where the issue is silent are listed in domain.py's docstring.
"""

from __future__ import annotations


from chassis.actor import Actor
from chassis.consumer import event_handler
from chassis.envelope import Envelope
from chassis.partner_info import PartnerInfoCache
from chassis.rpc_contracts import HoldReply, ProductSummary
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query, require_id

from . import errors, schemas, store
from .use_cases import Catalog


class CatalogService(DataService):
    name = "catalog"
    partners = PartnerInfoCache()  # one per process: every worker reads the same answers

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.db, store, self.services.accounts, self.partners, self.now)

    # --- partner center: products and their review (R-CAT-1..6) ------------------

    @rpc
    def create_product(self, partner_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.create_product(partner_id, parse(schemas.ProductCreate, body), Actor.from_wire(actor))

    @rpc
    def list_products(self, partner_id: str, query: dict | None = None) -> dict:
        return self.catalog.list_products(partner_id, parse_query(schemas.ListQuery, query))

    @rpc
    def get_product(self, partner_id: str, product_id: str) -> dict:
        return self.catalog.get_product(partner_id, product_id)

    @rpc
    def update_product(self, partner_id: str, product_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.update_product(
            partner_id, product_id, parse(schemas.ProductPatch, body), Actor.from_wire(actor)
        )

    @rpc
    def submit_product(self, partner_id: str, product_id: str, actor: dict | str | None = None) -> dict:
        return self.catalog.submit_product(partner_id, product_id, Actor.from_wire(actor))

    @rpc
    def product_history(self, partner_id: str, product_id: str) -> dict:
        return self.catalog.product_history(partner_id, product_id)

    # --- operators: review (R-CAT-5) -----------------------------------------------

    @rpc
    def list_reviews(self, query: dict | None = None) -> dict:
        return self.catalog.list_reviews(parse_query(schemas.ListQuery, query))

    @rpc
    def approve_review(self, revision_id: str, body: dict | None = None, operator: dict | str | None = None) -> dict:
        return self.catalog.approve_review(revision_id, parse(schemas.ApproveIn, body), Actor.from_wire(operator))

    @rpc
    def reject_review(self, revision_id: str, body: dict, operator: dict | str | None = None) -> dict:
        return self.catalog.reject_review(revision_id, parse(schemas.ReasonIn, body).reason, Actor.from_wire(operator))

    # --- inventory, stock and blocks: apply at once (R-CAT-2, R-CAT-3) --------------

    @rpc
    def set_inventory(self, partner_id: str, product_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.set_inventory(
            partner_id, product_id, parse(schemas.InventoryIn, body), Actor.from_wire(actor)
        )

    @rpc
    def get_inventory(self, partner_id: str, product_id: str) -> dict:
        return self.catalog.get_inventory(partner_id, product_id)

    @rpc
    def add_blocks(self, partner_id: str, product_id: str, body: dict, actor: dict | str | None = None) -> dict:
        data = parse(schemas.BlocksIn, body)
        if not data.dates and not data.times:
            raise errors.invalid_fields({"dates": "give dates or times to block"})
        return self.catalog.add_blocks(partner_id, product_id, data, Actor.from_wire(actor))

    @rpc
    def remove_block(self, partner_id: str, product_id: str, block_id: str, actor: dict | str | None = None) -> None:
        self.catalog.remove_block(partner_id, product_id, block_id, Actor.from_wire(actor))

    # --- consumers (the shop) --------------------------------------------------------

    @rpc
    def shop_list_products(self, partner_id: str, query: dict | None = None) -> dict:
        return self.catalog.shop_list_products(
            require_id(partner_id, "partner_id"), parse_query(schemas.ListQuery, query)
        )

    @rpc
    def shop_get_product(self, product_id: str) -> dict:
        return ProductSummary.of(self.catalog.shop_get_product(product_id))

    # --- product questions before buying (issue 18 item 12, seed 003) -----------------------

    @rpc
    def ask_question(self, customer_id: str, product_id: str, body: dict) -> dict:
        return self.catalog.ask_question(customer_id, product_id, parse(schemas.QuestionIn, body))

    @rpc
    def list_product_questions(
        self, product_id: str, customer_id: str | None = None, query: dict | None = None
    ) -> dict:
        return self.catalog.list_product_questions(
            product_id, customer_id, parse_query(schemas.QuestionListQuery, query)
        )

    @rpc
    def list_partner_questions(self, partner_id: str, query: dict | None = None) -> dict:
        return self.catalog.list_partner_questions(partner_id, parse_query(schemas.QuestionListQuery, query))

    @rpc
    def answer_question(self, partner_id: str, question_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.answer_question(
            partner_id, question_id, parse(schemas.AnswerIn, body), Actor.from_wire(actor)
        )

    # --- other services ----------------------------------------------------------------

    @rpc
    def get_live_product(self, partner_id: str, product_id: str) -> dict:
        return ProductSummary.of(self.catalog.get_live_product(partner_id, product_id))

    @rpc
    def get_product_version(self, partner_id: str, product_id: str, version: int) -> dict:
        return self.catalog.get_product_version(partner_id, product_id, int(version))

    @rpc
    def quote_cancellation(self, partner_id: str, product_id: str, body: dict) -> dict:
        return self.catalog.quote_cancellation(partner_id, product_id, parse(schemas.CancellationQuoteIn, body))

    @rpc
    def slot_board(self, partner_id: str, product_id: str, date_from: str, date_to: str) -> dict:
        query = parse_query(schemas.BoardQuery, {"date_from": date_from, "date_to": date_to})
        return self.catalog.slot_board(partner_id, product_id, query)

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """Every role that may read the dashboard sees the same counts; ``role`` is
        accepted for the dashboards' common signature."""
        return self.catalog.dashboard_summary(partner_id)

    # --- holds (R-RSV-3) ---------------------------------------------------------------

    @rpc
    def hold(
        self, hold_id: str, partner_id: str, lines: list, coupon: dict | None = None, kind: str | None = None
    ) -> dict:
        request = parse(schemas.HoldIn, {"hold_id": hold_id, "lines": lines, "coupon": coupon, "kind": kind})
        return HoldReply.of(self.catalog.hold(partner_id, request))

    @rpc
    def release(self, hold_id: str, partner_id: str, lines: list | None = None, release_id: str | None = None) -> dict:
        request = parse(schemas.ReleaseIn, {"hold_id": hold_id, "lines": lines, "release_id": release_id})
        return HoldReply.of(self.catalog.release(partner_id, request))

    @rpc
    def get_hold(self, hold_id: str, partner_id: str) -> dict:
        return HoldReply.of(self.catalog.get_hold(str(hold_id), partner_id))

    # --- coupons (issue #11) ------------------------------------------------------------------

    @rpc
    def create_coupon(self, partner_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.create_coupon(partner_id, parse(schemas.CouponCreate, body), Actor.from_wire(actor))

    @rpc
    def list_coupons(self, partner_id: str, query: dict | None = None) -> dict:
        return self.catalog.list_coupons(partner_id, parse_query(schemas.CouponListQuery, query))

    @rpc
    def get_coupon(self, partner_id: str, coupon_id: str) -> dict:
        return self.catalog.get_coupon(partner_id, coupon_id)

    @rpc
    def live_coupon_by_code(self, partner_id: str, code: str) -> dict:
        return self.catalog.live_coupon_by_code(partner_id, code)

    @rpc
    def update_coupon(self, partner_id: str, coupon_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.update_coupon(
            partner_id, coupon_id, parse(schemas.CouponPatch, body), Actor.from_wire(actor)
        )

    @rpc
    def pause_coupon(
        self, partner_id: str, coupon_id: str, paused: bool = True, actor: dict | str | None = None
    ) -> dict:
        return self.catalog.pause_coupon(partner_id, coupon_id, bool(paused), Actor.from_wire(actor))

    @rpc
    def issue_coupon(self, partner_id: str, coupon_id: str, body: dict, actor: dict | str | None = None) -> dict:
        return self.catalog.issue_coupon(partner_id, coupon_id, parse(schemas.IssueIn, body), Actor.from_wire(actor))

    @rpc
    def shop_list_coupons(self, customer_id: str, query: dict | None = None) -> dict:
        return self.catalog.shop_list_coupons(
            require_id(customer_id, "customer_id"), parse_query(schemas.CouponListQuery, query)
        )

    # --- events ------------------------------------------------------------------------------

    @event_handler("partner.closed")
    def on_partner_closed(self, event: Envelope) -> None:
        self.catalog.on_partner_closed(event)

    @event_handler("customer.erased")
    def on_customer_erased(self, event: Envelope) -> None:
        self.catalog.on_customer_erased(event)
