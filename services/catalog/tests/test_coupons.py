"""Coupons (issue #11) through the gateway, with the real catalog, reservations,
orders and settlement: a partner defines coupons (code or issued), bookings and
orders redeem one atomically with their catalog hold, limits hold under 100
concurrent redemptions, a retried booking redeems once, cancellation gives the
coupon back, a date change keeps it, each refusal has its code, the discount
is in the views, the events and the settlement ledger; and the catalog hold
refuses a partner that is not verified (R-ACC-8)."""

from __future__ import annotations

import datetime as dt
import uuid

import eventlet

from orders.tests.helpers import cafe, db_rows, order
from reservations.tests.helpers import booking_body, day, live_product, outbox
from settlement.reconcile import reconcile
from support.api import assert_error, expect

from chassis.testing import eventually

# Few connections on the shared PostgreSQL; enough workers for 100 bookings at once.
SERVICE_CONFIG = {
    "accounts": {"max_workers": 6},
    "catalog": {"max_workers": 8},
    "reservations": {"max_workers": 8},
    "orders": {"max_workers": 4},
    "settlement": {"max_workers": 3},
}
SERVICES = ("catalog", "reservations", "orders", "settlement")


def platform(partner_center):
    return partner_center(*SERVICES, service_config=SERVICE_CONFIG, gateway_config={"max_workers": 20})


def seoul_today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()


class Coupons:
    """A partner's coupons through the gateway."""

    def __init__(self, partner):
        self.partner = partner
        self.admin = partner.admin.client

    def create(self, status: int = 201, **fields):
        body = {
            "name": "Welcome",
            "discount_type": "fixed",
            "amount": 5000,
            "distribution": "code",
            "code": f"C{uuid.uuid4().hex[:8]}",
            **fields,
        }
        if body["distribution"] == "issued" and "code" not in fields:
            body.pop("code")
        return (
            expect(self.admin.post(f"{self.partner.path}/coupons", json=body), status)
            if status < 400
            else assert_error(self.admin.post(f"{self.partner.path}/coupons", json=body), status)
        )

    def get(self, coupon_id: str) -> dict:
        return expect(self.admin.get(f"{self.partner.path}/coupons/{coupon_id}"), 200)


def book(customer, product, key=None, client=None, quantities=(1,), time="10:00", **coupon):
    body = {**booking_body(product, quantities=quantities, time=time), **coupon}
    return (client or customer.client).post(
        "/v1/shop/reservations", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex}
    )


def slot_taken(partner, product, date=None, time="10:00") -> int:
    """Seats taken at one slot (``time=None``: at every slot of the product)."""
    inventory = expect(partner.admin.client.get(f"{partner.path}/products/{product['product_id']}/inventory"), 200)
    return sum(s["taken"] for s in inventory["slots"] if s["date"] == (date or day()) and time in (None, s["time"]))


def statuses(responses) -> dict:
    counted: dict = {}
    for response in responses:
        key = (
            response.status_code
            if response.status_code < 400
            else (response.status_code, response.json()["error"]["code"])
        )
        counted[key] = counted.get(key, 0) + 1
    return counted


