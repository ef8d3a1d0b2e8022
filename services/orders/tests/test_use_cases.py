"""The orders use cases in memory (issue 19): fakes of the unit of work, the
repository and the catalog and accounts ports, no RabbitMQ or PostgreSQL.
Order creation with its Idempotency-Key (new, replay, another body, a refusal,
a catalog that does not answer) and partner transitions, in milliseconds; the
cross-process cases (crashes, redelivery, concurrency) stay in the suites
that run the services."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest

from chassis import Actor
from chassis.errors import Conflict, DomainError, ServiceUnavailable
from chassis.fakes import InMemoryTransactions
from chassis.partner_info import PartnerInfoCache
from chassis.validation import parse
from orders import domain
from orders.schemas import OrderCreate
from orders.use_cases import Orders, Settings

NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)
PARTNER = "partner-1"
PRODUCT = "product-1"


class FakeStore:
    """store.py's functions over dicts (only those these use cases reach)."""

    def __init__(self):
        self.keys, self.orders, self.lines, self.releases, self.numbers = {}, {}, {}, {}, {}

    def claim_creation_key(self, tx, customer_id, key, partner_id, fingerprint, hold_id):
        return self.keys.setdefault(
            (customer_id, key),
            {
                "customer_id": customer_id,
                "key": key,
                "hold_id": hold_id,
                "partner_id": partner_id,
                "fingerprint": fingerprint,
                "order_id": None,
                "response": None,
                "swept_at": None,
                "state": "pending",
                "response_status": None,
            },
        )

    def creation_key(self, tx, customer_id, key, lock=False):
        return self.keys.get((customer_id, key))

    def finish_creation_key(self, tx, customer_id, key, order_id, answer):
        self.keys[(customer_id, key)].update(order_id=order_id, **copy.deepcopy(answer))

    def refuse_creation_key(self, tx, customer_id, key, hold_id, refusal):
        self.keys[(customer_id, key)].update(copy.deepcopy(refusal))

    def next_order_number(self, tx, partner_id, day):
        self.numbers[(partner_id, day)] = self.numbers.get((partner_id, day), 0) + 1
        return self.numbers[(partner_id, day)]

    def insert_order(self, tx, order, lines):
        self.orders[order["order_id"]] = dict(order)
        self.lines[order["order_id"]] = [{**domain.new_line_row(line), "hold_id": order["hold_id"]} for line in lines]
        return dict(order)

    def order_row(self, tx, order_id, partner_id=None, customer_id=None, lock=False):
        order = self.orders.get(uuid.UUID(str(order_id)))
        if (
            order is None
            or partner_id not in (None, order["partner_id"])
            or customer_id not in (None, order["customer_id"])
        ):
            return None
        return dict(order)

    def update_order(self, tx, order_id, **changes):
        self.orders[order_id].update(changes)
        return dict(self.orders[order_id])

    def line_rows(self, tx, order_id):
        return [dict(line) for line in self.lines[order_id]]

    def insert_release(self, tx, release_id, order, hold_id, lines):
        self.releases.setdefault(
            release_id,
            {
                "release_id": release_id,
                "hold_id": hold_id,
                "lines": lines,
                "partner_id": order["partner_id"],
                "released": False,
            },
        )

    def claim_release(self, tx, release_id, lease_seconds):
        row = self.releases.get(release_id)
        return None if row is None or row["released"] else dict(row)

    def mark_released(self, tx, release_id):
        self.releases[release_id]["released"] = True

    def release_failed(self, tx, release_id, error):
        self.releases[release_id]["error"] = error

    def close_open_requests(self, tx, order_id, reason):
        pass

    def contact_access_of_order(self, tx, order_id):
        return []

    def requests_of_order(self, tx, order_id):
        return []

    def feedback_of_order(self, tx, table, order_id):
        return []


