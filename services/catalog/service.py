"""The catalog service: products, their review, inventory, and holds on capacity.

Entrypoints only: they validate (schemas.py), apply the rules (domain.py),
run SQL (store.py) and serialise (views.py). Rules cited from
../shared/domain.md: R-CAT-1..6, R-RSV-3.

RPC contract for other services (reservations, orders)
======================================================

All amounts are integer KRW; dates ``YYYY-MM-DD`` and times ``HH:MM`` in the
partner's zone (Asia/Seoul). Errors are chassis DomainErrors with a stable
``code`` and ``details``; every call names the partner and a product of
another partner is ``product_not_found`` (404).

``hold(hold_id, partner_id, lines, coupon=None) -> hold``
    Takes capacity or stock for every line at once, or nothing (R-RSV-3).
    Only for a verified partner (R-ACC-8): otherwise 409 ``partner_not_open``
    ``{partner_id, status}`` (asked of accounts' ``partner_info``; a verified
    answer is remembered, verification being final).
    ``lines``: ``[{product_id, quantity, price_id?, date?, time?}]`` for a
    booking (``date`` for datetime/date products, ``time`` for datetime ones),
    ``[{product_id, quantity, option_id}]`` for goods. Lines may name several
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

import datetime as dt
import time
import uuid

import psycopg

from chassis import paging
from chassis.consumer import event_handler
from chassis.errors import DomainError, NotFound
from chassis.logging import get_logger
from chassis.service import DataService, rpc
from chassis.validation import invalid_query, parse, parse_query

from . import domain, errors, events, store, storefront, views
from .schemas import (AnswerIn, ApproveIn, BlocksIn, BoardQuery, CancellationQuoteIn, CouponCreate, CouponListQuery,
                      CouponPatch, HoldIn, InventoryIn, IssueIn, ListQuery, ProductCreate, ProductPatch, QuestionIn,
                      QuestionListQuery, ReasonIn, ReleaseIn)

log = get_logger(__name__)

SHOP_SLOT_LIMIT = 200
PARTNER_CACHE_SECONDS = 300.0   # a verified partner stays verified (R-ACC-8): remembered, not asked per hold


class CatalogService(DataService):
    name = "catalog"
    partner_cache: dict[str, float] = {}   # verified partner id -> until when it is not asked again

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    # --- partner center: products and their review (R-CAT-1..6) ------------------

    @rpc
    def create_product(self, partner_id: str, body: dict, actor: str | None = None) -> dict:
        """A new product: a draft revision, seen by nobody but the partner (R-CAT-5)."""
        data = parse(ProductCreate, body)
        storefront.check_place(self.services.accounts, partner_id, data.place_id)
        content = domain.normalize_content(data.kind, data.model_dump(mode="json", include=set(domain.REVIEW_FIELDS)))
        settings = data.model_dump(include=set(domain.SETTINGS_FIELDS))
        domain.check_sale_window(settings["sale_starts_at"], settings["sale_ends_at"])
        product_id = uuid.uuid4()
        with self.db.transaction() as uow:
            store.insert_product(uow, product_id, partner_id, data.kind, settings)
            revision = store.insert_revision(uow, product_id, partner_id, content)
            store.record_history(uow, product_id, actor, "created", revision["revision_id"],
                                 {"fields": domain.changed_fields(None, content)})
            return self._product(uow, partner_id, str(product_id))

    @rpc
    def list_products(self, partner_id: str, query: dict | None = None) -> dict:
        q = parse_query(ListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.list_product_rows(uow, partner_id, q.limit, after, q.kind)
            available = self._availability(uow, rows)
        now = self.now()
        return paging.page(rows, q.limit, lambda r: (r["created_at"].isoformat(), r["product_id"]),
                          lambda r: views.product_view(r, available[r["product_id"]], now))

    @rpc
    def get_product(self, partner_id: str, product_id: str) -> dict:
        """The live version and the open revision side by side (R-CAT-5)."""
        with self.db.transaction() as uow:
            return self._product(uow, partner_id, product_id)

    @rpc
    def update_product(self, partner_id: str, product_id: str, body: dict, actor: str | None = None) -> dict:
        """Review fields go to the open revision (a new draft if none; a pending
        one is withdrawn to draft); settings apply at once (R-CAT-5)."""
        data = parse(ProductPatch, body)
        given = data.model_fields_set
        review_patch = data.model_dump(mode="json", include=given & set(domain.REVIEW_FIELDS))
        settings_patch = data.model_dump(include=given & set(domain.SETTINGS_FIELDS))
        domain.check_patch_nulls({**review_patch, **settings_patch})
        storefront.check_place(self.services.accounts, partner_id, review_patch.get("place_id"))
        with self.db.transaction() as uow:
            if store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            row = store.product_view_row(uow, product_id, partner_id)
            if review_patch:
                self._edit_review_fields(uow, row, review_patch, actor)
            if settings_patch:
                self._edit_settings(uow, row, settings_patch, actor)
            return self._product(uow, partner_id, product_id)

    def _edit_review_fields(self, uow, row: dict, patch: dict, actor: str | None) -> None:
        base = row["open_content"] or row["rejected_content"] or row["live_content"]
        known = domain.known_ids_of(store.revision_contents(uow, row["product_id"]))
        content = domain.normalize_content(row["kind"], domain.patched_review_fields(base, patch), known)
        fields = domain.changed_fields(base, content)
        if row["open_revision_id"] is not None:
            if not fields:
                return   # nothing differs: a pending revision stays in review
            store.update_revision(uow, row["open_revision_id"], content, "draft")
            action = "review_withdrawn" if row["open_status"] == "pending" else "edited"
            store.record_history(uow, row["product_id"], actor, action, row["open_revision_id"], {"fields": fields})
            return
        if row["live_content"] is not None and not domain.changed_fields(row["live_content"], content):
            return  # nothing differs from what is live: no revision to review
        revision = store.insert_revision(uow, row["product_id"], row["partner_id"], content)
        store.record_history(uow, row["product_id"], actor, "revision_started", revision["revision_id"],
                             {"fields": fields})

    def _edit_settings(self, uow, row: dict, patch: dict, actor: str | None) -> None:
        settings = {**views.settings_of(row), **patch}
        domain.check_sale_window(settings["sale_starts_at"], settings["sale_ends_at"])
        fields = sorted(k for k in patch if patch[k] != views.settings_of(row)[k])
        if not fields:
            return
        store.update_settings(uow, row["product_id"], settings)
        store.record_history(uow, row["product_id"], actor, "settings_changed", None,
                             {k: views.iso(v) if k != "paused" else v for k, v in patch.items()})
        self._publish_change(uow, row, "product.changed", fields=fields)

    @rpc
    def submit_product(self, partner_id: str, product_id: str, actor: str | None = None) -> dict:
        """The draft goes to review (R-CAT-5); 409 when there is none or it is already pending."""
        with self.db.transaction() as uow:
            if store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            row = store.product_view_row(uow, product_id, partner_id)
            if row["open_revision_id"] is None:
                raise errors.nothing_to_submit(product_id)
            if row["open_status"] == "pending":
                raise errors.already_in_review(product_id, row["open_revision_id"])
            storefront.check_place_before_review(row["kind"], row["open_content"])
            store.set_revision_status(uow, row["open_revision_id"], "pending")
            fields = domain.changed_fields(row["live_content"], row["open_content"])
            store.record_history(uow, product_id, actor, "submitted", row["open_revision_id"], {"fields": fields})
            events.publish(uow, "product.submitted", events.product_event(
                product_id, partner_id, row["kind"], row["open_content"]["name"],
                revision_id=row["open_revision_id"], fields=fields))
            return views.revision_view({**store.revision_row(uow, row["open_revision_id"]), "kind": row["kind"],
                                        "live_content": row["live_content"], "live_version": row["live_version"]})

    @rpc
    def product_history(self, partner_id: str, product_id: str) -> dict:
        """Every step of the product, oldest first (R-CAT-5)."""
        with self.db.transaction() as uow:
            if store.product_view_row(uow, product_id, partner_id) is None:
                raise errors.product_not_found(product_id)
            return {"items": [views.history_view(r) for r in store.history_rows(uow, store.as_uuid(product_id))]}

    # --- operators: review (R-CAT-5) -----------------------------------------------

    @rpc
    def list_reviews(self, query: dict | None = None) -> dict:
        q = parse_query(ListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.list_review_rows(uow, q.status or "pending", q.limit, after)
        return paging.page(rows, q.limit, lambda r: (r["submitted_at"].isoformat(),
                                                                       r["revision_id"]), views.revision_view)

    @rpc
    def approve_review(self, revision_id: str, body: dict | None = None, operator: str | None = None) -> dict:
        """The revision becomes the live version in one transaction (R-CAT-5)."""
        note = parse(ApproveIn, body)
        with self.db.transaction() as uow:
            revision, row = self._lock_pending_revision(uow, revision_id)
            decided = store.decide_revision(uow, revision_id, "approved", operator, note.reason)
            store.make_live(uow, row["product_id"], revision_id, decided["number"])
            store.record_history(uow, row["product_id"], operator, "approved", revision_id,
                                 {"version": decided["number"], "note": note.reason or None})
            events.publish(uow, "product.approved", events.product_event(
                row["product_id"], row["partner_id"], row["kind"], revision["content"]["name"],
                revision_id=revision_id, version=decided["number"],
                fields=domain.changed_fields(row["live_content"], revision["content"])))
            return self._product(uow, row["partner_id"], row["product_id"])

    @rpc
    def reject_review(self, revision_id: str, body: dict, operator: str | None = None) -> dict:
        """Refused with a reason; the live version stays (R-CAT-5)."""
        reason = parse(ReasonIn, body).reason
        with self.db.transaction() as uow:
            revision, row = self._lock_pending_revision(uow, revision_id)
            store.decide_revision(uow, revision_id, "rejected", operator, reason)
            store.close_open_revision(uow, row["product_id"])
            store.record_history(uow, row["product_id"], operator, "rejected", revision_id, {"reason": reason})
            events.publish(uow, "product.rejected", events.product_event(
                row["product_id"], row["partner_id"], row["kind"], revision["content"]["name"],
                revision_id=revision_id, reason=reason))
            return self._product(uow, row["partner_id"], row["product_id"])

    def _lock_pending_revision(self, uow, revision_id: str) -> tuple[dict, dict]:
        """The product row first (as every writer does), then the revision as it is now."""
        found = store.revision_row(uow, revision_id)
        if found is None:
            raise errors.review_not_found(revision_id)
        store.lock_product(uow, found["partner_id"], found["product_id"])
        revision = store.revision_row(uow, revision_id)
        if revision["status"] != "pending":
            raise errors.review_not_pending(revision_id, revision["status"])
        return revision, store.product_view_row(uow, found["product_id"], found["partner_id"])

    # --- inventory, stock and blocks: apply at once (R-CAT-2, R-CAT-3) --------------

    @rpc
    def set_inventory(self, partner_id: str, product_id: str, body: dict, actor: str | None = None) -> dict:
        """Set slot/date capacities, the period capacity, stock per option.

        Listed slots are added or updated; others stay (use ``remove_slots``
        or blocks to stop selling one). A capacity below what holds already
        took is 409 ``capacity_below_booked``. Stock is what is available now
        (capacity = taken + stock); null stops tracking. The rows are checked
        against the live version (or, never approved, the latest revision).
        """
        data = parse(InventoryIn, body)
        with self.db.transaction() as uow:
            if store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            row = store.product_view_row(uow, product_id, partner_id)
            content = row["live_content"] or row["open_content"] or row["rejected_content"]
            slot_rows = domain.inventory_rows(content, [s.model_dump() for s in data.slots],
                                              "period_capacity" in data.model_fields_set, data.period_capacity)
            stock = self._checked_stock(row, content, data)
            sold_out = self._apply_inventory(uow, row["product_id"], slot_rows, data.remove_slots, stock)
            store.record_history(uow, row["product_id"], actor, "inventory_set", None,
                                 data.model_dump(mode="json", exclude_defaults=True))
            self._publish_change(uow, row, "product.changed", fields=["inventory"])
            for option_id in sold_out:
                self._publish_change(uow, row, "product.sold_out", option_id=option_id)
            return self._inventory(uow, row["product_id"], content)

    def _checked_stock(self, row: dict, content: dict, data: InventoryIn) -> list[dict]:
        if not data.stock:
            return []
        if row["kind"] != "goods":
            raise errors.invalid_fields({"stock": "booking products have slots and capacities, not stock"})
        known = {o["option_id"] for c in (row["live_content"], row["open_content"]) if c for o in c["options"]}
        problems = {f"stock.{i}.option_id": "not an option of this product"
                    for i, s in enumerate(data.stock) if s.option_id not in known}
        if problems:
            raise errors.invalid_fields(problems)
        return [s.model_dump() for s in data.stock]

    def _apply_inventory(self, uow, product_id, slot_rows, removals, stock) -> list[str]:
        """Every row touched in (bucket_key) order, like holds; returns options now sold out."""
        ops = [(r["bucket_key"], "set", r) for r in slot_rows]
        ops += [(domain.slot_key(r.date, r.time), "remove", r) for r in removals]
        ops += [(f"option:{s['option_id']}", "stock", s) for s in stock]
        sold_out = []
        for key, op, item in sorted(ops, key=lambda o: o[0]):
            if op == "set" and store.upsert_slot(uow, product_id, item) is None:
                where = {"date": views.iso(item["day"]), "time": views.iso(item["at_time"])}
                raise errors.capacity_below_booked(where, store.taken_of(uow, product_id, key))
            if op == "remove" and (taken := store.remove_slot(uow, product_id, key)):
                raise errors.block_has_bookings({"date": views.iso(item.date), "time": views.iso(item.time),
                                                 "booked": taken})
            if op == "stock":
                state = store.set_stock(uow, product_id, item["option_id"], item["quantity"])
                if state["capacity"] is not None and state["capacity"] <= state["taken"]:
                    sold_out.append(item["option_id"])
        return sold_out

    @rpc
    def get_inventory(self, partner_id: str, product_id: str) -> dict:
        with self.db.transaction() as uow:
            row = store.product_view_row(uow, product_id, partner_id)
            if row is None:
                raise errors.product_not_found(product_id)
            content = row["live_content"] or row["open_content"] or row["rejected_content"]
            return self._inventory(uow, store.as_uuid(product_id), content)

    def _inventory(self, uow, product_id, content: dict | None) -> dict:
        """Stock per option names the option's label beside its id (issue 18 item 8)."""
        rows = store.bucket_rows(uow, str(product_id))
        blocks = store.block_rows(uow, product_id)
        labels = {o.get("option_id"): o.get("label") for o in (content or {}).get("options") or []}
        return {
            "product_id": str(product_id),
            "slots": [views.slot_view(r) for r in rows if r["kind"] in ("slot", "date")],
            "period": next((views.slot_view(r) for r in rows if r["kind"] == "period"), None),
            "stock": [{"option_id": r["bucket_key"][len("option:"):],
                       "label": labels.get(r["bucket_key"][len("option:"):]),
                       "stock": views.slot_view(r)["remaining"], "taken": r["taken"]}
                      for r in rows if r["kind"] == "option"],
            "price_maxima": [{"bucket": r["bucket_key"], **views.slot_view(r)} for r in rows if r["kind"] == "price"],
            "blocks": [views.block_view(b) for b in blocks],
        }

    @rpc
    def add_blocks(self, partner_id: str, product_id: str, body: dict, actor: str | None = None) -> dict:
        """Close dates or times at once: holds on them are refused (R-RSV-9 shows them)."""
        data = parse(BlocksIn, body)
        if not data.dates and not data.times:
            raise errors.invalid_fields({"dates": "give dates or times to block"})
        with self.db.transaction() as uow:
            if store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            row = store.product_view_row(uow, product_id, partner_id)
            content = row["live_content"] or row["open_content"] or row["rejected_content"]
            schedule = content.get("schedule_type")
            if schedule not in ("datetime", "date"):
                raise errors.invalid_fields({"dates": "only products with dates can block dates"})
            if data.times and schedule != "datetime":
                raise errors.invalid_fields({"times": "a date product blocks whole dates"})
            created = [store.insert_block(uow, row["product_id"], day, None, data.reason) for day in data.dates]
            created += [store.insert_block(uow, row["product_id"], t.date, t.time, data.reason) for t in data.times]
            store.record_history(uow, row["product_id"], actor, "blocked", None,
                                 data.model_dump(mode="json"))
            self._publish_change(uow, row, "product.changed", fields=["blocks"])
            return {"items": [views.block_view(b) for b in created]}

    @rpc
    def remove_block(self, partner_id: str, product_id: str, block_id: str, actor: str | None = None) -> None:
        with self.db.transaction() as uow:
            if store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            if not store.delete_block(uow, store.as_uuid(product_id), block_id):
                raise errors.block_not_found(block_id)
            row = store.product_view_row(uow, product_id, partner_id)
            store.record_history(uow, row["product_id"], actor, "unblocked", None, {"block_id": block_id})
            self._publish_change(uow, row, "product.changed", fields=["blocks"])

    # --- consumers (the shop) --------------------------------------------------------

    @rpc
    def shop_list_products(self, partner_id: str, query: dict | None = None) -> dict:
        """A partner's approved products, newest first, with their display state (R-CAT-4)."""
        if not partner_id:
            raise errors.invalid_fields({"partner_id": "name the partner whose products to list"})
        q = parse_query(ListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.list_product_rows(uow, partner_id, q.limit, after, q.kind, live_only=True)
            available = self._availability(uow, rows)
        now = self.now()
        shown = storefront.storefronts(self.services.accounts, partner_id,
                                       [(r["live_content"] or {}).get("place_id") for r in rows[:q.limit]])
        return paging.page(rows, q.limit, lambda r: (r["created_at"].isoformat(), r["product_id"]),
                          lambda r: storefront.decorate(views.shop_view(r, available[r["product_id"]], now), shown))

    @rpc
    def shop_get_product(self, product_id: str) -> dict:
        """The approved version only, with what is left to book (R-CAT-4, R-CAT-5)."""
        now = self.now()
        today, now_time = domain.local_now(now)
        with self.db.transaction() as uow:
            row = store.product_view_row(uow, product_id)
            if row is None or row["live_content"] is None:
                raise errors.product_not_found(product_id)
            available = self._availability(uow, [row])
            slots = store.upcoming_slots(uow, product_id, today, now_time, SHOP_SLOT_LIMIT)
            period = [r for r in store.bucket_rows(uow, product_id) if r["kind"] == "period"]
        view = views.shop_view(row, available[row["product_id"]], now, slots)
        view["availability"]["period"] = views.slot_view(period[0]) if period else None
        return storefront.decorate(view, storefront.storefronts(self.services.accounts, row["partner_id"],
                                                                [row["live_content"].get("place_id")]))

    # --- product questions before buying (issue 18 item 12, seed 003) -----------------------

    @rpc
    def ask_question(self, customer_id: str, product_id: str, body: dict) -> dict:
        """A customer's question about an approved product, without an order."""
        data = parse(QuestionIn, body)
        with self.db.transaction() as uow:
            product = store.product_view_row(uow, product_id)
            if product is None or product["live_content"] is None:
                raise errors.product_not_found(product_id)
            row = store.insert_question(uow, {"question_id": uuid.uuid4(), "product_id": product["product_id"],
                                              "partner_id": product["partner_id"], "customer_id": customer_id,
                                              "body": data.body, "private": data.private})
        return views.question_view(row, "customer", customer_id)

    @rpc
    def list_product_questions(self, product_id: str, customer_id: str | None = None,
                               query: dict | None = None) -> dict:
        """Everyone's view, newest first: private questions show only to their asker."""
        q = parse_query(QuestionListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            product = store.product_view_row(uow, product_id)
            if product is None or product["live_content"] is None:
                raise errors.product_not_found(product_id)
            rows = store.product_questions(uow, product["product_id"], q.limit, after)
        return paging.page(rows, q.limit, _question_cursor,
                           render=lambda r: views.question_view(r, "customer", customer_id))

    @rpc
    def list_partner_questions(self, partner_id: str, query: dict | None = None) -> dict:
        q = parse_query(QuestionListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        answered = None if q.answered is None else q.answered == "true"
        with self.db.transaction() as uow:
            rows = store.partner_questions(uow, partner_id, answered, q.limit, after)
        return paging.page(rows, q.limit, _question_cursor, render=lambda r: views.question_view(r, "partner"))

    @rpc
    def answer_question(self, partner_id: str, question_id: str, body: dict, actor: str | None = None) -> dict:
        """One answer per question (409 ``already_answered``); another partner's is 404."""
        data = parse(AnswerIn, body)
        with self.db.transaction() as uow:
            row, answered = store.answer_question(uow, partner_id, question_id, data.body, actor)
        if row is None:
            raise errors.question_not_found(question_id)
        if not answered:
            raise errors.already_answered(question_id)
        return views.question_view(row, "partner")

    # --- other services ----------------------------------------------------------------

    @rpc
    def get_live_product(self, partner_id: str, product_id: str) -> dict:
        now = self.now()
        with self.db.transaction() as uow:
            row = store.product_view_row(uow, product_id, partner_id)
            if row is None or row["live_content"] is None:
                raise errors.product_not_found(product_id)
            available = self._availability(uow, [row])
        return {**views.shop_view(row, available[row["product_id"]], now), "paused": row["paused"]}

    @rpc
    def get_product_version(self, partner_id: str, product_id: str, version: int) -> dict:
        with self.db.transaction() as uow:
            row = store.revision_by_number(uow, partner_id, product_id, int(version))
        if row is None or row["decided_at"] is None or row["status"] != "approved":
            raise NotFound("version_not_found", "no such approved version",
                           {"product_id": product_id, "version": version})
        return {"product_id": row["product_id"], "partner_id": row["partner_id"], "kind": row["kind"],
                "version": row["number"], "approved_at": views.iso(row["decided_at"]), **row["content"]}

    @rpc
    def quote_cancellation(self, partner_id: str, product_id: str, body: dict) -> dict:
        """What cancelling costs now under the policy of the version sold (R-CAT-6)."""
        q = parse(CancellationQuoteIn, body)
        version = self.get_product_version(partner_id, product_id, q.version)
        if version["kind"] != "booking":
            raise errors.invalid_fields({"version": "goods have no cancellation policy"})
        return domain.quote_cancellation(version["cancel_policy"], q.amount, q.use_at, q.now or self.now())

    @rpc
    def slot_board(self, partner_id: str, product_id: str, date_from: str, date_to: str) -> dict:
        """Per slot and date in the range: capacity, taken, remaining, blocked, past (R-RSV-9)."""
        q = parse_query(BoardQuery, {"date_from": date_from, "date_to": date_to})
        if q.date_to < q.date_from:
            raise invalid_query(date_to="must not be before date_from")
        if (q.date_to - q.date_from).days > 92:
            raise invalid_query(date_to="ask for at most 93 days at once")
        today, now_time = domain.local_now(self.now())
        with self.db.transaction() as uow:
            if store.product_view_row(uow, product_id, partner_id) is None:
                raise errors.product_not_found(product_id)
            rows = store.bucket_rows(uow, product_id, q.date_from, q.date_to)
            blocks = store.block_rows(uow, store.as_uuid(product_id), q.date_from, q.date_to)
        closed_days = {b["day"] for b in blocks if b["at_time"] is None}
        closed_times = {(b["day"], b["at_time"]) for b in blocks if b["at_time"] is not None}

        def slot(r):
            past = r["day"] < today or (r["day"] == today and r["at_time"] is not None and r["at_time"] <= now_time)
            blocked = r["day"] in closed_days or (r["day"], r["at_time"]) in closed_times
            return {**views.slot_view(r, blocked), "kind": r["kind"], "past": past}

        return {"product_id": product_id, "date_from": q.date_from.isoformat(), "date_to": q.date_to.isoformat(),
                "slots": [slot(r) for r in rows if r["kind"] in ("slot", "date")],
                "period": next((views.slot_view(r) for r in rows if r["kind"] == "period"), None),
                "price_maxima": [{"bucket": r["bucket_key"], **views.slot_view(r)}
                                 for r in rows if r["kind"] == "price"],
                "blocks": [views.block_view(b) for b in blocks]}

    @rpc
    def dashboard_summary(self, partner_id: str, role: str | None = None) -> dict:
        """The dashboard's catalog section (R-ACC-11 convention: ``counts`` first):
        live products by display state (R-CAT-4), plus revisions by review
        status (R-CAT-5). Every role that may read the dashboard sees the same
        product counts; ``role`` is accepted for the common signature."""
        now = self.now()
        with self.db.transaction() as uow:
            rows = store.all_product_rows(uow, partner_id)
            available = self._availability(uow, rows)
            reviews = store.review_counts(uow, partner_id)
        states = dict.fromkeys(domain.DISPLAY_STATES, 0)
        for row in rows:
            if row["live_content"] is not None:
                states[views.state_of(row, available[row["product_id"]], now)] += 1
        rejected = sum(1 for r in rows if views.review_status(r) == "rejected")
        return {"counts": states, "total": len(rows), "live": sum(states.values()),
                "review": {"draft": reviews.get("draft", 0), "pending": reviews.get("pending", 0),
                           "rejected": rejected}}

    # --- holds (R-RSV-3) ---------------------------------------------------------------

    @rpc
    def hold(self, hold_id: str, partner_id: str, lines: list, coupon: dict | None = None) -> dict:
        """Take capacity or stock for every line, and redeem the coupon if one is
        named, or nothing. See the module docstring.

        One transaction: read the live versions (FOR KEY SHARE), write the hold
        row with its result (the unique hold id makes a concurrent retry wait
        here, then replay), then take the capacity rows in lock order, so a hot
        row stays locked only for its UPDATE and the COMMIT; the coupon row
        last (its limits are counted under its lock)."""
        request = parse(HoldIn, {"hold_id": hold_id, "lines": lines, "coupon": coupon})
        coupon_ref = self._coupon_ref(request)
        self._check_partner_open(partner_id)
        line_dicts = [line.model_dump() for line in request.lines]
        fingerprint = domain.hold_request_fingerprint(partner_id, [l.model_dump(mode="json") for l in request.lines],
                                                      coupon_ref)
        now = self.now()
        with self.db.transaction() as uow:
            if store.partner_closed(uow, partner_id):
                raise errors.partner_not_open(partner_id, "closed")
            products = store.live_products_for_hold(uow, partner_id, [l["product_id"] for l in line_dicts],
                                                    [l["date"] for l in line_dicts if l["date"] is not None])
            try:
                needs, priced = self._price_lines(line_dicts, products, now)
            except DomainError:   # refused now; but a retry of a hold granted earlier gets that hold
                existing = store.hold_row(uow, request.hold_id)
                if existing is None:
                    raise
                return self._replayed_hold(existing, fingerprint)
            needs = domain.merge_needs(needs)
            result = self._hold_result(request.hold_id, partner_id, now, line_dicts, priced, products)
            held_lines = [{"line": i, "product_id": l["product_id"], "quantity": l["quantity"], "released": 0,
                           "bucket_keys": [n.key for n in needs if i in n.lines]} for i, l in enumerate(line_dicts)]
            if not store.claim_hold_id(uow, request.hold_id, partner_id, fingerprint, result, held_lines,
                                       coupon_ref["redemption_key"] if coupon_ref else None):
                return self._replayed_hold(store.hold_row(uow, request.hold_id), fingerprint)
            untracked, sold_out = self._take_all(uow, needs)
            if untracked:   # stock not tracked: nothing taken, nothing to give back later
                store.set_hold_lines(uow, request.hold_id, [
                    {**l, "bucket_keys": [k for k in l["bucket_keys"] if k not in untracked]} for l in held_lines])
            if coupon_ref is not None:
                result = self._redeem(uow, partner_id, coupon_ref, result, now)
                store.set_hold_result(uow, request.hold_id, result)
            for need in sold_out:
                product = products[need.product_id]
                events.publish(uow, "product.sold_out", events.product_event(
                    need.product_id, partner_id, product["kind"], product["live"]["name"],
                    version=product["version"], option_id=need.detail.get("option_id")))
        return result

    def _check_partner_open(self, partner_id: str) -> None:
        """R-ACC-8: only a verified partner sells, whoever sells for it (reservations,
        orders). Accounts owns the status; only closing (R-ACC-14) takes verified
        back, and a closure is recorded here (``partner.closed``) and read by every
        hold, so a verified answer is remembered for a while and any other is asked
        again on the next hold (the closure is checked inside the hold's transaction)."""
        if self.partner_cache.get(partner_id, 0.0) > time.monotonic():
            return
        info = self.services.accounts.partner_info(partner_id)
        if info.get("status") != "verified":
            raise errors.partner_not_open(partner_id, info.get("status"))
        self.partner_cache[partner_id] = time.monotonic() + PARTNER_CACHE_SECONDS

    @staticmethod
    def _coupon_ref(request: HoldIn) -> dict | None:
        if request.coupon is None:
            return None
        ref = request.coupon.model_dump()
        if (ref["code"] is None) == (ref["coupon_id"] is None):
            raise errors.invalid_fields({"coupon.code": "name the coupon by code or by coupon_id (one of them)"})
        if ref["code"] is not None:
            ref["code"] = ref["code"].upper()
        return ref

    def _redeem(self, uow, partner_id: str, ref: dict, result: dict, now: dt.datetime) -> dict:
        """The coupon taken with the hold, under the coupon row's lock: a new
        redemption is checked (domain.check_redeemable) and counted; a
        redemption key that already holds one (another hold of the same booking,
        a date change) keeps it and its discount, whatever the coupon's state now."""
        coupon = (store.coupon_by_code(uow, partner_id, ref["code"], lock=True) if ref["code"] is not None
                  else store.coupon_row(uow, partner_id, ref["coupon_id"], lock=True))
        if coupon is None:
            raise errors.coupon_not_found({"code": ref["code"]} if ref["code"] else {"coupon_id": ref["coupon_id"]})
        key = ref["redemption_key"]
        current = store.redemption_row(uow, partner_id, key, lock=True)
        if current is not None and current["status"] == "active":
            if (current["coupon_id"], current["customer_id"]) != (coupon["coupon_id"], ref["customer_id"]):
                raise errors.redemption_key_reused(key)
            discount = current["discount_amount"]
        else:
            issued = coupon["distribution"] != "issued" or store.is_issued(uow, coupon["coupon_id"], ref["customer_id"])
            used = store.customer_redemptions(uow, coupon["coupon_id"], ref["customer_id"])
            discount = domain.check_redeemable(coupon, now, result["lines"], issued=issued, used=used)
            store.redeem(uow, partner_id, key, coupon["coupon_id"], ref["customer_id"], discount)
        return domain.discounted_hold(result, coupon, key, discount)

    def _replayed_hold(self, existing: dict, fingerprint: str) -> dict:
        if existing["fingerprint"] == "":   # released before this hold arrived: a single-use id
            return views.hold_view(existing)
        if existing["fingerprint"] != fingerprint:
            raise errors.hold_id_reused(existing["hold_id"])
        return views.hold_view(existing)

    def _price_lines(self, lines: list[dict], products: dict, now: dt.datetime):
        today, now_time = domain.local_now(now)
        for index, line in enumerate(lines):
            product = products.get(str(store.as_uuid(line["product_id"])))
            if product is None:
                raise NotFound("product_not_found", "no such product",
                               {"line": index, "product_id": line["product_id"]})
            line["product_id"] = product["product_id"]
            domain.check_holdable(product, now, index)
        needs, priced = [], []
        for index, line in enumerate(lines):
            product = products[line["product_id"]]
            line_needs, line_price = domain.hold_line_needs(index, line, product, product["blocks"], today, now_time)
            needs += line_needs
            priced.append(line_price)
        return needs, priced

    def _take_all(self, uow, needs: list[domain.BucketNeed]) -> tuple[set[str], list[domain.BucketNeed]]:
        """Take every row in lock order; the first refusal rolls everything back.
        Returns the keys of untracked stock (no row) and the needs that sold out."""
        untracked, sold_out = set(), []
        for need in needs:
            ok, exists, taken, capacity = store.take(uow, need)
            if not ok:
                remaining = None if capacity is None else capacity - (taken or 0)
                raise domain.refuse_need(need, remaining, exists)
            if not exists:
                untracked.add(need.key)
            elif need.kind in ("option", "period") and capacity is not None and taken >= capacity:
                sold_out.append(need)
        return untracked, sold_out

    def _hold_result(self, hold_id, partner_id, now, lines, priced, products) -> dict:
        result_lines = []
        for index, (line, price) in enumerate(zip(lines, priced)):
            product = products[line["product_id"]]
            result_lines.append({
                "line": index, "product_id": line["product_id"], "kind": product["kind"],
                "version": product["version"], "name": product["live"]["name"], "quantity": line["quantity"],
                "amount": price["unit_price"] * line["quantity"], "released": 0, **price})
        summary = {pid: {"version": p["version"], "name": p["live"]["name"], "kind": p["kind"],
                         "payment": p["live"].get("payment"), "schedule_type": p["live"].get("schedule_type"),
                         "quantity_mode": p["live"].get("quantity_mode"),
                         "cancel_policy": p["live"].get("cancel_policy")} for pid, p in products.items()}
        total = sum(l["amount"] for l in result_lines)
        return {"hold_id": hold_id, "partner_id": partner_id, "status": "held", "created_at": now.isoformat(),
                "lines": result_lines, "total": total, "products": summary, "subtotal": total,
                "discount_amount": 0, "coupon": None}

    @rpc
    def release(self, hold_id: str, partner_id: str, lines: list | None = None, release_id: str | None = None) -> dict:
        """Give back a hold (or part of it); unknown or released holds are a no-op."""
        request = parse(ReleaseIn, {"hold_id": hold_id, "lines": lines, "release_id": release_id})
        if request.lines is not None and request.release_id is None:
            raise errors.invalid_fields({"release_id": "a partial release needs a release_id (it makes a retry safe)"})
        with self.db.transaction() as uow:
            if store.tombstone_hold_id(uow, request.hold_id, partner_id):
                return views.hold_view(store.hold_row(uow, request.hold_id), {})
            row = store.hold_row(uow, request.hold_id, lock=True)
            if row["partner_id"] != partner_id:   # another partner's hold id: nothing to see here
                return {"hold_id": request.hold_id, "partner_id": partner_id, "status": "released", "lines": [],
                        "total": 0, "products": {}, "released_now": []}
            if request.release_id and not store.claim_release_id(
                    uow, request.hold_id, request.release_id, [l.model_dump() for l in request.lines or []]):
                return views.hold_view(row, {})
            wanted = None if request.lines is None else [l.model_dump() for l in request.lines]
            plan = domain.release_plan(row["lines"], wanted, request.hold_id)
            self._give_back(uow, row["lines"], plan)
            lines = [{**l, "released": l["released"] + plan.get(l["line"], 0)} for l in row["lines"]]
            store.mark_released(uow, request.hold_id, lines, all(l["released"] >= l["quantity"] for l in lines))
            if request.lines is None and row["redemption_key"]:
                self._return_redemption(uow, partner_id, row["redemption_key"])
            return views.hold_view(store.hold_row(uow, request.hold_id), plan)

    def _return_redemption(self, uow, partner_id: str, key: str) -> None:
        """A whole release gives the coupon back, unless another hold of the same
        redemption key is still held (a date change: the new hold keeps it).
        A partial release (some lines) keeps it."""
        found = store.redemption_row(uow, partner_id, key)
        if found is None or found["status"] != "active":
            return
        store.coupon_row(uow, partner_id, found["coupon_id"], lock=True)   # lock order: coupon, then redemption
        current = store.redemption_row(uow, partner_id, key, lock=True)
        if current["status"] != "active" or current["coupon_id"] != found["coupon_id"]:
            return
        if store.holds_still_held(uow, partner_id, key) == 0:
            store.return_redemption(uow, partner_id, key, current["coupon_id"])

    def _give_back(self, uow, held: list[dict], plan: dict[int, int]) -> None:
        """Rows in the same (product_id, bucket_key) order as holds take them."""
        amounts: dict[tuple[str, str], int] = {}
        for line in held:
            for key in line["bucket_keys"]:
                if plan.get(line["line"]):
                    amounts[(line["product_id"], key)] = amounts.get((line["product_id"], key), 0) + plan[line["line"]]
        for (product_id, key) in sorted(amounts):
            store.give_back(uow, product_id, key, amounts[(product_id, key)])

    @rpc
    def get_hold(self, hold_id: str, partner_id: str) -> dict:
        with self.db.transaction() as uow:
            row = store.hold_row(uow, str(hold_id))
            if row is None or row["partner_id"] != partner_id or row["fingerprint"] == "":
                raise NotFound("hold_not_found", "no such hold", {"hold_id": hold_id})
            return views.hold_view(row)

    # --- coupons (issue #11) ------------------------------------------------------------------

    @rpc
    def create_coupon(self, partner_id: str, body: dict, actor: str | None = None) -> dict:
        """A coupon applies at once: no review (see the module docstring)."""
        fields = domain.coupon_settings(None, parse(CouponCreate, body).model_dump())
        with self.db.transaction() as uow:
            fields["product_ids"] = self._check_coupon_products(uow, partner_id, fields["product_ids"])
            self._check_code_free(uow, partner_id, fields["code"], None)
            try:
                row = store.insert_coupon(uow, uuid.uuid4(), partner_id, fields)
            except psycopg.errors.UniqueViolation:
                raise errors.coupon_code_taken(fields["code"]) from None
            log.info("coupon_created", coupon_id=row["coupon_id"], actor=actor)
            return views.coupon_view(row, self.now(), issued=0)

    @rpc
    def list_coupons(self, partner_id: str, query: dict | None = None) -> dict:
        q = parse_query(CouponListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.list_coupon_rows(uow, partner_id, q.limit, after)
            issued = store.issued_counts(uow, [r["coupon_id"] for r in rows])
        now = self.now()
        return paging.page(rows, q.limit, lambda r: (r["created_at"].isoformat(), r["coupon_id"]),
                          lambda r: views.coupon_view(r, now, issued.get(r["coupon_id"], 0)))

    @rpc
    def get_coupon(self, partner_id: str, coupon_id: str) -> dict:
        with self.db.transaction() as uow:
            return self._coupon_out(uow, self._coupon(uow, partner_id, coupon_id))

    @rpc
    def live_coupon_by_code(self, partner_id: str, code: str) -> dict:
        """The partner's coupon of this code when customers can redeem it now; a
        422 naming ``coupon_code`` otherwise (a coupon channel message names a
        live coupon of its partner, issue 18 item 5)."""
        with self.db.transaction() as uow:
            row = store.coupon_by_code(uow, partner_id, code) if isinstance(code, str) and code else None
            if row is None:
                raise errors.invalid_coupon_code("no coupon of this partner has this code")
            state = domain.coupon_state(row, self.now())
            if state != "active":
                raise errors.invalid_coupon_code(f"the coupon is {state}: customers cannot use it now")
            return self._coupon_out(uow, row)

    @rpc
    def update_coupon(self, partner_id: str, coupon_id: str, body: dict, actor: str | None = None) -> dict:
        """Any subset of the settings; applies to later redemptions (taken ones keep their discount)."""
        data = parse(CouponPatch, body)
        given = data.model_dump(include=data.model_fields_set)
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id, lock=True)
            fields = domain.coupon_settings(row, given)
            if "product_ids" in given:
                fields["product_ids"] = self._check_coupon_products(uow, partner_id, fields["product_ids"])
            if fields["total_limit"] is not None and fields["total_limit"] < row["redeemed"]:
                raise errors.limit_below_redeemed(row["coupon_id"], row["redeemed"])
            self._check_code_free(uow, partner_id, fields["code"], row["coupon_id"])
            changes = {k: fields[k] for k in store.COUPON_UPDATABLE if fields[k] != row[k]}
            if changes:
                row = store.update_coupon(uow, row["coupon_id"], changes)
                log.info("coupon_updated", coupon_id=row["coupon_id"], fields=sorted(changes), actor=actor)
            return self._coupon_out(uow, row)

    @rpc
    def pause_coupon(self, partner_id: str, coupon_id: str, paused: bool = True, actor: str | None = None) -> dict:
        """Pause (409 ``coupon_paused`` for new redemptions) or resume; taken redemptions stay."""
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id, lock=True)
            if row["paused"] != bool(paused):
                row = store.update_coupon(uow, row["coupon_id"], {"paused": bool(paused)})
                log.info("coupon_paused" if paused else "coupon_resumed", coupon_id=row["coupon_id"], actor=actor)
            return self._coupon_out(uow, row)

    @rpc
    def issue_coupon(self, partner_id: str, coupon_id: str, body: dict, actor: str | None = None) -> dict:
        """Give an issued coupon to customers (by id); giving it twice is harmless."""
        data = parse(IssueIn, body)
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id)
            if row["distribution"] != "issued":
                raise errors.coupon_not_issuable(row["coupon_id"])
            issued_now = store.issue_coupon(uow, row["coupon_id"], partner_id, data.customer_ids, actor)
            return {**self._coupon_out(uow, row), "issued_now": issued_now}

    @rpc
    def shop_list_coupons(self, customer_id: str, query: dict | None = None) -> dict:
        """The coupons given to the customer (``?partner_id=`` for one partner's),
        newest first, with their state and the uses left to them."""
        if not isinstance(customer_id, str) or not customer_id:
            raise errors.invalid_fields({"customer_id": "required"})
        q = parse_query(CouponListQuery, query)
        after = paging.decode_cursor(q.cursor, dt.datetime.fromisoformat, uuid.UUID)
        with self.db.transaction() as uow:
            rows = store.customer_coupon_rows(uow, customer_id, q.partner_id, q.limit, after)
        now = self.now()
        return paging.page(rows, q.limit, lambda r: (r["issued_at"].isoformat(), r["coupon_id"]),
                          lambda r: views.customer_coupon_view(r, now))

    def _coupon_out(self, uow, row: dict) -> dict:
        """The partner's view of a coupon, with how many customers were given it."""
        issued = store.issued_counts(uow, [row["coupon_id"]]).get(row["coupon_id"], 0)
        return views.coupon_view(row, self.now(), issued)

    def _coupon(self, uow, partner_id: str, coupon_id: str, lock: bool = False) -> dict:
        row = store.coupon_row(uow, partner_id, coupon_id, lock=lock)
        if row is None:
            raise errors.coupon_not_found({"coupon_id": coupon_id})
        return row

    @staticmethod
    def _check_coupon_products(uow, partner_id: str, product_ids: list[str]) -> list[str]:
        """The products a coupon applies to are the partner's own (another partner's
        look unknown); returned as the catalog writes product ids."""
        known = store.partner_product_ids(uow, partner_id, product_ids)
        canonical = [str(store.as_uuid(pid)) for pid in product_ids]
        problems = {f"product_ids.{i}": "not a product of this partner"
                    for i, pid in enumerate(canonical) if pid not in known}
        if problems:
            raise errors.invalid_fields(problems, "the coupon is invalid")
        return list(dict.fromkeys(canonical))

    @staticmethod
    def _check_code_free(uow, partner_id: str, code: str | None, coupon_id: str | None) -> None:
        if code is None:
            return
        other = store.coupon_by_code(uow, partner_id, code)
        if other is not None and other["coupon_id"] != coupon_id:
            raise errors.coupon_code_taken(code)

    @event_handler("partner.closed")
    def on_partner_closed(self, event):
        """R-ACC-14: the partner stops selling; every hold reads this."""
        with self.db.consuming(event) as uow:
            if uow is not None:
                store.close_partner(uow, event.payload["partner_id"])
        self.partner_cache.pop(event.payload["partner_id"], None)

    @event_handler("customer.erased")
    def on_customer_erased(self, event):
        """R-ACC-3: issues and redemptions stay under the customer's pseudonym (limits keep counting)."""
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            counts = store.pseudonymise_customer(uow, event.payload["customer_id"], event.payload["pseudonym"])
        log.info("customer_pseudonymised", **counts)

    # --- helpers -------------------------------------------------------------------------

    def _product(self, uow, partner_id: str, product_id: str) -> dict:
        row = store.product_view_row(uow, product_id, partner_id)
        if row is None:
            raise errors.product_not_found(product_id)
        return views.product_view(row, self._availability(uow, [row])[row["product_id"]], self.now())

    def _availability(self, uow, rows: list[dict]) -> dict[str, domain.Availability]:
        today, now_time = domain.local_now(self.now())
        return store.availability(uow, [r["product_id"] for r in rows], today, now_time)

    def _publish_change(self, uow, row: dict, event_type: str, **extra) -> None:
        """Consumers only care about products they can see: drafts publish nothing."""
        if row["live_content"] is None:
            return
        events.publish(uow, event_type, events.product_event(
            row["product_id"], row["partner_id"], row["kind"], row["live_content"]["name"],
            version=row["live_version"], **extra))


def _question_cursor(row: dict) -> tuple:
    return row["created_at"].isoformat(), row["question_id"]