def test_coupon_limits_hold_under_100_concurrent_redemptions_and_a_retry_redeems_once(partner_center):
    pc = platform(partner_center)
    salon = pc.create_partner(category="salon")
    times = [f"{hour:02d}:00" for hour in range(8, 20)]  # 12 slots: only the coupon's lock orders the bookings
    product = live_product(pc, salon, slots=[{"date": day(), "time": t, "capacity": 1000} for t in times])
    coupons = Coupons(salon)

    # Total limit: 100 customers book at once with the same code; exactly the limit succeed.
    rush = coupons.create(code="rush-hour", total_limit=7, amount=1000)
    assert (rush["code"], rush["state"], rush["remaining"]) == ("RUSH-HOUR", "active", 7)  # any case, stored upper
    customers = list(eventlet.GreenPool(20).imap(lambda _: pc.customer_session(), range(100)))
    answers = list(
        eventlet.GreenPool(100).imap(
            lambda i: book(customers[i], product, time=times[i % len(times)], coupon_code="Rush-Hour"), range(100)
        )
    )
    assert statuses(answers) == {201: 7, (409, "coupon_exhausted"): 93}
    taken = [a.json() for a in answers if a.status_code == 201]
    assert all(t["total"] == t["subtotal"] - t["discount_amount"] and t["discount_amount"] == 1000 for t in taken)
    assert slot_taken(salon, product, time=None) == 7  # a refused booking takes no seat either
    rush = coupons.get(rush["coupon_id"])
    assert (rush["redeemed"], rush["remaining"], rush["state"]) == (7, 0, "exhausted")
    # A refusal was stored as the key's answer (api.md): the same key replays it, nothing taken.
    refused_key = uuid.uuid4().hex
    assert_error(book(customers[0], product, key=refused_key, coupon_code="RUSH-HOUR"), 409, "coupon_exhausted")

    # Per-customer limit: one customer, 12 bookings at once with their own keys.
    twice = coupons.create(per_customer_limit=2, amount=2000)
    customer = customers[-1]
    answers = list(
        eventlet.GreenPool(12).imap(
            lambda i: book(
                customer,
                product,
                client=customer.client.with_token(customer.token),
                time=times[i],
                coupon_id=twice["coupon_id"],
            ),
            range(12),
        )
    )
    assert statuses(answers) == {201: 2, (409, "coupon_limit_reached"): 10}
    assert coupons.get(twice["coupon_id"])["redeemed"] == 2
    path = f"{salon.path}/coupons/{twice['coupon_id']}"
    assert (
        assert_error(salon.admin.client.patch(path, json={"total_limit": 1}), 409, "limit_below_redeemed")["details"][
            "redeemed"
        ]
        == 2
    )
    edited = expect(salon.admin.client.patch(path, json={"total_limit": 2, "name": "Twice"}), 200)
    assert (edited["name"], edited["state"], edited["remaining"]) == ("Twice", "exhausted", 0)
    assert slot_taken(salon, product, time=None) == 9

    # A retried booking (same Idempotency-Key), sent again and 10 times at once, redeems once.
    once = coupons.create(total_limit=5)
    key = uuid.uuid4().hex
    first = expect(book(customer, product, key=key, coupon_code=once["code"]), 201)
    again = list(
        eventlet.GreenPool(10).imap(
            lambda _: book(
                customer, product, key=key, client=customer.client.with_token(customer.token), coupon_code=once["code"]
            ),
            range(10),
        )
    )
    assert [a.status_code for a in again] == [201] * 10 and {a.json()["number"] for a in again} == {first["number"]}
    assert (first["coupon"]["coupon_id"], first["discount_amount"]) == (once["coupon_id"], 5000)
    assert coupons.get(once["coupon_id"])["redeemed"] == 1
    assert slot_taken(salon, product, time=None) == 10
    # Concurrent first uses of one key, too (another customer): one booking, one redemption.
    key, racer = uuid.uuid4().hex, customers[-2]
    racing = list(
        eventlet.GreenPool(10).imap(
            lambda _: book(
                racer, product, key=key, client=racer.client.with_token(racer.token), coupon_code=once["code"]
            ),
            range(10),
        )
    )
    assert [r.status_code for r in racing] == [201] * 10 and len({r.json()["number"] for r in racing}) == 1
    assert coupons.get(once["coupon_id"])["redeemed"] == 2
    assert slot_taken(salon, product, time=None) == 11