class FakeCatalog:
    """Holds priced at 4,500 a unit; ``refusal`` or ``unavailable`` make the next holds fail.
    Every call checks that no transaction of ``db`` is open (no RPC under a row lock)."""

    def __init__(self, db):
        self.db = db
        self.holds, self.released = {}, []
        self.refusal = None
        self.unavailable = False

    def __getattribute__(self, name):
        if name in ("hold", "release", "get_live_product"):
            assert object.__getattribute__(self, "db").open == 0, f"catalog.{name} inside a transaction"
        return object.__getattribute__(self, name)

    def hold(self, hold_id, partner_id, lines, coupon=None, kind=None):
        assert kind == "goods", "orders hold goods only"
        if self.unavailable:
            raise ServiceUnavailable(message="catalog did not answer")
        if self.refusal is not None:
            raise self.refusal
        held = [
            {
                "line": index,
                "product_id": line["product_id"],
                "option_id": line["option_id"] or "regular",  # the catalog fills a product's only option
                "name": "Americano",
                "label": "regular",
                "quantity": line["quantity"],
                "unit_price": 4500,
                "kind": "goods",
            }
            for index, line in enumerate(lines)
        ]
        return self.holds.setdefault(
            hold_id,
            {
                "hold_id": hold_id,
                "status": "held",
                "lines": held,
                "total": sum(4500 * line["quantity"] for line in lines),
            },
        )

    def release(self, hold_id, partner_id, lines=None, release_id=None):
        self.released.append(hold_id)

    def get_live_product(self, partner_id, product_id):
        return {"kind": "goods", "options": [{"option_id": "regular", "amount": 4500}]}


class FakeAccounts:
    def partner_info(self, partner_id):
        return {
            "partner_id": partner_id,
            "name": "Cafe",
            "category": "cafe",
            "status": "verified",
            "via_agency": False,
            "time_zone": "Asia/Seoul",
        }

    def customer_contact(self, customer_id):
        return {"name": "김다온", "phone": "01012345678"}


@pytest.fixture
def app():
    store = FakeStore()
    db = InMemoryTransactions(store)
    return Orders(db, store, FakeCatalog(db), FakeAccounts(), Settings(), lambda: NOW, partners=PartnerInfoCache())


def takeout(quantity=1, **extra):
    return parse(
        OrderCreate,
        {
            "partner_id": PARTNER,
            "channel": "takeout",
            "lines": [{"product_id": PRODUCT, "quantity": quantity}],
            **extra,
        },
    )


def test_a_new_order_is_held_recorded_with_its_defaults_and_announced(app):
    order = app.create_order("customer-1", "key-1", takeout(2))
    assert (order["status"], order["payment_status"], order["total"], order["number"]) == ("received", "paid", 9000, 1)
    assert order["customer_name"] == "김다온"  # in store: called by name
    assert order["auto_complete_at"] == (NOW + domain.AUTO_COMPLETE_AFTER).isoformat()
    assert [line["option_id"] for line in order["lines"]] == ["regular"]  # the product's only option
    assert [event for event, _ in app.db.outbox] == ["order.received"]
    assert app.store.keys[("customer-1", "key-1")]["response"] == order


def test_an_in_store_order_takes_the_name_the_gateway_knows_and_asks_accounts_only_without_it(app):
    # #20: the gateway's principal carries the customer's name, so a cafe order makes one RPC (the hold).
    asked = []
    app.accounts.customer_contact = lambda customer_id: asked.append(customer_id) or {"name": "김다온"}
    assert app.create_order("customer-1", "key-1", takeout(), "이서윤")["customer_name"] == "이서윤"
    assert asked == []
    assert app.create_order("customer-2", "key-2", takeout())["customer_name"] == "김다온"
    assert asked == ["customer-2"]
    assert app.store.keys[("customer-1", "key-1")]["state"] == "done"


def test_the_same_key_and_body_replay_the_first_response_and_another_body_is_refused(app):
    first = app.create_order("customer-1", "key-1", takeout())
    assert app.create_order("customer-1", "key-1", takeout()) == first
    assert len(app.catalog.holds) == 1 and len(app.db.outbox) == 1  # nothing held or sent twice
    with pytest.raises(Conflict) as reused:
        app.create_order("customer-1", "key-1", takeout(note="no sugar"))
    assert reused.value.code == "idempotency_key_reused"
    assert app.create_order("customer-2", "key-1", takeout())["order_id"] != first["order_id"]  # per customer


