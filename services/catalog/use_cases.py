"""The catalog's application layer: one method per use case, each one
transaction through the unit of work, with the other services behind ports.

What happens where:

* ``service.py`` (the nameko class) parses the request, calls one method here
  and returns its answer: no rule is decided there.
* Here: the order of the steps of a use case, which rows to lock and read
  (through ``store``), which rule to apply (``domain``) and what to publish
  (``events``). Nothing here speaks SQL or AMQP, so the orchestration runs
  against in-memory fakes of the store, the unit of work and the ports
  (``tests/test_use_cases.py``) as well as against PostgreSQL.
* ``store.py`` is the repository: explicit SQL, no rules.

The ports are Protocols: ``Transactions`` (``chassis.db.DatabaseSession``),
``CatalogStore`` (the ``store`` module itself) and ``AccountsPort``
(accounts' RPC proxy); accounts' ``partner_info`` is read through
``chassis.partner_info.PartnerInfoCache``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from chassis.ports import Transactions, UnitOfWork
from chassis import paging
from chassis.actor import Actor
from chassis.envelope import Envelope
from chassis.errors import DomainError, NotFound
from chassis.logging import get_logger
from chassis.partner_info import SELLING, PartnerInfoCache
from chassis.validation import invalid_query

from . import domain, errors, events, storefront, views
from .schemas import (
    AnswerIn,
    ApproveIn,
    BlocksIn,
    BoardQuery,
    CancellationQuoteIn,
    CouponCreate,
    CouponListQuery,
    CouponPatch,
    HoldIn,
    InventoryIn,
    IssueIn,
    ListQuery,
    ProductCreate,
    ProductPatch,
    QuestionIn,
    QuestionListQuery,
    ReleaseIn,
)

log = get_logger(__name__)

Row = dict[str, Any]
SHOP_SLOT_LIMIT = 200
BOARD_MAX_DAYS = 93


class AccountsPort(Protocol):
    """What the catalog asks accounts, which owns partners and their places."""

    def partner_info(self, partner_id: str) -> Row: ...

    def storefront(self, partner_id: str, place_ids: list[str]) -> Row: ...

    def get_place(self, partner_id: str, place_id: str) -> Row: ...


class CatalogStore(Protocol):
    """The repository (``store.py``): each function takes the unit of work first."""

    def insert_product(self, uow: Any, product_id: Any, partner_id: str, kind: str, settings: Row) -> None: ...
    def insert_revision(self, uow: Any, product_id: Any, partner_id: str, content: Row) -> Row: ...
    def update_revision(self, uow: Any, revision_id: Any, content: Row, status: str) -> None: ...
    def set_revision_status(self, uow: Any, revision_id: Any, status: str) -> Row: ...
    def decide_revision(
        self, uow: Any, revision_id: Any, status: str, operator: str | None, reason: str | None
    ) -> Row: ...
    def make_live(self, uow: Any, product_id: Any, revision_id: Any, number: int) -> None: ...
    def close_open_revision(self, uow: Any, product_id: Any) -> None: ...
    def update_settings(self, uow: Any, product_id: Any, settings: Row) -> None: ...
    def lock_product(self, uow: Any, partner_id: str, product_id: str) -> Row | None: ...
    def product_view_row(self, uow: Any, product_id: str, partner_id: str | None = None) -> Row | None: ...
    def list_product_rows(
        self, uow: Any, partner_id: str, limit: int, after: Any, kind: str | None = None, live_only: bool = False
    ) -> list[Row]: ...
    def all_product_rows(self, uow: Any, partner_id: str) -> list[Row]: ...
    def revision_contents(self, uow: Any, product_id: Any) -> list[Row]: ...
    def revision_row(self, uow: Any, revision_id: str) -> Row | None: ...
    def revision_by_number(self, uow: Any, partner_id: str, product_id: str, number: int) -> Row | None: ...
    def list_review_rows(self, uow: Any, status: str, limit: int, after: Any) -> list[Row]: ...
    def record_history(
        self,
        uow: Any,
        product_id: Any,
        actor: str | None,
        action: str,
        revision_id: Any = None,
        details: Row | None = None,
    ) -> None: ...
    def history_rows(self, uow: Any, product_id: Any) -> list[Row]: ...
    def availability(
        self, uow: Any, product_ids: list[str], today: dt.date, now_time: dt.time
    ) -> dict[str, domain.Availability]: ...
    def upcoming_slots(self, uow: Any, product_id: str, today: dt.date, now_time: dt.time, limit: int) -> list[Row]: ...
    def bucket_rows(
        self, uow: Any, product_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None
    ) -> list[Row]: ...
    def upsert_slot(self, uow: Any, product_id: Any, row: Row) -> Row | None: ...
    def taken_of(self, uow: Any, product_id: Any, bucket_key: str) -> int: ...
    def set_stock(self, uow: Any, product_id: Any, option_id: str, quantity: int | None) -> Row: ...
    def remove_slot(self, uow: Any, product_id: Any, bucket_key: str) -> int | None: ...
    def insert_block(self, uow: Any, product_id: Any, day: dt.date, at: dt.time | None, reason: str) -> Row: ...
    def delete_block(self, uow: Any, product_id: Any, block_id: str) -> bool: ...
    def block_rows(
        self, uow: Any, product_id: Any, date_from: dt.date | None = None, date_to: dt.date | None = None
    ) -> list[Row]: ...
    def claim_hold_id(
        self,
        uow: Any,
        hold_id: str,
        partner_id: str,
        fingerprint: str,
        result: Row,
        lines: list[Row],
        redemption_key: str | None = None,
    ) -> bool: ...
    def set_hold_result(self, uow: Any, hold_id: str, result: Row) -> None: ...
    def tombstone_hold_id(self, uow: Any, hold_id: str, partner_id: str) -> bool: ...
    def hold_row(self, uow: Any, hold_id: str, lock: bool = False) -> Row | None: ...
    def live_products_for_hold(
        self, uow: Any, partner_id: str, product_ids: list[str], days: list[dt.date]
    ) -> dict[str, Row]: ...
    def take(self, uow: Any, need: domain.BucketNeed) -> tuple[bool, bool, int | None, int | None]: ...
    def give_back(self, uow: Any, product_id: str, bucket_key: str, quantity: int) -> Row | None: ...
    def set_hold_lines(self, uow: Any, hold_id: str, lines: list[Row]) -> None: ...
    def claim_release_id(self, uow: Any, hold_id: str, release_id: str, lines: list[Row]) -> bool: ...
    def mark_released(self, uow: Any, hold_id: str, lines: list[Row], fully: bool) -> None: ...
    def review_counts(self, uow: Any, partner_id: str) -> dict[str, int]: ...
    def insert_coupon(self, uow: Any, coupon_id: Any, partner_id: str, fields: Row) -> Row: ...
    def coupon_row(self, uow: Any, partner_id: str, coupon_id: str, lock: bool = False) -> Row | None: ...
    def coupon_by_code(self, uow: Any, partner_id: str, code: str, lock: bool = False) -> Row | None: ...
    def update_coupon(self, uow: Any, coupon_id: str, fields: Row) -> Row: ...
    def list_coupon_rows(self, uow: Any, partner_id: str, limit: int, after: Any) -> list[Row]: ...
    def partner_product_ids(self, uow: Any, partner_id: str, product_ids: list[str]) -> set[str]: ...
    def issued_counts(self, uow: Any, coupon_ids: list[str]) -> dict[str, int]: ...
    def issue_coupon(
        self, uow: Any, coupon_id: str, partner_id: str, customer_ids: list[str], by: str | None
    ) -> int: ...
    def is_issued(self, uow: Any, coupon_id: str, customer_id: str) -> bool: ...
    def customer_coupon_rows(
        self, uow: Any, customer_id: str, partner_id: str | None, limit: int, after: Any
    ) -> list[Row]: ...
    def redemption_row(self, uow: Any, partner_id: str, redemption_key: str, lock: bool = False) -> Row | None: ...
    def customer_redemptions(self, uow: Any, coupon_id: str, customer_id: str) -> int: ...
    def redeem(
        self, uow: Any, partner_id: str, redemption_key: str, coupon_id: str, customer_id: str, discount: int
    ) -> None: ...
    def return_redemption(self, uow: Any, partner_id: str, redemption_key: str, coupon_id: str) -> None: ...
    def holds_still_held(self, uow: Any, partner_id: str, redemption_key: str) -> int: ...
    def pseudonymise_customer(self, uow: Any, customer_id: str, pseudonym: str) -> dict[str, int]: ...
    def insert_question(self, uow: Any, question: Row) -> Row: ...
    def product_questions(self, uow: Any, product_id: Any, limit: int, after: Any) -> list[Row]: ...
    def partner_questions(
        self, uow: Any, partner_id: str, answered: bool | None, limit: int, after: Any
    ) -> list[Row]: ...
    def answer_question(
        self, uow: Any, partner_id: str, question_id: Any, text: str, actor: str | None
    ) -> tuple[Row | None, bool]: ...
    def close_partner(self, uow: Any, partner_id: str) -> None: ...
    def partner_closed(self, uow: Any, partner_id: str) -> bool: ...
    def as_uuid(self, value: str) -> uuid.UUID | None: ...


def _created_cursor(key: str) -> Callable[[Row], tuple[str, str]]:
    return lambda row: (row["created_at"].isoformat(), row[key])


def _question_cursor(row: Row) -> tuple[str, str]:
    return row["created_at"].isoformat(), row["question_id"]


def _after(cursor: str | None) -> tuple[Any, ...] | None:
    return paging.decode_cursor(cursor, dt.datetime.fromisoformat, uuid.UUID)


class Catalog:
    """The catalog's use cases (R-CAT-1..6, R-RSV-3, issue #11 coupons)."""

    def __init__(
        self,
        db: Transactions,
        store: CatalogStore,
        accounts: AccountsPort,
        partners: PartnerInfoCache,
        clock: Callable[[], dt.datetime],
    ):
        self.db = db
        self.store = store
        self.accounts = accounts
        self.partners = partners
        self.now = clock

    # --- partner center: products and their review (R-CAT-1..6) ------------------

    def create_product(self, partner_id: str, data: ProductCreate, actor: Actor) -> Row:
        """A new product: a draft revision, seen by nobody but the partner (R-CAT-5)."""
        storefront.check_place(self.accounts, partner_id, data.place_id)
        content = domain.normalize_content(data.kind, data.model_dump(mode="json", include=set(domain.REVIEW_FIELDS)))
        settings = domain.new_settings(data.model_dump(include=set(domain.SETTINGS_FIELDS)))
        domain.check_sale_window(settings["sale_starts_at"], settings["sale_ends_at"])
        product_id = uuid.uuid4()
        with self.db.transaction() as uow:
            self.store.insert_product(uow, product_id, partner_id, data.kind, settings)
            revision = self.store.insert_revision(uow, product_id, partner_id, content)
            self.store.record_history(
                uow,
                product_id,
                actor.recorded_as,
                "created",
                revision["revision_id"],
                {"fields": domain.changed_fields(None, content)},
            )
            return self._product(uow, partner_id, str(product_id))

    def list_products(self, partner_id: str, q: ListQuery) -> Row:
        with self.db.transaction() as uow:
            rows = self.store.list_product_rows(uow, partner_id, q.limit, _after(q.cursor), q.kind)
            available = self._availability(uow, rows)
        now = self.now()
        return paging.page(
            rows,
            q.limit,
            _created_cursor("product_id"),
            lambda r: views.product_view(r, available[r["product_id"]], now),
        )

    def get_product(self, partner_id: str, product_id: str) -> Row:
        """The live version and the open revision side by side (R-CAT-5)."""
        with self.db.transaction() as uow:
            return self._product(uow, partner_id, product_id)

    def update_product(self, partner_id: str, product_id: str, data: ProductPatch, actor: Actor) -> Row:
        """Review fields go to the open revision (a new draft if none; a pending
        one is withdrawn to draft); settings apply at once (R-CAT-5)."""
        given = data.model_fields_set
        review_patch = data.model_dump(mode="json", include=given & set(domain.REVIEW_FIELDS))
        settings_patch = data.model_dump(include=given & set(domain.SETTINGS_FIELDS))
        domain.check_patch_nulls({**review_patch, **settings_patch})
        storefront.check_place(self.accounts, partner_id, review_patch.get("place_id"))
        with self.db.transaction() as uow:
            product = self._locked_product(uow, partner_id, product_id)
            if review_patch:
                self._edit_review_fields(uow, product, review_patch, actor)
            if settings_patch:
                self._edit_settings(uow, product, settings_patch, actor)
            return self._product(uow, partner_id, product_id)

    def _edit_review_fields(self, uow: UnitOfWork, product: domain.Product, patch: Row, actor: Actor) -> None:
        known = domain.known_ids_of(self.store.revision_contents(uow, product.product_id))
        edit = product.edit_review_fields(patch, known)
        if edit is None:
            return
        if edit.revision_id is None:
            revision_id = self.store.insert_revision(uow, product.product_id, product.partner_id, edit.content)[
                "revision_id"
            ]
        else:
            revision_id = edit.revision_id
            self.store.update_revision(uow, revision_id, edit.content, "draft")
        self.store.record_history(
            uow, product.product_id, actor.recorded_as, edit.action, revision_id, {"fields": edit.fields}
        )

    def _edit_settings(self, uow: UnitOfWork, product: domain.Product, patch: Row, actor: Actor) -> None:
        edit = product.edit_settings(patch)
        if edit is None:
            return
        self.store.update_settings(uow, product.product_id, edit.settings)
        self.store.record_history(
            uow,
            product.product_id,
            actor.recorded_as,
            "settings_changed",
            None,
            {k: views.iso(v) if k != "paused" else v for k, v in patch.items()},
        )
        self._publish_change(uow, product, "product.changed", fields=edit.fields)

    def submit_product(self, partner_id: str, product_id: str, actor: Actor) -> Row:
        """The draft goes to review (R-CAT-5); 409 when there is none or it is already pending."""
        with self.db.transaction() as uow:
            product = self._locked_product(uow, partner_id, product_id)
            submission = product.submit()
            self.store.set_revision_status(uow, submission.revision_id, "pending")
            self.store.record_history(
                uow, product_id, actor.recorded_as, "submitted", submission.revision_id, {"fields": submission.fields}
            )
            events.publish(
                uow,
                "product.submitted",
                events.product_event(
                    product_id,
                    partner_id,
                    product.kind,
                    submission.name,
                    revision_id=submission.revision_id,
                    fields=submission.fields,
                ),
            )
            revision = self._found(self.store.revision_row(uow, submission.revision_id))
            return views.revision_view(
                {
                    **revision,
                    "kind": product.kind,
                    "live_content": product.live_content,
                    "live_version": product.live_version,
                }
            )

    def product_history(self, partner_id: str, product_id: str) -> Row:
        """Every step of the product, oldest first (R-CAT-5)."""
        with self.db.transaction() as uow:
            if self.store.product_view_row(uow, product_id, partner_id) is None:
                raise errors.product_not_found(product_id)
            rows = self.store.history_rows(uow, self.store.as_uuid(product_id))
            return {"items": [views.history_view(r) for r in rows]}

    # --- operators: review (R-CAT-5) -----------------------------------------------

    def list_reviews(self, q: ListQuery) -> Row:
        with self.db.transaction() as uow:
            rows = self.store.list_review_rows(uow, q.status or "pending", q.limit, _after(q.cursor))
        return paging.page(
            rows, q.limit, lambda r: (r["submitted_at"].isoformat(), r["revision_id"]), views.revision_view
        )

    def approve_review(self, revision_id: str, note: ApproveIn, operator: Actor) -> Row:
        """The revision becomes the live version in one transaction (R-CAT-5)."""
        with self.db.transaction() as uow:
            revision, product = self._lock_pending_revision(uow, revision_id)
            decided = self.store.decide_revision(uow, revision_id, "approved", operator.recorded_as, note.reason)
            self.store.make_live(uow, product.product_id, revision_id, decided["number"])
            self.store.record_history(
                uow,
                product.product_id,
                operator.recorded_as,
                "approved",
                revision_id,
                {"version": decided["number"], "note": note.reason or None},
            )
            self._publish(
                uow,
                "product.approved",
                product,
                revision["content"]["name"],
                revision_id=revision_id,
                version=decided["number"],
                fields=domain.changed_fields(product.live_content, revision["content"]),
            )
            return self._product(uow, product.partner_id, product.product_id)

    def reject_review(self, revision_id: str, reason: str, operator: Actor) -> Row:
        """Refused with a reason; the live version stays (R-CAT-5)."""
        with self.db.transaction() as uow:
            revision, product = self._lock_pending_revision(uow, revision_id)
            self.store.decide_revision(uow, revision_id, "rejected", operator.recorded_as, reason)
            self.store.close_open_revision(uow, product.product_id)
            self.store.record_history(
                uow, product.product_id, operator.recorded_as, "rejected", revision_id, {"reason": reason}
            )
            self._publish(
                uow, "product.rejected", product, revision["content"]["name"], revision_id=revision_id, reason=reason
            )
            return self._product(uow, product.partner_id, product.product_id)

    def _lock_pending_revision(self, uow: UnitOfWork, revision_id: str) -> tuple[Row, domain.Product]:
        """The product row first (as every writer does), then the revision as it is now."""
        found = self.store.revision_row(uow, revision_id)
        if found is None:
            raise errors.review_not_found(revision_id)
        self.store.lock_product(uow, found["partner_id"], found["product_id"])
        revision = self._found(self.store.revision_row(uow, revision_id))
        domain.check_pending(revision)
        row = self._found(self.store.product_view_row(uow, found["product_id"], found["partner_id"]))
        return revision, domain.Product.from_row(row)

    # --- inventory, stock and blocks: apply at once (R-CAT-2, R-CAT-3) --------------

    def set_inventory(self, partner_id: str, product_id: str, data: InventoryIn, actor: Actor) -> Row:
        """Set slot/date capacities, the period capacity, stock per option.

        Listed slots are added or updated; others stay (use ``remove_slots``
        or blocks to stop selling one). A capacity below what holds already
        took is 409 ``capacity_below_booked``. Stock is what is available now
        (capacity = taken + stock); null stops tracking. The rows are checked
        against the live version (or, never approved, the latest revision).
        """
        with self.db.transaction() as uow:
            product = self._locked_product(uow, partner_id, product_id)
            content = product.current_content
            slot_rows = domain.inventory_rows(
                content,
                [s.model_dump() for s in data.slots],
                "period_capacity" in data.model_fields_set,
                data.period_capacity,
            )
            stock = _checked_stock(product, data)
            sold_out = self._apply_inventory(uow, product.product_id, slot_rows, data, stock)
            self.store.record_history(
                uow,
                product.product_id,
                actor.recorded_as,
                "inventory_set",
                None,
                data.model_dump(mode="json", exclude_defaults=True),
            )
            self._publish_change(uow, product, "product.changed", fields=["inventory"])
            for option_id in sold_out:
                self._publish_change(uow, product, "product.sold_out", option_id=option_id)
            return self._inventory(uow, product.product_id, content)

    def _apply_inventory(
        self, uow: UnitOfWork, product_id: str, slot_rows: list[Row], data: InventoryIn, stock: list[Row]
    ) -> list[str]:
        """Every row touched in (bucket_key) order, like holds; returns options now sold out."""
        ops: list[tuple[str, str, Any]] = [(r["bucket_key"], "set", r) for r in slot_rows]
        ops += [(domain.slot_key(r.date, r.time), "remove", r) for r in data.remove_slots]
        ops += [(f"option:{s['option_id']}", "stock", s) for s in stock]
        sold_out = []
        for key, op, item in sorted(ops, key=lambda o: o[0]):
            if op == "set" and self.store.upsert_slot(uow, product_id, item) is None:
                where = {"date": views.iso(item["day"]), "time": views.iso(item["at_time"])}
                raise errors.capacity_below_booked(where, self.store.taken_of(uow, product_id, key))
            if op == "remove" and (taken := self.store.remove_slot(uow, product_id, key)):
                raise errors.block_has_bookings(
                    {"date": views.iso(item.date), "time": views.iso(item.time), "booked": taken}
                )
            if op == "stock":
                state = self.store.set_stock(uow, product_id, item["option_id"], item["quantity"])
                if state["capacity"] is not None and state["capacity"] <= state["taken"]:
                    sold_out.append(item["option_id"])
        return sold_out

    def get_inventory(self, partner_id: str, product_id: str) -> Row:
        with self.db.transaction() as uow:
            product = domain.Product.from_row(self._partner_product(uow, partner_id, product_id))
            return self._inventory(uow, self.store.as_uuid(product_id), product.current_content)

    def _inventory(self, uow: UnitOfWork, product_id: Any, content: Row | None) -> Row:
        """Stock per option names the option's label beside its id (issue 18 item 8)."""
        rows = self.store.bucket_rows(uow, str(product_id))
        blocks = self.store.block_rows(uow, product_id)
        labels = {o.get("option_id"): o.get("label") for o in (content or {}).get("options") or []}
        return {
            "product_id": str(product_id),
            "slots": [views.slot_view(r) for r in rows if r["kind"] in ("slot", "date")],
            "period": next((views.slot_view(r) for r in rows if r["kind"] == "period"), None),
            "stock": [
                {
                    "option_id": r["bucket_key"][len("option:") :],
                    "label": labels.get(r["bucket_key"][len("option:") :]),
                    "stock": views.slot_view(r)["remaining"],
                    "taken": r["taken"],
                }
                for r in rows
                if r["kind"] == "option"
            ],
            "price_maxima": views.price_maxima(rows),
            "blocks": [views.block_view(b) for b in blocks],
        }

    def add_blocks(self, partner_id: str, product_id: str, data: BlocksIn, actor: Actor) -> Row:
        """Close dates or times at once: holds on them are refused (R-RSV-9 shows them)."""
        with self.db.transaction() as uow:
            product = self._locked_product(uow, partner_id, product_id)
            domain.check_blockable(product.current_content, bool(data.times))
            created = [self.store.insert_block(uow, product.product_id, day, None, data.reason) for day in data.dates]
            created += [
                self.store.insert_block(uow, product.product_id, t.date, t.time, data.reason) for t in data.times
            ]
            self.store.record_history(
                uow, product.product_id, actor.recorded_as, "blocked", None, data.model_dump(mode="json")
            )
            self._publish_change(uow, product, "product.changed", fields=["blocks"])
            return {"items": [views.block_view(b) for b in created]}

    def remove_block(self, partner_id: str, product_id: str, block_id: str, actor: Actor) -> None:
        with self.db.transaction() as uow:
            if self.store.lock_product(uow, partner_id, product_id) is None:
                raise errors.product_not_found(product_id)
            if not self.store.delete_block(uow, self.store.as_uuid(product_id), block_id):
                raise errors.block_not_found(block_id)
            product = domain.Product.from_row(self._found(self.store.product_view_row(uow, product_id, partner_id)))
            self.store.record_history(
                uow, product.product_id, actor.recorded_as, "unblocked", None, {"block_id": block_id}
            )
            self._publish_change(uow, product, "product.changed", fields=["blocks"])

    # --- consumers (the shop) --------------------------------------------------------

    def shop_list_products(self, partner_id: str, q: ListQuery) -> Row:
        """A partner's approved products, newest first, with their display state (R-CAT-4)."""
        with self.db.transaction() as uow:
            rows = self.store.list_product_rows(uow, partner_id, q.limit, _after(q.cursor), q.kind, live_only=True)
            available = self._availability(uow, rows)
        now = self.now()
        shown = storefront.storefronts(
            self.accounts, partner_id, [(r["live_content"] or {}).get("place_id") for r in rows[: q.limit]]
        )
        return paging.page(
            rows,
            q.limit,
            _created_cursor("product_id"),
            lambda r: storefront.decorate(views.shop_view(r, available[r["product_id"]], now), shown),
        )

    def shop_get_product(self, product_id: str) -> Row:
        """The approved version only, with what is left to book (R-CAT-4, R-CAT-5)."""
        now = self.now()
        today, now_time = domain.local_now(now)
        with self.db.transaction() as uow:
            row = self._live_product(uow, product_id)
            available = self._availability(uow, [row])
            slots = self.store.upcoming_slots(uow, product_id, today, now_time, SHOP_SLOT_LIMIT)
            period = [r for r in self.store.bucket_rows(uow, product_id) if r["kind"] == "period"]
        view = views.shop_view(row, available[row["product_id"]], now, slots)
        view["availability"]["period"] = views.slot_view(period[0]) if period else None
        return storefront.decorate(
            view, storefront.storefronts(self.accounts, row["partner_id"], [row["live_content"].get("place_id")])
        )

    # --- product questions before buying (issue 18 item 12, seed 003) -----------------------

    def ask_question(self, customer_id: str, product_id: str, data: QuestionIn) -> Row:
        """A customer's question about an approved product, without an order."""
        with self.db.transaction() as uow:
            product = self._live_product(uow, product_id)
            row = self.store.insert_question(
                uow,
                {
                    "question_id": uuid.uuid4(),
                    "product_id": product["product_id"],
                    "partner_id": product["partner_id"],
                    "customer_id": customer_id,
                    "body": data.body,
                    "private": data.private,
                },
            )
        return views.question_view(row, "customer", customer_id)

    def list_product_questions(self, product_id: str, customer_id: str | None, q: QuestionListQuery) -> Row:
        """Everyone's view, newest first: private questions show only to their asker."""
        with self.db.transaction() as uow:
            product = self._live_product(uow, product_id)
            rows = self.store.product_questions(uow, product["product_id"], q.limit, _after(q.cursor))
        return paging.page(
            rows, q.limit, _question_cursor, render=lambda r: views.question_view(r, "customer", customer_id)
        )

    def list_partner_questions(self, partner_id: str, q: QuestionListQuery) -> Row:
        answered = None if q.answered is None else q.answered == "true"
        with self.db.transaction() as uow:
            rows = self.store.partner_questions(uow, partner_id, answered, q.limit, _after(q.cursor))
        return paging.page(rows, q.limit, _question_cursor, render=lambda r: views.question_view(r, "partner"))

    def answer_question(self, partner_id: str, question_id: str, data: AnswerIn, actor: Actor) -> Row:
        """One answer per question (409 ``already_answered``); another partner's is 404."""
        with self.db.transaction() as uow:
            row, answered = self.store.answer_question(uow, partner_id, question_id, data.body, actor.recorded_as)
        if row is None:
            raise errors.question_not_found(question_id)
        if not answered:
            raise errors.already_answered(question_id)
        return views.question_view(row, "partner")

    # --- other services ----------------------------------------------------------------

    def get_live_product(self, partner_id: str, product_id: str) -> Row:
        now = self.now()
        with self.db.transaction() as uow:
            row = self.store.product_view_row(uow, product_id, partner_id)
            if row is None or row["live_content"] is None:
                raise errors.product_not_found(product_id)
            available = self._availability(uow, [row])
        return {**views.shop_view(row, available[row["product_id"]], now), "paused": row["paused"]}

    def get_product_version(self, partner_id: str, product_id: str, version: int) -> Row:
        with self.db.transaction() as uow:
            row = self.store.revision_by_number(uow, partner_id, product_id, version)
        if row is None or row["decided_at"] is None or row["status"] != "approved":
            raise NotFound(
                "version_not_found", "no such approved version", {"product_id": product_id, "version": version}
            )
        return {
            "product_id": row["product_id"],
            "partner_id": row["partner_id"],
            "kind": row["kind"],
            "version": row["number"],
            "approved_at": views.iso(row["decided_at"]),
            **row["content"],
        }

    def quote_cancellation(self, partner_id: str, product_id: str, q: CancellationQuoteIn) -> Row:
        """What cancelling costs now under the policy of the version sold (R-CAT-6)."""
        version = self.get_product_version(partner_id, product_id, q.version)
        if version["kind"] != "booking":
            raise errors.invalid_fields({"version": "goods have no cancellation policy"})
        return domain.quote_cancellation(version["cancel_policy"], q.amount, q.use_at, q.now or self.now())

    def slot_board(self, partner_id: str, product_id: str, q: BoardQuery) -> Row:
        """Per slot and date in the range: capacity, taken, remaining, blocked, past (R-RSV-9)."""
        if q.date_to < q.date_from:
            raise invalid_query(date_to="must not be before date_from")
        if (q.date_to - q.date_from).days >= BOARD_MAX_DAYS:
            raise invalid_query(date_to=f"ask for at most {BOARD_MAX_DAYS} days at once")
        today, now_time = domain.local_now(self.now())
        with self.db.transaction() as uow:
            if self.store.product_view_row(uow, product_id, partner_id) is None:
                raise errors.product_not_found(product_id)
            rows = self.store.bucket_rows(uow, product_id, q.date_from, q.date_to)
            blocks = self.store.block_rows(uow, self.store.as_uuid(product_id), q.date_from, q.date_to)
        closed = domain.closed_set(blocks)

        def slot(r: Row) -> Row:
            return {
                **views.slot_view(r, domain.is_blocked(closed, r["day"], r["at_time"])),
                "kind": r["kind"],
                "past": domain.is_past(r["day"], r["at_time"], today, now_time),
            }

        return {
            "product_id": product_id,
            "date_from": q.date_from.isoformat(),
            "date_to": q.date_to.isoformat(),
            "slots": [slot(r) for r in rows if r["kind"] in ("slot", "date")],
            "period": next((views.slot_view(r) for r in rows if r["kind"] == "period"), None),
            "price_maxima": views.price_maxima(rows),
            "blocks": [views.block_view(b) for b in blocks],
        }

    def dashboard_summary(self, partner_id: str) -> Row:
        """The dashboard's catalog section (R-ACC-11 convention: ``counts`` first):
        live products by display state (R-CAT-4), plus revisions by review status (R-CAT-5)."""
        now = self.now()
        with self.db.transaction() as uow:
            rows = self.store.all_product_rows(uow, partner_id)
            available = self._availability(uow, rows)
            reviews = self.store.review_counts(uow, partner_id)
        states = dict.fromkeys(domain.DISPLAY_STATES, 0)
        for row in rows:
            if row["live_content"] is not None:
                states[views.state_of(row, available[row["product_id"]], now)] += 1
        rejected = sum(1 for r in rows if views.review_status(r) == "rejected")
        return {
            "counts": states,
            "total": len(rows),
            "live": sum(states.values()),
            "review": {"draft": reviews.get("draft", 0), "pending": reviews.get("pending", 0), "rejected": rejected},
        }

    # --- holds (R-RSV-3) ---------------------------------------------------------------

    def hold(self, partner_id: str, request: HoldIn) -> Row:
        """Take capacity or stock for every line, and redeem the coupon if one is
        named, or nothing (the service docstring has the contract).

        One transaction: read the live versions (FOR KEY SHARE), write the hold
        row with its result (the unique hold id makes a concurrent retry wait
        here, then replay), then take the capacity rows in lock order, so a hot
        row stays locked only for its UPDATE and the COMMIT; the coupon row
        last (its limits are counted under its lock)."""
        coupon_ref = domain.coupon_reference(request.coupon.model_dump() if request.coupon else None)
        self._check_selling(partner_id)
        line_dicts = [line.model_dump() for line in request.lines]
        fingerprint = domain.hold_request_fingerprint(
            partner_id, [line.model_dump(mode="json") for line in request.lines], coupon_ref
        )
        now = self.now()
        with self.db.transaction() as uow:
            products = self.store.live_products_for_hold(
                uow,
                partner_id,
                [line["product_id"] for line in line_dicts],
                [line["date"] for line in line_dicts if line["date"] is not None],
            )
            if self._closed(uow, partner_id, products):
                raise errors.partner_not_open(partner_id, "closed")
            try:
                needs, priced = self._price_lines(line_dicts, products, now, request.kind)
            except DomainError:  # refused now; but a retry of a hold granted earlier gets that hold
                existing = self.store.hold_row(uow, request.hold_id)
                if existing is None:
                    raise
                return _replayed_hold(existing, fingerprint)
            needs = domain.merge_needs(needs)
            result = domain.hold_result(request.hold_id, partner_id, now, line_dicts, priced, products)
            hold = domain.Hold.granted(
                request.hold_id,
                partner_id,
                fingerprint,
                line_dicts,
                needs,
                coupon_ref["redemption_key"] if coupon_ref else None,
            )
            if not self.store.claim_hold_id(
                uow, hold.hold_id, partner_id, fingerprint, result, hold.lines_row(), hold.redemption_key
            ):
                return _replayed_hold(self._found(self.store.hold_row(uow, request.hold_id)), fingerprint)
            untracked, sold_out = self._take_all(uow, needs)
            if untracked:
                hold.forget_untracked(untracked)
                self.store.set_hold_lines(uow, hold.hold_id, hold.lines_row())
            if coupon_ref is not None:
                result = self._redeem(uow, partner_id, coupon_ref, result, now)
                self.store.set_hold_result(uow, request.hold_id, result)
            for need in sold_out:
                product = products[need.product_id]
                events.publish(
                    uow,
                    "product.sold_out",
                    events.product_event(
                        need.product_id,
                        partner_id,
                        product["kind"],
                        product["live"]["name"],
                        version=product["version"],
                        option_id=need.detail.get("option_id"),
                    ),
                )
        return result

    def _closed(self, uow: UnitOfWork, partner_id: str, products: dict[str, Row]) -> bool:
        """Closed, as the products' rows say; asked apart only when no product was found."""
        if products:
            return any(product["partner_closed"] for product in products.values())
        return self.store.partner_closed(uow, partner_id)

    def _check_selling(self, partner_id: str) -> None:
        """R-ACC-8: only a verified partner sells, whoever sells for it (reservations,
        orders). Accounts owns the status; only closing (R-ACC-14) takes verified
        back, and a closure is recorded here (``partner.closed``) and read inside
        every hold's transaction, so a remembered verified answer is safe."""
        info = self.partners.partner_info(self.accounts, partner_id)
        if info.status != SELLING:
            raise errors.partner_not_open(partner_id, info.status)

    def _redeem(self, uow: UnitOfWork, partner_id: str, ref: Row, result: Row, now: dt.datetime) -> Row:
        """The coupon taken with the hold, under the coupon row's lock: a new
        redemption is checked (domain.check_redeemable) and counted; a
        redemption key that already holds one (another hold of the same booking,
        a date change) keeps it and its discount, whatever the coupon's state now."""
        coupon = (
            self.store.coupon_by_code(uow, partner_id, ref["code"], lock=True)
            if ref["code"] is not None
            else self.store.coupon_row(uow, partner_id, ref["coupon_id"], lock=True)
        )
        if coupon is None:
            raise errors.coupon_not_found({"code": ref["code"]} if ref["code"] else {"coupon_id": ref["coupon_id"]})
        key = ref["redemption_key"]
        current = self.store.redemption_row(uow, partner_id, key, lock=True)
        if current is not None and current["status"] == "active":
            if (current["coupon_id"], current["customer_id"]) != (coupon["coupon_id"], ref["customer_id"]):
                raise errors.redemption_key_reused(key)
            discount = current["discount_amount"]
        else:
            issued = coupon["distribution"] != "issued" or self.store.is_issued(
                uow, coupon["coupon_id"], ref["customer_id"]
            )
            used = self.store.customer_redemptions(uow, coupon["coupon_id"], ref["customer_id"])
            discount = domain.check_redeemable(coupon, now, result["lines"], issued=issued, used=used)
            self.store.redeem(uow, partner_id, key, coupon["coupon_id"], ref["customer_id"], discount)
        return domain.discounted_hold(result, coupon, key, discount)

    def _price_lines(
        self, lines: list[Row], products: dict[str, Row], now: dt.datetime, kind: str | None = None
    ) -> tuple[list[domain.BucketNeed], list[Row]]:
        today, now_time = domain.local_now(now)
        for index, line in enumerate(lines):
            product = products.get(str(self.store.as_uuid(line["product_id"])))
            if product is None:
                raise NotFound(
                    "product_not_found", "no such product", {"line": index, "product_id": line["product_id"]}
                )
            line["product_id"] = product["product_id"]
            domain.check_kind(product, kind, index)
            domain.check_holdable(product, now, index)
        needs: list[domain.BucketNeed] = []
        priced = []
        for index, line in enumerate(lines):
            product = products[line["product_id"]]
            line_needs, line_price = domain.hold_line_needs(index, line, product, product["blocks"], today, now_time)
            needs += line_needs
            priced.append(line_price)
        return needs, priced

    def _take_all(self, uow: UnitOfWork, needs: list[domain.BucketNeed]) -> tuple[set[str], list[domain.BucketNeed]]:
        """Take every row in lock order; the first refusal rolls everything back.
        Returns the keys of untracked stock (no row) and the needs that sold out."""
        untracked, sold_out = set(), []
        for need in needs:
            ok, exists, taken, capacity = self.store.take(uow, need)
            if not ok:
                remaining = None if capacity is None else capacity - (taken or 0)
                raise domain.refuse_need(need, remaining, exists)
            if not exists:
                untracked.add(need.key)
            elif domain.sold_out_by(need, taken, capacity):
                sold_out.append(need)
        return untracked, sold_out

    def release(self, partner_id: str, request: ReleaseIn) -> Row:
        """Give back a hold (or part of it); unknown or released holds are a no-op."""
        if request.lines is not None and request.release_id is None:
            raise errors.invalid_fields({"release_id": "a partial release needs a release_id (it makes a retry safe)"})
        with self.db.transaction() as uow:
            if self.store.tombstone_hold_id(uow, request.hold_id, partner_id):
                return views.hold_view(self._found(self.store.hold_row(uow, request.hold_id)), {})
            row = self._found(self.store.hold_row(uow, request.hold_id, lock=True))
            hold = domain.Hold.from_row(row)
            if hold.partner_id != partner_id:
                return views.other_partners_hold_view(request.hold_id, partner_id)
            wanted = None if request.lines is None else [line.model_dump() for line in request.lines]
            if request.release_id and not self.store.claim_release_id(
                uow, hold.hold_id, request.release_id, wanted or []
            ):
                return views.hold_view(row, {})
            plan = hold.release(wanted)
            for product_id, key, quantity in hold.rows_to_give_back(plan):
                self.store.give_back(uow, product_id, key, quantity)
            self.store.mark_released(uow, hold.hold_id, hold.lines_row(), hold.status == domain.RELEASED)
            if request.lines is None and hold.redemption_key:
                self._return_redemption(uow, partner_id, hold.redemption_key)
            return views.hold_view(self._found(self.store.hold_row(uow, hold.hold_id)), plan)

    def _return_redemption(self, uow: UnitOfWork, partner_id: str, key: str) -> None:
        """A whole release gives the coupon back, unless another hold of the same
        redemption key is still held (a date change: the new hold keeps it).
        A partial release (some lines) keeps it."""
        found = self.store.redemption_row(uow, partner_id, key)
        if found is None or found["status"] != "active":
            return
        self.store.coupon_row(uow, partner_id, found["coupon_id"], lock=True)  # lock order: coupon, then redemption
        current = self._found(self.store.redemption_row(uow, partner_id, key, lock=True))
        if current["status"] != "active" or current["coupon_id"] != found["coupon_id"]:
            return
        if self.store.holds_still_held(uow, partner_id, key) == 0:
            self.store.return_redemption(uow, partner_id, key, current["coupon_id"])

    def get_hold(self, hold_id: str, partner_id: str) -> Row:
        with self.db.transaction() as uow:
            row = self.store.hold_row(uow, hold_id)
            if row is None or not domain.Hold.from_row(row).visible_to(partner_id):
                raise NotFound("hold_not_found", "no such hold", {"hold_id": hold_id})
            return views.hold_view(row)

    # --- coupons (issue #11) ------------------------------------------------------------------

    def create_coupon(self, partner_id: str, data: CouponCreate, actor: Actor) -> Row:
        """A coupon applies at once: no review (see the service docstring)."""
        fields = domain.coupon_settings(None, data.model_dump())
        with self.db.transaction() as uow:
            fields["product_ids"] = self._check_coupon_products(uow, partner_id, fields["product_ids"])
            self._check_code_free(uow, partner_id, fields["code"], None)
            try:
                row = self.store.insert_coupon(uow, uuid.uuid4(), partner_id, fields)
            except psycopg.errors.UniqueViolation:
                raise errors.coupon_code_taken(fields["code"]) from None
            log.info("coupon_created", coupon_id=row["coupon_id"], actor=actor.recorded_as)
            return views.coupon_view(row, self.now(), issued=0)

    def list_coupons(self, partner_id: str, q: CouponListQuery) -> Row:
        with self.db.transaction() as uow:
            rows = self.store.list_coupon_rows(uow, partner_id, q.limit, _after(q.cursor))
            issued = self.store.issued_counts(uow, [r["coupon_id"] for r in rows])
        now = self.now()
        return paging.page(
            rows,
            q.limit,
            _created_cursor("coupon_id"),
            lambda r: views.coupon_view(r, now, issued.get(r["coupon_id"], 0)),
        )

    def get_coupon(self, partner_id: str, coupon_id: str) -> Row:
        with self.db.transaction() as uow:
            return self._coupon_out(uow, self._coupon(uow, partner_id, coupon_id))

    def live_coupon_by_code(self, partner_id: str, code: Any) -> Row:
        """The partner's coupon of this code when customers can redeem it now; a
        422 naming ``coupon_code`` otherwise (a coupon channel message names a
        live coupon of its partner, issue 18 item 5)."""
        with self.db.transaction() as uow:
            row = self.store.coupon_by_code(uow, partner_id, code) if isinstance(code, str) and code else None
            if row is None:
                raise errors.invalid_coupon_code("no coupon of this partner has this code")
            state = domain.coupon_state(row, self.now())
            if state != "active":
                raise errors.invalid_coupon_code(f"the coupon is {state}: customers cannot use it now")
            return self._coupon_out(uow, row)

    def update_coupon(self, partner_id: str, coupon_id: str, data: CouponPatch, actor: Actor) -> Row:
        """Any subset of the settings; applies to later redemptions (taken ones keep their discount)."""
        given = data.model_dump(include=data.model_fields_set)
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id, lock=True)
            fields = domain.coupon_settings(row, given)
            if "product_ids" in given:
                fields["product_ids"] = self._check_coupon_products(uow, partner_id, fields["product_ids"])
            if fields["total_limit"] is not None and fields["total_limit"] < row["redeemed"]:
                raise errors.limit_below_redeemed(row["coupon_id"], row["redeemed"])
            self._check_code_free(uow, partner_id, fields["code"], row["coupon_id"])
            changes = {k: fields[k] for k in domain.COUPON_UPDATABLE if fields[k] != row[k]}
            if changes:
                row = self.store.update_coupon(uow, row["coupon_id"], changes)
                log.info("coupon_updated", coupon_id=row["coupon_id"], fields=sorted(changes), actor=actor.recorded_as)
            return self._coupon_out(uow, row)

    def pause_coupon(self, partner_id: str, coupon_id: str, paused: bool, actor: Actor) -> Row:
        """Pause (409 ``coupon_paused`` for new redemptions) or resume; taken redemptions stay."""
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id, lock=True)
            if row["paused"] != paused:
                row = self.store.update_coupon(uow, row["coupon_id"], {"paused": paused})
                log.info(
                    "coupon_paused" if paused else "coupon_resumed", coupon_id=row["coupon_id"], actor=actor.recorded_as
                )
            return self._coupon_out(uow, row)

    def issue_coupon(self, partner_id: str, coupon_id: str, data: IssueIn, actor: Actor) -> Row:
        """Give an issued coupon to customers (by id); giving it twice is harmless."""
        with self.db.transaction() as uow:
            row = self._coupon(uow, partner_id, coupon_id)
            if row["distribution"] != "issued":
                raise errors.coupon_not_issuable(row["coupon_id"])
            issued_now = self.store.issue_coupon(
                uow, row["coupon_id"], partner_id, data.customer_ids, actor.recorded_as
            )
            return {**self._coupon_out(uow, row), "issued_now": issued_now}

    def shop_list_coupons(self, customer_id: str, q: CouponListQuery) -> Row:
        """The coupons given to the customer (``?partner_id=`` for one partner's),
        newest first, with their state and the uses left to them."""
        with self.db.transaction() as uow:
            rows = self.store.customer_coupon_rows(uow, customer_id, q.partner_id, q.limit, _after(q.cursor))
        now = self.now()
        return paging.page(
            rows,
            q.limit,
            lambda r: (r["issued_at"].isoformat(), r["coupon_id"]),
            lambda r: views.customer_coupon_view(r, now),
        )

    def _coupon_out(self, uow: UnitOfWork, row: Row) -> Row:
        """The partner's view of a coupon, with how many customers were given it."""
        issued = self.store.issued_counts(uow, [row["coupon_id"]]).get(row["coupon_id"], 0)
        return views.coupon_view(row, self.now(), issued)

    def _coupon(self, uow: UnitOfWork, partner_id: str, coupon_id: str, lock: bool = False) -> Row:
        row = self.store.coupon_row(uow, partner_id, coupon_id, lock=lock)
        if row is None:
            raise errors.coupon_not_found({"coupon_id": coupon_id})
        return row

    def _check_coupon_products(self, uow: UnitOfWork, partner_id: str, product_ids: list[str]) -> list[str]:
        """The products a coupon applies to are the partner's own (another partner's
        look unknown); returned as the catalog writes product ids."""
        known = self.store.partner_product_ids(uow, partner_id, product_ids)
        canonical = [str(self.store.as_uuid(pid)) for pid in product_ids]
        problems = {
            f"product_ids.{i}": "not a product of this partner" for i, pid in enumerate(canonical) if pid not in known
        }
        if problems:
            raise errors.invalid_fields(problems, "the coupon is invalid")
        return list(dict.fromkeys(canonical))

    def _check_code_free(self, uow: UnitOfWork, partner_id: str, code: str | None, coupon_id: str | None) -> None:
        if code is None:
            return
        other = self.store.coupon_by_code(uow, partner_id, code)
        if other is not None and other["coupon_id"] != coupon_id:
            raise errors.coupon_code_taken(code)

    # --- events ------------------------------------------------------------------------------

    def on_partner_closed(self, event: Envelope) -> None:
        """R-ACC-14: the partner stops selling; every hold reads this."""
        partner_id = event.payload["partner_id"]
        with self.db.consuming(event) as uow:
            if uow is not None:
                self.store.close_partner(uow, partner_id)
        self.partners.forget(partner_id)

    def on_customer_erased(self, event: Envelope) -> None:
        """R-ACC-3: issues and redemptions stay under the customer's pseudonym (limits keep counting)."""
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            counts = self.store.pseudonymise_customer(uow, event.payload["customer_id"], event.payload["pseudonym"])
        log.info("customer_pseudonymised", **counts)

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _found(row: Row | None) -> Row:
        """A row the transaction has just written or locked (never None)."""
        assert row is not None
        return row

    def _locked_product(self, uow: UnitOfWork, partner_id: str, product_id: str) -> domain.Product:
        """The partner's product, locked for a change (404 for any other)."""
        if self.store.lock_product(uow, partner_id, product_id) is None:
            raise errors.product_not_found(product_id)
        return domain.Product.from_row(self._found(self.store.product_view_row(uow, product_id, partner_id)))

    def _partner_product(self, uow: UnitOfWork, partner_id: str, product_id: str) -> Row:
        row = self.store.product_view_row(uow, product_id, partner_id)
        if row is None:
            raise errors.product_not_found(product_id)
        return row

    def _live_product(self, uow: UnitOfWork, product_id: str) -> Row:
        """Any partner's approved product, as the shop sees it (404 before approval)."""
        row = self.store.product_view_row(uow, product_id)
        if row is None or row["live_content"] is None:
            raise errors.product_not_found(product_id)
        return row

    def _product(self, uow: UnitOfWork, partner_id: str, product_id: str) -> Row:
        row = self._partner_product(uow, partner_id, product_id)
        return views.product_view(row, self._availability(uow, [row])[row["product_id"]], self.now())

    def _availability(self, uow: UnitOfWork, rows: list[Row]) -> dict[str, domain.Availability]:
        today, now_time = domain.local_now(self.now())
        return self.store.availability(uow, [r["product_id"] for r in rows], today, now_time)

    def _publish_change(self, uow: UnitOfWork, product: domain.Product, event_type: str, **extra: Any) -> None:
        """Consumers only care about products they can see: drafts publish nothing."""
        if product.live_content is not None:
            self._publish(uow, event_type, product, product.live_content["name"], version=product.live_version, **extra)

    def _publish(self, uow: UnitOfWork, event_type: str, product: domain.Product, name: str, **extra: Any) -> None:
        """``event_type`` about ``product``, called ``name`` (its live content's, or the
        reviewed revision's for a review decision)."""
        events.publish(
            uow,
            event_type,
            events.product_event(product.product_id, product.partner_id, product.kind, name, **extra),
        )


def _checked_stock(product: domain.Product, data: InventoryIn) -> list[Row]:
    if not data.stock:
        return []
    if product.kind != "goods":
        raise errors.invalid_fields({"stock": "booking products have slots and capacities, not stock"})
    known = {o["option_id"] for c in (product.live_content, product.open_content) if c for o in c["options"]}
    problems = {
        f"stock.{i}.option_id": "not an option of this product"
        for i, s in enumerate(data.stock)
        if s.option_id not in known
    }
    if problems:
        raise errors.invalid_fields(problems)
    return [s.model_dump() for s in data.stock]


def _replayed_hold(existing: Row, fingerprint: str) -> Row:
    """A hold id seen before: the hold it made (``Hold.check_replay``)."""
    domain.Hold.from_row(existing).check_replay(fingerprint)
    return views.hold_view(existing)
