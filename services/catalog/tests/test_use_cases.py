"""The catalog's orchestration in memory (issue 19): use_cases.Catalog over
fakes of the store, the unit of work and accounts, in milliseconds.

What the fakes keep is what store.py keeps (the same rows), and a failed
transaction leaves nothing, as PostgreSQL's rollback does; the races, crashes
and lost replies stay in the suites that run the real service
(test_concurrency.py, test_holds.py, test_coupons.py)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest

from catalog import domain, use_cases
from catalog.schemas import ApproveIn, CouponCreate, HoldIn, ProductCreate, ProductPatch, ReleaseIn
from chassis.actor import Actor
from chassis.fakes import InMemoryTransactions
from chassis.errors import Conflict, DomainError, NotFound, ValidationFailed
from chassis.partner_info import PartnerInfoCache
from chassis.rpc_contracts import HoldReply

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 10:00 in Seoul
DAY = dt.date(2026, 3, 5)
PARTNER = "partner-1"
MEMBER = Actor("member", "member-1")
OPERATOR = Actor("operator", "operator-1")
NO_NOTE = ApproveIn.model_validate({})  # an approval without a note


class FakeStore:
    """store.py's functions over dicts; rows as its SQL returns them."""

    def __init__(self):
        self.products, self.revisions, self.history = {}, {}, []
        self.buckets, self.holds, self.releases = {}, {}, set()
        self.coupons, self.redemptions, self.issues, self.closed = {}, {}, set(), set()

    as_uuid = staticmethod(lambda value: _uuid(value))

    # products and revisions
    def insert_product(self, uow, product_id, partner_id, kind, settings):
        self.products[str(product_id)] = {
            "product_id": str(product_id),
            "partner_id": partner_id,
            "kind": kind,
            "live_version": None,
            "next_revision": 1,
            "live_revision_id": None,
            "open_revision_id": None,
            **settings,
            "created_at": NOW,
            "updated_at": NOW,
        }

    def insert_revision(self, uow, product_id, partner_id, content):
        product = self.products[str(product_id)]
        number, product["next_revision"] = product["next_revision"], product["next_revision"] + 1
        revision_id = str(uuid.uuid4())
        self.revisions[revision_id] = {
            "revision_id": revision_id,
            "product_id": str(product_id),
            "partner_id": partner_id,
            "number": number,
            "status": "draft",
            "content": content,
            "created_at": NOW,
            "updated_at": NOW,
            "submitted_at": None,
            "decided_at": None,
            "decided_by": None,
            "reason": None,
        }
        product["open_revision_id"] = revision_id
        return {"revision_id": revision_id, "number": number}

    def update_revision(self, uow, revision_id, content, status):
        self.revisions[revision_id].update(
            content=content, status=status, submitted_at=NOW if status == "pending" else None
        )

    def set_revision_status(self, uow, revision_id, status):
        revision = self.revisions[revision_id]
        revision.update(status=status, submitted_at=NOW if status == "pending" else revision["submitted_at"])
        return revision

    def decide_revision(self, uow, revision_id, status, operator, reason):
        self.revisions[revision_id].update(status=status, decided_at=NOW, decided_by=operator, reason=reason or None)
        return self.revisions[revision_id]

    def make_live(self, uow, product_id, revision_id, number):
        self.products[str(product_id)].update(live_revision_id=revision_id, live_version=number, open_revision_id=None)

    def close_open_revision(self, uow, product_id):
        self.products[str(product_id)]["open_revision_id"] = None

    def update_settings(self, uow, product_id, settings):
        self.products[str(product_id)].update(settings)

    def lock_product(self, uow, partner_id, product_id):
        product = self.products.get(str(_uuid(product_id)))
        return product if product is not None and product["partner_id"] == partner_id else None

    def product_view_row(self, uow, product_id, partner_id=None):
        product = self.products.get(str(_uuid(product_id)))
        if product is None or partner_id not in (None, product["partner_id"]):
            return None
        live = self.revisions.get(product["live_revision_id"]) or {}
        open_ = self.revisions.get(product["open_revision_id"]) or {}
        rejected = max(
            (
                r
                for r in self.revisions.values()
                if r["product_id"] == product["product_id"]
                and r["status"] == "rejected"
                and r["number"] > (product["live_version"] or 0)
            ),
            key=lambda r: r["number"],
            default={},
        )
        return {
            **product,
            "live_content": live.get("content"),
            "live_approved_at": live.get("decided_at"),
            "open_number": open_.get("number"),
            "open_status": open_.get("status"),
            "open_content": open_.get("content"),
            "open_created_at": open_.get("created_at"),
            "open_updated_at": open_.get("updated_at"),
            "open_submitted_at": open_.get("submitted_at"),
            "rejected_revision_id": rejected.get("revision_id"),
            "rejected_number": rejected.get("number"),
            "rejected_reason": rejected.get("reason"),
            "rejected_at": rejected.get("decided_at"),
            "rejected_content": rejected.get("content"),
        }

    def revision_contents(self, uow, product_id):
        return [r["content"] for r in self.revisions.values() if r["product_id"] == str(product_id)]

    def revision_row(self, uow, revision_id):
        return self.revisions.get(revision_id)

    def record_history(self, uow, product_id, actor, action, revision_id=None, details=None):
        self.history.append(
            {
                "product_id": str(product_id),
                "actor": actor,
                "action": action,
                "revision_id": revision_id,
                "details": details or {},
            }
        )

    def availability(self, uow, product_ids, today, now_time):
        return {pid: domain.Availability() for pid in product_ids}

    # holds
    def partner_closed(self, uow, partner_id):
        return partner_id in self.closed

    def live_products_for_hold(self, uow, partner_id, product_ids, days):
        rows = {}
        for pid in {str(_uuid(p)) for p in product_ids}:
            product = self.products.get(pid)
            if product and product["partner_id"] == partner_id and product["live_revision_id"]:
                settings = {k: product[k] for k in domain.SETTINGS_FIELDS}
                rows[pid] = {
                    **product,
                    "version": product["live_version"],
                    "blocks": set(),
                    "settings": settings,
                    "live": self.revisions[product["live_revision_id"]]["content"],
                    "partner_closed": partner_id in self.closed,
                }
        return rows

    def hold_row(self, uow, hold_id, lock=False):
        return copy.deepcopy(self.holds.get(hold_id))

    def _new_hold(
        self, hold_id, partner_id, status, fingerprint, result, lines, released_at=None, redemption_key=None
    ) -> bool:
        """A hold row under an id not taken yet (False when it is), as the store's INSERT ... ON CONFLICT."""
        if hold_id in self.holds:
            return False
        self.holds[hold_id] = {
            "hold_id": hold_id,
            "partner_id": partner_id,
            "status": status,
            "fingerprint": fingerprint,
            "result": copy.deepcopy(result),
            "lines": lines,
            "created_at": NOW,
            "released_at": released_at,
            "redemption_key": redemption_key,
        }
        return True

    def claim_hold_id(self, uow, hold_id, partner_id, fingerprint, result, lines, redemption_key=None):
        return self._new_hold(hold_id, partner_id, "held", fingerprint, result, lines, redemption_key=redemption_key)

    def tombstone_hold_id(self, uow, hold_id, partner_id):
        return self._new_hold(hold_id, partner_id, "released", "", {}, [], released_at=NOW)

    def set_hold_lines(self, uow, hold_id, lines):
        self.holds[hold_id]["lines"] = lines

    def set_hold_result(self, uow, hold_id, result):
        self.holds[hold_id]["result"] = copy.deepcopy(result)

    def take(self, uow, need):
        """The conditional UPDATE of store.take: never beyond capacity."""
        key = (need.product_id, need.key)
        if need.upsert_capacity is not None:
            self.buckets.setdefault(key, {"kind": "price", "capacity": need.upsert_capacity, "taken": 0})
        row = self.buckets.get(key)
        if row is None:
            return (not need.required), False, None, None
        untracked_ok = need.kind == "option" and row["capacity"] is None
        fits = row["capacity"] is not None and row["taken"] + need.quantity <= row["capacity"]
        if need.enforce and not (untracked_ok or fits):
            return False, True, row["taken"], row["capacity"]
        row["taken"] += need.quantity
        return True, True, row["taken"], row["capacity"]

    def give_back(self, uow, product_id, bucket_key, quantity):
        row = self.buckets[(product_id, bucket_key)]
        row["taken"] = max(row["taken"] - quantity, 0)
        return row

    def claim_release_id(self, uow, hold_id, release_id, lines):
        if (hold_id, release_id) in self.releases:
            return False
        self.releases.add((hold_id, release_id))
        return True

    def mark_released(self, uow, hold_id, lines, fully):
        self.holds[hold_id]["lines"] = lines
        if fully:
            self.holds[hold_id].update(status="released", released_at=NOW)

    def holds_still_held(self, uow, partner_id, redemption_key):
        return sum(
            1
            for h in self.holds.values()
            if h["partner_id"] == partner_id and h["redemption_key"] == redemption_key and h["status"] == "held"
        )

    # coupons
    def partner_product_ids(self, uow, partner_id, product_ids):
        return {p for p, row in self.products.items() if row["partner_id"] == partner_id}

    def insert_coupon(self, uow, coupon_id, partner_id, fields):
        row = {
            "coupon_id": str(coupon_id),
            "partner_id": partner_id,
            **fields,
            "redeemed": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        self.coupons[str(coupon_id)] = row
        return dict(row)

    def coupon_by_code(self, uow, partner_id, code, lock=False):
        return next(
            (dict(c) for c in self.coupons.values() if c["partner_id"] == partner_id and c["code"] == code.upper()),
            None,
        )

    def coupon_row(self, uow, partner_id, coupon_id, lock=False):
        row = self.coupons.get(coupon_id)
        return dict(row) if row is not None and row["partner_id"] == partner_id else None

    def issued_counts(self, uow, coupon_ids):
        return {}

    def is_issued(self, uow, coupon_id, customer_id):
        return (coupon_id, customer_id) in self.issues

    def redemption_row(self, uow, partner_id, redemption_key, lock=False):
        return copy.deepcopy(self.redemptions.get((partner_id, redemption_key)))

    def customer_redemptions(self, uow, coupon_id, customer_id):
        return sum(
            1
            for r in self.redemptions.values()
            if r["coupon_id"] == coupon_id and r["customer_id"] == customer_id and r["status"] == "active"
        )

    def redeem(self, uow, partner_id, redemption_key, coupon_id, customer_id, discount):
        self.redemptions[(partner_id, redemption_key)] = {
            "coupon_id": coupon_id,
            "customer_id": customer_id,
            "status": "active",
            "discount_amount": discount,
        }
        self.coupons[coupon_id]["redeemed"] += 1

    def return_redemption(self, uow, partner_id, redemption_key, coupon_id):
        self.redemptions[(partner_id, redemption_key)]["status"] = "returned"
        self.coupons[coupon_id]["redeemed"] -= 1

    # what a test sets up or reads directly
    def slot(self, product: dict, capacity: int, day: dt.date = DAY, at: str = "10:00") -> None:
        key = domain.slot_key(day, dt.time.fromisoformat(at))
        self.buckets[(product["product_id"], key)] = {"kind": "slot", "capacity": capacity, "taken": 0}

    def taken(self, product: dict, key: str) -> int:
        return self.buckets[(product["product_id"], key)]["taken"]


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class FakeAccounts:
    def __init__(self):
        self.status = {}
        self.asked = 0

    def partner_info(self, partner_id):
        self.asked += 1
        return {
            "partner_id": partner_id,
            "name": "Salon",
            "category": "salon",
            "status": self.status.get(partner_id, "verified"),
            "via_agency": False,
            "time_zone": "Asia/Seoul",
        }

    def get_place(self, partner_id, place_id):
        return {"place_id": place_id}

    def storefront(self, partner_id, place_ids):
        return {"partner": None, "places": {}}


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def accounts():
    return FakeAccounts()


@pytest.fixture
def catalog(store, accounts):
    return use_cases.Catalog(InMemoryTransactions(store), store, accounts, PartnerInfoCache(), lambda: NOW)


def booking(**overrides) -> ProductCreate:
    body = {
        "kind": "booking",
        "name": "Hair cut",
        "schedule_type": "datetime",
        "quantity_mode": "slot",
        "prices": [{"label": "adult", "amount": 30000}, {"label": "child", "amount": 15000, "max_quantity": 2}],
        "place_id": "place-main",
        **overrides,
    }
    return ProductCreate.model_validate(body)


def approved(catalog, body: ProductCreate | None = None) -> dict:
    product = catalog.create_product(PARTNER, body or booking(), MEMBER)
    review = catalog.submit_product(PARTNER, product["product_id"], MEMBER)
    return catalog.approve_review(review["revision_id"], NO_NOTE, OPERATOR)


def line(product: dict, price: int = 0, quantity: int = 1, at: str = "10:00") -> dict:
    return {
        "product_id": product["product_id"],
        "price_id": product["live"]["prices"][price]["price_id"],
        "date": DAY.isoformat(),
        "time": at,
        "quantity": quantity,
    }


def hold(catalog, hold_id: str, *lines: dict, coupon: dict | None = None, kind: str | None = None) -> dict:
    request = {"hold_id": hold_id, "lines": list(lines), "coupon": coupon, "kind": kind}
    return HoldReply.of(catalog.hold(PARTNER, HoldIn.model_validate(request)))


def release(catalog, hold_id: str, lines: list | None = None, release_id: str | None = None) -> dict:
    return catalog.release(
        PARTNER, ReleaseIn.model_validate({"hold_id": hold_id, "lines": lines, "release_id": release_id})
    )


def refusal(call) -> DomainError:
    with pytest.raises(Conflict) as raised:
        call()
    return raised.value


# --- holds: capacity and the price maximum (R-RSV-3, R-CAT-2) -----------------------------------


def test_a_hold_takes_every_line_or_nothing_within_slot_capacity(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=3)
    store.slot(product, capacity=1, at="11:00")
    held = hold(catalog, "h-1", line(product, quantity=2))
    assert (held["status"], held["total"], held["subtotal"], held["coupon"]) == ("held", 60000, 60000, None)
    error = refusal(lambda: hold(catalog, "h-2", line(product, quantity=1), line(product, quantity=2, at="11:00")))
    assert (error.code, error.details["line"], error.details["bucket"], error.details["remaining"]) == (
        "capacity_exhausted",
        1,
        "slot",
        1,
    )
    assert store.taken(product, "slot:2026-03-05T10:00") == 2  # the first line of the refused hold took nothing
    assert "h-2" not in store.holds  # a refused hold leaves no trace


def test_a_hold_for_goods_refuses_a_booking_product_and_takes_nothing(catalog, store):
    # #20: orders holds with kind="goods" instead of looking each product up first.
    product = approved(catalog)
    store.slot(product, capacity=3)
    with pytest.raises(ValidationFailed) as refused:
        hold(catalog, "h-1", line(product), kind="goods")
    assert refused.value.details["fields"] == {"lines.0.product_id": "not a menu item or shop product"}
    assert store.taken(product, "slot:2026-03-05T10:00") == 0 and "h-1" not in store.holds
    assert hold(catalog, "h-2", line(product), kind="booking")["status"] == "held"


def test_r_cat_2_the_price_maximum_counts_across_every_slot(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=10)
    store.slot(product, capacity=10, at="11:00")
    hold(catalog, "h-1", line(product, price=1, quantity=2))
    error = refusal(lambda: hold(catalog, "h-2", line(product, price=1, at="11:00")))
    assert (error.code, error.details["bucket"], error.details["remaining"]) == ("capacity_exhausted", "price", 0)
    release(catalog, "h-1")
    assert hold(catalog, "h-3", line(product, price=1, at="11:00"))["status"] == "held"


def test_a_hold_id_is_single_use_and_replays_the_same_request(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=5)
    first = hold(catalog, "h-1", line(product, quantity=2))
    assert hold(catalog, "h-1", line(product, quantity=2)) == first
    assert refusal(lambda: hold(catalog, "h-1", line(product, quantity=3))).code == "hold_id_reused"
    assert store.taken(product, "slot:2026-03-05T10:00") == 2


def test_r_acc_8_a_partner_not_verified_holds_nothing_and_a_verified_answer_is_remembered(catalog, store, accounts):
    product = approved(catalog)
    store.slot(product, capacity=5)
    hold(catalog, "h-1", line(product))
    hold(catalog, "h-2", line(product))
    assert accounts.asked == 1
    store.closed.add(PARTNER)  # partner.closed: read inside the hold's transaction
    assert refusal(lambda: hold(catalog, "h-3", line(product))).details == {"partner_id": PARTNER, "status": "closed"}


def test_r_acc_14_a_closed_partner_is_refused_as_closed_even_for_a_product_it_never_had(catalog, store):
    """The closure comes with the products' rows (#20); with no row, it is asked apart."""
    product = approved(catalog)
    store.slot(product, capacity=5)
    store.closed.add(PARTNER)
    never_had = {**product, "product_id": str(uuid.uuid4())}
    for asked in (product, never_had):
        refused = refusal(lambda: hold(catalog, "h-1", line(asked)))
        assert (refused.code, refused.details) == ("partner_not_open", {"partner_id": PARTNER, "status": "closed"})
    assert store.holds == {}


# --- releases --------------------------------------------------------------------------------


def test_release_is_idempotent_partial_by_release_id_and_never_more_than_held(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=5)
    hold(catalog, "h-1", line(product, quantity=3))
    partial = release(catalog, "h-1", [{"line": 0, "quantity": 1}], "cancel-1")
    assert (partial["status"], partial["released_now"]) == ("held", [{"line": 0, "quantity": 1}])
    assert release(catalog, "h-1", [{"line": 0, "quantity": 1}], "cancel-1")["released_now"] == []
    assert (
        refusal(lambda: release(catalog, "h-1", [{"line": 0, "quantity": 3}], "cancel-2")).code
        == "release_exceeds_hold"
    )
    assert store.taken(product, "slot:2026-03-05T10:00") == 2
    whole = release(catalog, "h-1")
    assert (whole["status"], whole["released_now"]) == ("released", [{"line": 0, "quantity": 2}])
    assert release(catalog, "h-1")["released_now"] == []
    assert store.taken(product, "slot:2026-03-05T10:00") == 0


def test_a_release_before_its_hold_spends_the_id_and_another_partners_id_is_a_no_op(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=5)
    assert release(catalog, "late")["status"] == "released"
    assert hold(catalog, "late", line(product))["status"] == "released"  # took nothing
    assert store.taken(product, "slot:2026-03-05T10:00") == 0
    hold(catalog, "h-1", line(product))
    other = catalog.release("partner-2", ReleaseIn(hold_id="h-1"))
    assert (other["released_now"], store.taken(product, "slot:2026-03-05T10:00")) == ([], 1)
    with pytest.raises(NotFound):
        catalog.get_hold("late", PARTNER)
    with pytest.raises(NotFound):
        catalog.get_hold("h-1", "partner-2")


# --- coupons with the hold (issue #11) ------------------------------------------------------------


def test_a_coupon_is_redeemed_with_the_hold_once_per_key_and_given_back_by_a_whole_release(catalog, store):
    product = approved(catalog)
    store.slot(product, capacity=5)
    coupon = catalog.create_coupon(
        PARTNER,
        CouponCreate.model_validate(
            {
                "name": "Welcome",
                "discount_type": "fixed",
                "amount": 5000,
                "distribution": "code",
                "code": "hello",
                "total_limit": 1,
            }
        ),
        MEMBER,
    )
    ref = {"code": "HELLO", "customer_id": "c-1", "redemption_key": "reservation:1"}
    held = hold(catalog, "h-1", line(product), coupon=ref)
    assert (held["subtotal"], held["discount_amount"], held["total"]) == (30000, 5000, 25000)
    moved = hold(catalog, "h-2", line(product, at="10:00"), coupon=ref)  # a date change: the same key
    assert (moved["discount_amount"], store.coupons[coupon["coupon_id"]]["redeemed"]) == (5000, 1)
    assert (
        refusal(lambda: hold(catalog, "h-3", line(product), coupon={**ref, "redemption_key": "order:9"})).code
        == "coupon_exhausted"
    )
    release(catalog, "h-1")  # the new hold of the key still holds it
    assert store.coupons[coupon["coupon_id"]]["redeemed"] == 1
    release(catalog, "h-2")
    assert store.coupons[coupon["coupon_id"]]["redeemed"] == 0
    with pytest.raises(ValidationFailed):
        hold(catalog, "h-4", line(product), coupon={**ref, "coupon_id": coupon["coupon_id"]})  # one of the two


# --- product review (R-CAT-5) -------------------------------------------------------------------


def test_r_cat_5_review_transitions_and_what_each_publishes(catalog, store):
    product = catalog.create_product(PARTNER, booking(), MEMBER)
    assert (product["review_status"], product["live"], catalog.db.outbox) == ("draft", None, [])
    placeless = catalog.create_product(PARTNER, booking(place_id=None), MEMBER)
    with pytest.raises(ValidationFailed):  # a booking product names its place before review
        catalog.submit_product(PARTNER, placeless["product_id"], MEMBER)
    review = catalog.submit_product(PARTNER, product["product_id"], MEMBER)
    assert refusal(lambda: catalog.submit_product(PARTNER, product["product_id"], MEMBER)).code == "already_in_review"
    live = catalog.approve_review(review["revision_id"], NO_NOTE, OPERATOR)
    assert (live["live"]["version"], live["pending"], live["review_status"]) == (1, None, "approved")
    assert refusal(lambda: catalog.approve_review(review["revision_id"], NO_NOTE, OPERATOR)).code == "invalid_state"

    edited = catalog.update_product(PARTNER, product["product_id"], ProductPatch(name="Hair cut and wash"), MEMBER)
    assert (edited["live"]["name"], edited["pending"]["name"]) == ("Hair cut", "Hair cut and wash")
    second = catalog.submit_product(PARTNER, product["product_id"], MEMBER)
    withdrawn = catalog.update_product(PARTNER, product["product_id"], ProductPatch(name="Wash"), MEMBER)
    assert withdrawn["pending"]["status"] == "draft"  # editing a pending revision withdraws it
    resubmitted = catalog.submit_product(PARTNER, product["product_id"], MEMBER)
    assert resubmitted["revision_id"] == second["revision_id"]
    rejected = catalog.reject_review(resubmitted["revision_id"], "blurry photo", OPERATOR)
    assert (rejected["review_status"], rejected["live"]["name"]) == ("rejected", "Hair cut")
    fixed = catalog.update_product(PARTNER, product["product_id"], ProductPatch(description="Sharp"), MEMBER)
    assert (fixed["pending"]["name"], fixed["pending"]["number"]) == ("Wash", 3)  # from the rejected content
    assert (
        catalog.update_product(PARTNER, product["product_id"], ProductPatch(paused=True), MEMBER)["settings"]["paused"]
        is True
    )
    assert [e for e, _ in catalog.db.outbox] == [
        "product.submitted",
        "product.approved",
        "product.submitted",
        "product.submitted",
        "product.rejected",
        "product.changed",
    ]
    assert [h["action"] for h in store.history if h["product_id"] == product["product_id"]] == [
        "created",
        "submitted",
        "approved",
        "revision_started",
        "submitted",
        "review_withdrawn",
        "submitted",
        "rejected",
        "revision_started",
        "settings_changed",
    ]


def test_an_edit_that_changes_nothing_starts_no_revision(catalog, store):
    product = approved(catalog)
    same = catalog.update_product(PARTNER, product["product_id"], ProductPatch(name="Hair cut"), MEMBER)
    assert same["pending"] is None
    assert catalog.update_product(PARTNER, product["product_id"], ProductPatch(paused=False), MEMBER)["updated_at"]
    assert [h["action"] for h in store.history][-1] == "approved"
    with pytest.raises(NotFound):
        catalog.update_product("partner-2", product["product_id"], ProductPatch(name="Mine"), MEMBER)