def test_a_refusal_is_the_keys_answer_for_the_same_body(app):
    app.catalog.refusal = Conflict("out_of_stock", "sold out", {"line": 0, "remaining": 0})
    with pytest.raises(Conflict) as refused:
        app.create_order("customer-1", "key-1", takeout())
    assert refused.value.code == "out_of_stock"
    assert app.store.orders == {} and app.db.outbox == []
    app.catalog.refusal = None  # the stock came back: the key still answers
    with pytest.raises(DomainError) as replayed:
        app.create_order("customer-1", "key-1", takeout())
    assert replayed.value.to_body() == refused.value.to_body() and replayed.value.status == 409
    with pytest.raises(Conflict) as reused:
        app.create_order("customer-1", "key-1", takeout(2))
    assert reused.value.code == "idempotency_key_reused"
    assert app.create_order("customer-1", "key-2", takeout())["status"] == "received"  # a new key: evaluated


def test_a_catalog_that_does_not_answer_keeps_the_key_for_the_retry_with_the_same_hold(app):
    app.catalog.unavailable = True
    with pytest.raises(ServiceUnavailable):
        app.create_order("customer-1", "key-1", takeout())
    pending = app.store.keys[("customer-1", "key-1")]
    assert pending["order_id"] is None and app.store.orders == {}
    app.catalog.unavailable = False
    order = app.create_order("customer-1", "key-1", takeout())
    assert order["order_id"] == str(domain.order_id_of(pending["hold_id"]))  # the hold id drawn first


def test_a_partner_takes_an_in_store_order_through_its_states_and_a_cancellation_gives_the_stock_back(app):
    member = Actor("member", "member-1")
    order = app.create_order("customer-1", "key-1", takeout())
    preparing = app.transition(PARTNER, order["order_id"], "start_preparing", member, preparation_minutes=10)
    assert (preparing["status"], preparing["ready_at"]) == ("preparing", (NOW + dt.timedelta(minutes=10)).isoformat())
    with pytest.raises(Conflict) as refused:
        app.transition(PARTNER, order["order_id"], "ship", member)
    assert refused.value.details["channel"] == "takeout"
    with pytest.raises(Conflict):
        app.cancel(order["order_id"], "customer", None, customer_id="customer-1")  # R-ORD-5: preparing
    cancelled = app.cancel(order["order_id"], "partner", "out of beans", member, partner_id=PARTNER)
    assert (cancelled["status"], cancelled["refunded_amount"], cancelled["payment_status"]) == (
        "cancelled",
        4500,
        "refunded",
    )
    assert app.store.orders[uuid.UUID(order["order_id"])]["actor_id"] == "member-1"
    assert app.catalog.released == [app.store.orders[uuid.UUID(order["order_id"])]["hold_id"]]
    assert [event for event, _ in app.db.outbox] == ["order.received", "order.preparing", "order.cancelled"]


def test_an_api_key_is_recorded_as_itself(app):
    order = app.create_order("customer-1", "key-1", takeout())
    app.transition(
        PARTNER,
        order["order_id"],
        "start_preparing",
        Actor.from_wire({"kind": "api_key", "member_id": None, "api_key_id": "k1", "scopes": ["orders:write"]}),
    )
    assert app.store.orders[uuid.UUID(order["order_id"])]["actor_id"] == "api_key:k1"


def test_r_ord_5_the_customer_cancels_a_received_order_once_and_its_stock_goes_back(app):
    order = app.create_order("customer-1", "key-1", takeout(2))
    cancelled = app.cancel(order["order_id"], "customer", None, customer_id="customer-1")
    assert (cancelled["status"], cancelled["cancelled_by"], cancelled["refunded_amount"]) == (
        "cancelled",
        "customer",
        9000,
    )
    for by, owner in (("customer", {"customer_id": "customer-1"}), ("partner", {"partner_id": PARTNER})):
        with pytest.raises(Conflict) as refused:
            app.cancel(order["order_id"], by, None, **owner)
        assert refused.value.details["reason"] == "already_cancelled"
    cancel_events = [payload for event, payload in app.db.outbox if event == "order.cancelled"]
    assert [(e["actor"], e["refund_amount"]) for e in cancel_events] == [("customer", 9000)]
    assert len(app.catalog.released) == 1 and all(r["released"] for r in app.store.releases.values())