def test_coupon_lifecycle_refusals_views_events_ledger_orders_and_r_acc_8(partner_center, rpc):
    pc = platform(partner_center)
    salon = pc.create_partner(category="salon")
    product = live_product(
        pc,
        salon,
        payment="prepaid",
        slots=[{"date": day(), "time": "10:00", "capacity": 100}, {"date": day(), "time": "11:00", "capacity": 100}],
    )
    other_product = live_product(pc, salon, name="Colour", slots=[{"date": day(), "time": "10:00", "capacity": 9}])
    free = live_product(
        pc,
        salon,
        name="Free visit",
        prices=[{"label": "visitor", "amount": 0}],
        schedule_type="date",
        quantity_mode="date",
        slots=[{"date": day(), "capacity": 5}, {"date": day(4), "capacity": 5}],
    )
    coupons = Coupons(salon)
    customer, stranger = pc.customer_session(), pc.customer_session()
    reservations_db = pc.containers["reservations"].config["DATABASE_URL"]

    # --- definition: 422 naming the field, codes unique per partner, tenancy ----------------
    for fields, field in (
        ({"amount": None}, "amount"),
        ({"discount_type": "percent", "percent": 10}, "amount"),
        ({"discount_type": "percent", "amount": None}, "percent"),
        ({"code": None}, "code"),
        ({"distribution": "issued", "code": "ABC123"}, "code"),
        ({"starts_at": "2030-01-02T00:00:00+09:00", "ends_at": "2030-01-01T00:00:00+09:00"}, "ends_at"),
        ({"product_ids": [str(uuid.uuid4())]}, "product_ids.0"),
        ({"code": "no spaces"}, "code"),
        ({"redeemed": 0}, "redeemed"),
        ({"name": "a\x00b"}, "name"),
    ):
        assert field in coupons.create(422, **fields)["details"]["fields"], fields
    welcome = coupons.create(code="WELCOME", amount=6000, product_ids=[product["product_id"]])
    assert coupons.create(409, code="welcome")["code"] == "coupon_code_taken"
    rival = pc.create_partner(category="salon")
    assert_error(rival.admin.client.get(f"{salon.path}/coupons/{welcome['coupon_id']}"), 404, "partner_not_found")
    assert_error(rival.admin.client.get(f"{rival.path}/coupons/{welcome['coupon_id']}"), 404, "coupon_not_found")
    assert expect(rival.admin.client.get(f"{rival.path}/coupons"), 200)["items"] == []
    member = pc.staff(salon, "member")
    assert [c["coupon_id"] for c in expect(member.client.get(f"{salon.path}/coupons"), 200)["items"]] == [
        welcome["coupon_id"]
    ]
    assert_error(member.client.post(f"{salon.path}/coupons/{welcome['coupon_id']}/pause"), 403)

    # --- every refusal code; none takes a seat or writes a booking --------------------------
    taken_before = slot_taken(salon, product)
    expired = coupons.create(starts_at="2020-01-01T00:00:00+09:00", ends_at="2020-02-01T00:00:00+09:00")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    scheduled = coupons.create(starts_at=later)
    paused = coupons.create()
    assert (
        expect(salon.admin.client.post(f"{salon.path}/coupons/{paused['coupon_id']}/pause"), 200)["state"] == "paused"
    )
    elsewhere = coupons.create(product_ids=[other_product["product_id"]])
    big_spender = coupons.create(min_spend=100_000)
    gift = coupons.create(
        distribution="issued", discount_type="percent", percent=10, amount=None, max_discount=2500, total_limit=3
    )
    rival_coupon = Coupons(rival).create(code="RIVAL1")
    cases = [
        ({"coupon_code": "NOSUCHCODE"}, 404, "coupon_not_found"),
        ({"coupon_code": rival_coupon["code"]}, 404, "coupon_not_found"),  # another partner's
        ({"coupon_id": rival_coupon["coupon_id"]}, 404, "coupon_not_found"),
        ({"coupon_code": expired["code"]}, 409, "coupon_expired"),
        ({"coupon_code": scheduled["code"]}, 409, "coupon_not_started"),
        ({"coupon_code": paused["code"]}, 409, "coupon_paused"),
        ({"coupon_code": elsewhere["code"]}, 409, "coupon_not_applicable"),
        ({"coupon_code": big_spender["code"]}, 409, "coupon_min_spend"),
        ({"coupon_id": gift["coupon_id"]}, 409, "coupon_not_issued"),
    ]
    for coupon, status, code in cases:
        assert_error(book(customer, product, **coupon), status, code)
    assert "coupon_code" in assert_error(book(customer, product, coupon_code="!!"), 422)["details"]["fields"]
    assert (
        "coupon_id"
        in assert_error(book(customer, product, coupon_code="WELCOME", coupon_id=gift["coupon_id"]), 422)["details"][
            "fields"
        ]
    )
    assert slot_taken(salon, product) == taken_before
    assert expect(customer.client.get("/v1/shop/reservations"), 200)["items"] == []
    expect(salon.admin.client.post(f"{salon.path}/coupons/{paused['coupon_id']}/resume"), 200)
    assert expect(book(customer, product, coupon_code=paused["code"]), 201)["discount_amount"] == 5000

    # --- issued coupons: given to customers, listed with the uses left ----------------------
    issued = expect(
        salon.admin.client.post(
            f"{salon.path}/coupons/{gift['coupon_id']}/issue",
            json={"customer_ids": [customer.customer_id, customer.customer_id]},
        ),
        200,
    )
    assert (issued["issued_now"], issued["issued"]) == (1, 1)
    assert_error(
        salon.admin.client.post(
            f"{salon.path}/coupons/{welcome['coupon_id']}/issue", json={"customer_ids": [customer.customer_id]}
        ),
        409,
        "coupon_not_issuable",
    )
    mine = expect(customer.client.get("/v1/shop/coupons"), 200)["items"]
    assert [(c["coupon_id"], c["uses_left"], c["state"]) for c in mine] == [(gift["coupon_id"], 1, "active")]
    assert expect(stranger.client.get("/v1/shop/coupons"), 200)["items"] == []

    # --- the discount in the price snapshot, the views and the event --------------------------
    booked = expect(book(customer, product, quantities=(2,), coupon_id=gift["coupon_id"]), 201)
    assert (booked["subtotal"], booked["discount_amount"]) == (60000, 2500)  # 10 %, at most 2,500
    assert booked["total"] == booked["subtotal"] - booked["discount_amount"]
    number = booked["number"]
    seen = expect(salon.admin.client.get(f"{salon.path}/reservations/{number}"), 200)
    assert (seen["total"], seen["discount_amount"], seen["coupon"]["coupon_id"]) == (
        booked["total"],
        2500,
        gift["coupon_id"],
    )
    event = outbox(reservations_db, "reservation.requested", number)[0]
    assert (event["total"], event["discount_amount"], event["coupon_id"]) == (booked["total"], 2500, gift["coupon_id"])
    assert expect(customer.client.get("/v1/shop/coupons"), 200)["items"][0]["uses_left"] == 0
    assert_error(book(customer, product, coupon_id=gift["coupon_id"]), 409, "coupon_limit_reached")
    assert_error(salon.admin.client.patch(f"{salon.path}/coupons/{gift['coupon_id']}", json={"total_limit": 0}), 422)

    # A partial cancellation keeps the coupon; the refund is what was paid for the seat (R-RSV-4).
    cancelled = expect(
        customer.client.post(f"/v1/shop/reservations/{number}/cancel", json={"lines": [{"line": 0, "quantity": 1}]}),
        200,
    )
    assert cancelled["cancellation"]["refund"] == booked["total"] - cancelled["total"]
    assert cancelled["cancellation"]["refund"] < booked["subtotal"] // 2  # less than the listed price
    assert cancelled["total"] == cancelled["subtotal"] - cancelled["discount_amount"]
    assert coupons.get(gift["coupon_id"])["redeemed"] == 1

    # A full cancellation gives it back: it can be used again, and the uses left are restored.
    expect(customer.client.post(f"/v1/shop/reservations/{number}/cancel", json={}), 200)
    assert coupons.get(gift["coupon_id"])["redeemed"] == 0
    assert expect(customer.client.get("/v1/shop/coupons"), 200)["items"][0]["uses_left"] == 1
    assert (coupons.get(gift["coupon_id"])["remaining"], slot_taken(salon, product)) == (3, taken_before + 1)
    sold = expect(book(customer, product, coupon_id=gift["coupon_id"]), 201)

    # --- settlement: the sale at what was paid, the discount recorded, commission on what was paid --
    for action in ("confirm", "complete"):
        expect(salon.admin.client.post(f"{salon.path}/reservations/{sold['number']}/{action}"), 200)

    def ledger(partner, ref):
        items = expect(partner.admin.client.get(f"{partner.path}/ledger", params={"limit": 100}), 200)["items"]
        return {t["kind"]: t for t in items if t["source_ref"] == ref}

    entries = eventually(
        lambda: len(ledger(salon, sold["number"])) == 2 and ledger(salon, sold["number"]),
        message="the sale in the ledger",
    )
    sale, commission = entries["sale"], entries["commission"]
    assert (sale["amount"], sale["discount_amount"], sale["coupon_id"]) == (
        sold["total"],
        sold["discount_amount"],
        gift["coupon_id"],
    )
    assert sold["discount_amount"] > 0 and sold["total"] < sold["subtotal"]
    assert commission["amount"] == sale["amount"] * sale["commission_bps"] // 10_000
    every_sale = [
        t
        for t in expect(salon.admin.client.get(f"{salon.path}/ledger", params={"limit": 100}), 200)["items"]
        if t["kind"] == "sale"
    ]
    summary = expect(salon.admin.client.get(f"{salon.path}/sales-summary"), 200)
    assert summary["totals"]["discounts"] == sum(t["discount_amount"] for t in every_sale) >= sold["discount_amount"]

    # --- a date change keeps the redemption once; its cancellation gives it back ----------------
    ticket = coupons.create(distribution="issued", amount=1000, total_limit=1)
    expect(
        salon.admin.client.post(
            f"{salon.path}/coupons/{ticket['coupon_id']}/issue", json={"customer_ids": [customer.customer_id]}
        ),
        200,
    )
    visit = expect(
        customer.client.post(
            "/v1/shop/reservations",
            json={**booking_body(free), "coupon_id": ticket["coupon_id"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
        201,
    )
    assert (visit["coupon"]["coupon_id"], visit["total"]) == (ticket["coupon_id"], 0)
    moved = expect(
        customer.client.post(f"/v1/shop/reservations/{visit['number']}/change-date", json={"date": day(4)}), 200
    )
    assert (moved["date"], moved["coupon"]["coupon_id"]) == (day(4), ticket["coupon_id"])
    assert (coupons.get(ticket["coupon_id"])["redeemed"], coupons.get(ticket["coupon_id"])["state"]) == (1, "exhausted")
    expect(customer.client.post(f"/v1/shop/reservations/{visit['number']}/cancel", json={}), 200)
    assert coupons.get(ticket["coupon_id"])["redeemed"] == 0

    # --- orders: a coupon on an order, given back when it is cancelled -------------------------
    coffee = cafe(pc)
    cafe_coupons = Coupons(coffee.partner)
    cafe10 = cafe_coupons.create(code="CAFE10", discount_type="percent", percent=10, amount=None, max_discount=300)
    first = order(customer, coffee, "takeout", [coffee.line("Latte", 2)], coupon_code="cafe10")
    assert (first["subtotal"], first["discount_amount"], first["total"]) == (10000, 300, 9700)
    assert first["coupon"]["coupon_id"] == cafe10["coupon_id"]
    assert_error(
        customer.client.post(
            "/v1/shop/orders",
            json={
                "partner_id": coffee.partner.partner_id,
                "channel": "takeout",
                "lines": [coffee.line("Latte", 1)],
                "coupon_code": "CAFE10",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
        409,
        "coupon_limit_reached",
    )
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    from orders.tests.helpers import outbox as order_outbox

    received = [e for e in order_outbox(orders_db, "order.received") if e["order_id"] == first["order_id"]][0]
    assert (received["total"], received["discount_amount"], received["coupon_id"]) == (9700, 300, cafe10["coupon_id"])
    expect(customer.client.post(f"/v1/shop/orders/{first['order_id']}/cancel", json={}), 200)
    assert cafe_coupons.get(cafe10["coupon_id"])["redeemed"] == 0
    second = order(
        customer,
        coffee,
        "takeout",
        [coffee.line("Latte", 1), coffee.line("Americano", 1)],
        coupon_id=cafe10["coupon_id"],
    )
    assert second["total"] == second["subtotal"] - second["discount_amount"]
    for action in ("start-preparing", "complete"):
        expect(coffee.partner.admin.client.post(f"{coffee.path}/orders/{second['order_id']}/{action}"), 200)
    entries = eventually(
        lambda: len(ledger(coffee.partner, second["order_id"])) == 2 and ledger(coffee.partner, second["order_id"]),
        message="the order's sale in the ledger",
    )
    assert (entries["sale"]["amount"], entries["sale"]["discount_amount"]) == (
        second["total"],
        second["discount_amount"],
    )
    # Reconciliation: the ledger and the producers agree on what was sold (at what was paid).
    for partner in (salon, coffee.partner):
        assert reconcile(rpc, seoul_today(), seoul_today(), partner.partner_id) == []

    # --- R-ACC-8: the catalog hold refuses a partner not verified, for a booking too -------------
    pending = pc.create_partner(category="studio", verified=False)
    studio = live_product(pc, pending, name="Portrait")
    error = assert_error(book(customer, studio), 409, "partner_not_open")
    assert error["details"] == {"partner_id": pending.partner_id, "status": "pending_verification"}
    pc.verify_partner(pending.partner_id)
    assert expect(book(customer, studio), 201)["status"] == "requested"

    # --- erasure (R-ACC-3): the customer's issues and redemptions stay, under the pseudonym ------
    pseudonym = rpc.accounts.erase_customer(customer.customer_id)["pseudonym"]
    catalog_db = pc.containers["catalog"].config["DATABASE_URL"]
    counts = (
        "SELECT (SELECT count(*) FROM coupon_issues WHERE customer_id = %(c)s) + "
        "(SELECT count(*) FROM coupon_redemptions WHERE customer_id = %(c)s)"
    )
    eventually(
        lambda: db_rows(catalog_db, counts, {"c": customer.customer_id})[0][0] == 0, message="coupon rows pseudonymised"
    )
    assert db_rows(catalog_db, counts, {"c": pseudonym})[0][0] >= 3  # two issues, the redemptions kept
