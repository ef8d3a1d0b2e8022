"""Insights through the gateway (issue #11) on one started platform: a scripted
sequence of bookings (confirmed, completed, cancelled, rejected, a no-show, a
pending request) and parcel orders (delivered with a refund after delivery,
cancelled, pending) whose statistics and customer lists must match what the
reservations and orders APIs themselves report; every event delivered again
changes nothing; older and out-of-order events never move state back;
reviews of both kinds with replies; segment targeting of channel messages
(R-NTF-3); erasure (R-ACC-3); tenancy, roles and validation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from chassis.envelope import Envelope
from chassis.privacy import mask_name, pseudonym
from chassis.testing import eventually
from chassis.tests.broker import publish_envelope, queue_depths
from orders.tests.helpers import ask_refund, fashion_shop, order, shop_item
from chassis.partner_time import PARTNER_TIME_ZONE
from reservations.tests.helpers import booked, day, live_product
from reservations.tests.helpers import outbox as reservations_outbox
from support.api import assert_error, expect

STATES = ("requested", "confirmed", "rejected", "cancelled", "completed", "no_show")
HOLDING = ("requested", "confirmed", "completed", "no_show")


def insights_idle(amqp_uri) -> bool:
    return all(
        depth == (0, 0)
        for name, depth in queue_depths(amqp_uri).items()
        if name.startswith(("pc.evt.insights.", "pc.retry.insights."))
    )


def republish(amqp_uri, events: list[dict]) -> None:
    """Outbox rows (whole envelopes) published once more, as a broker redelivery would."""
    for body in events:
        publish_envelope(amqp_uri, Envelope.model_validate(body))


def outbox_envelopes(database_url: str) -> list[dict]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute("SELECT body FROM outbox ORDER BY id").fetchall()]


def rollups_recounted(database_url: str) -> bool:
    """What statistics read (booking_days, booking_slots, order_days, order_product_days), kept by the
    events' differences, equals a recount of the bookings and orders themselves."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        kept = conn.execute("""SELECT partner_id, stat_date, product_id, status, bookings, people, sales, fees
                               FROM booking_days WHERE bookings <> 0 ORDER BY 1, 2, 3, 4""").fetchall()
        recount = conn.execute("""SELECT partner_id, stat_date, product_id, status, count(*)::int,
                                         sum(quantity)::int, coalesce(sum(total) FILTER (WHERE status = 'completed'), 0),
                                         sum(fees)
                                  FROM bookings GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""").fetchall()
        slots = conn.execute("""SELECT partner_id, use_date, use_time, bookings, people FROM booking_slots
                                WHERE bookings <> 0 ORDER BY 1, 2, 3""").fetchall()
        slot_recount = conn.execute("""SELECT partner_id, use_date, use_time, count(*)::int, sum(quantity)::int
                                       FROM bookings WHERE use_date IS NOT NULL
                                        AND status IN ('requested', 'confirmed', 'completed', 'no_show')
                                       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
        orders = conn.execute("""SELECT partner_id, stat_date, status, orders, sales, refunds FROM order_days
                                 WHERE orders <> 0 ORDER BY 1, 2, 3""").fetchall()
        order_recount = conn.execute("""SELECT partner_id, stat_date, status, count(*)::int,
                                               coalesce(sum(total) FILTER (WHERE status = 'completed'), 0),
                                               coalesce(sum(refunded_total) FILTER (WHERE status = 'completed'), 0)
                                        FROM orders GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
        shares = conn.execute("""SELECT partner_id, stat_date, product_id, sales, refunds FROM order_product_days
                                 WHERE sales <> 0 OR refunds <> 0 ORDER BY 1, 2, 3""").fetchall()
        share_recount = conn.execute("""SELECT o.partner_id, o.stat_date, p.product_id, sum(p.sales), sum(p.refunds)
                                        FROM orders o JOIN order_products p USING (partner_id, order_id)
                                        WHERE o.status = 'completed' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
    assert kept == recount and slots == slot_recount, (kept, recount, slots, slot_recount)
    assert orders == order_recount and shares == share_recount, (orders, order_recount, shares, share_recount)
    return bool(kept) and bool(orders) and bool(shares)


def expected_booking_statistics(views: list[dict]) -> dict:
    """The statistics definitions (insights.domain) applied to the reservations API's own views."""
    by_state = Counter(v["status"] for v in views)
    total = len(views)
    completed = [v for v in views if v["status"] == "completed"]
    days: dict[str, Any] = {}
    products: dict[str, Any] = {}
    slots: dict[Any, Any] = {}
    for v in views:
        for bucket, key in ((days, v["date"]), (products, v["product"]["product_id"])):
            entry = bucket.setdefault(key, {"sales": 0, "refunds": 0, "fees": 0})
            entry["sales"] += v["total"] if v["status"] == "completed" else 0
            entry["fees"] += v["fee_amount"]
        if v["status"] in HOLDING:
            slot = slots.setdefault((v["date"], v["time"]), {"bookings": 0, "people": 0})
            slot["bookings"] += 1
            slot["people"] += sum(line["quantity"] for line in v["lines"])
    names = {v["product"]["product_id"]: v["product"]["name"] for v in views}
    sales = sum(v["total"] for v in completed)
    return {
        "bookings": {
            "total": total,
            "by_state": {s: by_state.get(s, 0) for s in STATES},
            "cancellation_rate": round(by_state["cancelled"] / total, 4),
            "no_show_rate": round(by_state["no_show"] / (by_state["completed"] + by_state["no_show"]), 4),
        },
        "revenue": {
            "sales": sales,
            "refunds": 0,
            "net": sales,
            "fees": sum(v["fee_amount"] for v in views),
            "by_day": [{"date": d, **e, "net": e["sales"]} for d, e in sorted(days.items()) if e["sales"] or e["fees"]],
            "by_product": sorted(
                (
                    {"product_id": p, "product_name": names[p], **e, "net": e["sales"]}
                    for p, e in products.items()
                    if e["sales"] or e["fees"]
                ),
                key=lambda p: (-p["net"], p["product_id"]),
            ),
        },
        "busiest_slots": sorted(
            ({"date": d, "time": t, **s} for (d, t), s in slots.items()),
            key=lambda s: (-s["bookings"], -s["people"], s["date"], s["time"]),
        ),
    }


def statistics_subset(body: dict) -> dict:
    bookings = {k: body["bookings"][k] for k in ("total", "by_state", "cancellation_rate", "no_show_rate")}
    return {"bookings": bookings, "revenue": body.get("revenue"), "busiest_slots": body["busiest_slots"]}


def test_issue_11_statistics_customers_reviews_segments_and_erasure(partner_center, rpc, amqp_uri):
    pc = partner_center(
        "catalog",
        "reservations",
        "orders",
        "notifications",
        "insights",
        service_config={"reservations": {"TIMERS": False}},
    )
    salon = pc.create_partner(category="salon")
    admin, member = salon.admin.client, pc.staff(salon, "member").client
    first, second = day(3), day(4)
    slots = [
        {"date": first, "time": "10:00", "capacity": 10},
        {"date": first, "time": "14:00", "capacity": 10},
        {"date": second, "time": "11:00", "capacity": 10},
    ]
    cut = live_product(
        pc,
        salon,
        name="Cut",
        slots=slots,
        payment="prepaid",
        settings={"confirmation": "auto"},
        cancel_policy={"deadline_hours_before": 24, "auto_cancel_unused": True},
        prices=[{"label": "adult", "amount": 30000}],
    )
    color = live_product(pc, salon, name="Color", slots=slots)
    c1 = pc.customer_session(name="한가람")
    c2, c3 = pc.customer_session(), pc.customer_session()
    res = f"{salon.path}/reservations"

    # --- the booking script ---------------------------------------------------------------
    no_show = booked(c1, cut, date=first, time="10:00", quantities=(2,))["number"]
    done = booked(c1, color, date=first, time="14:00", quantities=(1, 1))["number"]
    expect(admin.post(f"{res}/{done}/confirm"), 200)
    expect(member.post(f"{res}/{done}/complete"), 200)
    cancelled = booked(c2, color, date=first, time="14:00")["number"]
    expect(c2.client.post(f"/v1/shop/reservations/{cancelled}/cancel", json={}), 200)
    rejected = booked(c2, color, date=second, time="11:00")["number"]
    expect(admin.post(f"{res}/{rejected}/reject", json={"reason": "closed that day"}), 200)
    done_too = booked(c3, cut, date=second, time="11:00")["number"]
    expect(admin.post(f"{res}/{done_too}/complete"), 200)
    after_first = dt.datetime.combine(
        dt.date.fromisoformat(first) + dt.timedelta(days=1), dt.time(1), PARTNER_TIME_ZONE
    )
    assert rpc.reservations.run_timers({"as_of": after_first.isoformat()})["no_show"] == 1
    pending = booked(c3, color, date=first, time="14:00", quantities=(0, 2))["number"]
    numbers = [no_show, done, cancelled, rejected, done_too, pending]
    views = [expect(admin.get(f"{res}/{n}"), 200) for n in numbers]
    assert [v["status"] for v in views] == ["no_show", "completed", "cancelled", "rejected", "completed", "requested"]
    expected = expected_booking_statistics(views)
    stats_path = f"{salon.path}/statistics?from={first}&to={second}"

    def salon_statistics():
        return statistics_subset(expect(admin.get(stats_path), 200))

    eventually(lambda: salon_statistics() == expected, timeout=30, message="salon statistics")
    as_member = expect(member.get(stats_path), 200)  # counts and rates; money is for admins and masters
    assert "revenue" not in as_member and as_member["bookings"]["by_state"] == expected["bookings"]["by_state"]

    # --- the order script (a fashion shop: parcels) ---------------------------------------------
    shop = fashion_shop(pc)
    shop.add(shop_item("Cap", [("Free", 15000)]), stock={"Free": 10})
    staff = shop.partner.admin.client
    delivered = order(c1, shop, "parcel", [shop.line("Linen shirt", 2, "White / M"), shop.line("Cap", 1, "Free")])
    path = f"{shop.path}/orders/{delivered['order_id']}"
    expect(staff.post(f"{path}/prepare-shipment"), 200)
    expect(staff.post(f"{path}/ship", json={"courier": "CJ대한통운", "invoice_number": "1234-5678"}), 200)
    expect(staff.post(f"{path}/deliver"), 200)
    shirt_line, cap_line = (line["line_id"] for line in delivered["lines"])
    refund = expect(ask_refund(c1, delivered["order_id"], "too small", (cap_line, 1)), 201)
    expect(staff.post(f"{shop.path}/refund-requests/{refund['request_id']}/approve"), 200)
    dropped = order(c2, shop, "parcel", [shop.line("Linen shirt", 1, "Black / L")])
    expect(c2.client.post(f"/v1/shop/orders/{dropped['order_id']}/cancel"), 200)
    waiting = order(c3, shop, "parcel", [shop.line("Cap", 2, "Free")])
    orders = {
        o["order_id"]: expect(staff.get(f"{shop.path}/orders/{o['order_id']}"), 200)
        for o in (delivered, dropped, waiting)
    }
    final = orders[delivered["order_id"]]
    assert (final["status"], final["refunded_amount"]) == ("completed", 15000)
    today = dt.datetime.now(PARTNER_TIME_ZONE).date().isoformat()
    by_product = {}
    for line in final["lines"]:  # no discount: each product's sales are its line amounts
        entry = by_product.setdefault(
            line["product_id"],
            {
                "product_id": line["product_id"],
                "product_name": line["product_name"],
                "sales": 0,
                "refunds": 0,
                "fees": 0,
            },
        )
        entry["sales"] += line["amount"]
        entry["refunds"] += line["refunded_quantity"] * line["unit_price"]
    for entry in by_product.values():
        entry["net"] = entry["sales"] - entry["refunds"]
    net = final["total"] - final["refunded_amount"]
    expected_orders = {
        "orders": {
            "total": 3,
            "by_state": {
                **{s: 0 for s in ("received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled")},
                **Counter(o["status"] for o in orders.values()),
            },
        },
        "revenue": {
            "sales": final["total"],
            "refunds": final["refunded_amount"],
            "net": net,
            "fees": 0,
            "by_day": [
                {"date": today, "sales": final["total"], "refunds": final["refunded_amount"], "fees": 0, "net": net}
            ],
            "by_product": sorted(by_product.values(), key=lambda p: (-p["net"], p["product_id"])),
        },
    }

    def shop_statistics():
        body = expect(staff.get(f"{shop.path}/statistics?from={today}&to={today}"), 200)
        return {"orders": body["orders"], "revenue": body["revenue"]}

    eventually(lambda: shop_statistics() == expected_orders, timeout=30, message="shop statistics")

    # --- customers: visits, last visit, total spent; search by name or last 4 digits ---------------
    def customers(partner, query: str = "") -> dict:
        return {
            c["customer_id"]: c
            for c in expect(partner.admin.client.get(f"{partner.path}/customers?{query}"), 200)["items"]
        }

    spent = {
        c.customer_id: sum(
            v["total"] for v in views if v["status"] == "completed" and v["customer_id"] == c.customer_id
        )
        for c in (c1, c2, c3)
    }
    visits = {
        c.customer_id: sum(1 for v in views if v["status"] == "completed" and v["customer_id"] == c.customer_id)
        for c in (c1, c2, c3)
    }
    salon_customers = customers(salon)
    assert {cid: (c["visit_count"], c["total_spent"], c["coupon_uses"]) for cid, c in salon_customers.items()} == {
        cid: (visits[cid], spent[cid], 0) for cid in spent
    }
    mine = salon_customers[c1.customer_id]
    digits = c1.phone.replace("-", "")
    assert (mine["name"], mine["phone"]) == ("한가람", f"{digits[:3]}-****-{digits[-4:]}")  # masked, one rule
    assert mine["last_visit_at"] is not None and salon_customers[c2.customer_id]["last_visit_at"] is None
    assert list(customers(salon, "q=한가")) == [c1.customer_id]
    assert list(customers(salon, f"q={c2.phone[-4:]}")) == [c2.customer_id]
    assert set(customers(salon, "visited_within_days=30")) == {c1.customer_id, c3.customer_id}
    page_one = expect(admin.get(f"{salon.path}/customers?limit=2"), 200)
    page_two = expect(admin.get(f"{salon.path}/customers?limit=2&cursor={page_one['next_cursor']}"), 200)
    assert {c["customer_id"] for c in page_one["items"] + page_two["items"]} == set(spent)
    assert page_two["next_cursor"] is None
    shop_customers = customers(shop.partner)
    assert (shop_customers[c1.customer_id]["visit_count"], shop_customers[c1.customer_id]["total_spent"]) == (1, net)
    assert shop_customers[c2.customer_id]["visit_count"] == 0 and len(shop_customers) == 3

    # --- reviews: an order review (real) and a reservation review (its events, replied first) --------
    review = expect(
        c1.client.post(
            f"/v1/shop/orders/{delivered['order_id']}/reviews",
            json={"line_id": shirt_line, "rating": 5, "body": "Fits well"},
        ),
        201,
    )
    expect(staff.post(f"{shop.path}/reviews/{review['review_id']}/reply", json={"body": "Thank you!"}), 200)
    shirt = shop.products["Linen shirt"]["product_id"]

    def shop_reviews(query=""):
        return expect(staff.get(f"{shop.path}/reviews?{query}"), 200)["items"]

    eventually(lambda: [r["reply"] for r in shop_reviews()] == ["Thank you!"], message="order review replied")
    listed = shop_reviews()[0]
    assert (
        listed["kind"],
        listed["order_id"],
        listed["line_id"],
        listed["product_id"],
        listed["rating"],
        listed["body"],
        listed["author"],
    ) == ("order", delivered["order_id"], shirt_line, shirt, 5, "Fits well", mask_name("한가람"))
    assert shop_reviews("replied=false") == [] and shop_reviews(f"product_id={cut['product_id']}") == []
    posted_at = dt.datetime.now(dt.UTC)
    reservation_review = {
        **reservations_outbox(pc.containers["reservations"].config["DATABASE_URL"], "reservation.completed", done)[0],
        "review_id": str(uuid.uuid4()),
        "rating": 3,
        "review_text": "Nice colour",
    }
    reservation_review.pop("type")
    for kind, at, extra in (
        ("review_replied", posted_at + dt.timedelta(seconds=5), {"reply_text": "Come again"}),
        ("review_posted", posted_at, {}),
    ):
        publish_envelope(
            amqp_uri,
            Envelope(
                type=f"reservation.{kind}",
                source="reservations",
                occurred_at=at,
                partner_id=salon.partner_id,
                payload={**reservation_review, **extra},
            ),
        )
    public = f"/v1/shop/products/{color['product_id']}/reviews"
    eventually(lambda: expect(pc.anonymous.get(public), 200)["count"] == 1, message="reservation review")
    shown = expect(pc.anonymous.get(public), 200)
    assert (shown["average"], shown["items"][0]["rating"], shown["items"][0]["reply"]) == (3.0, 3, "Come again")
    assert "number" not in shown["items"][0]  # the shop shows no booking numbers
    salon_reviews = expect(admin.get(f"{salon.path}/reviews"), 200)["items"]
    assert [(r["kind"], r["number"], r["body"]) for r in salon_reviews] == [("reservation", done, "Nice colour")]
    assert expect(pc.anonymous.get(f"/v1/shop/products/{shirt}/reviews"), 200)["average"] == 5.0
    assert_error(pc.anonymous.get(f"/v1/shop/products/{uuid.uuid4()}/reviews"), 404)  # issue 15, defect 5

    # --- every event again, and older snapshots: nothing changes --------------------------------
    before = (salon_statistics(), shop_statistics(), customers(salon), customers(shop.partner))
    republish(
        amqp_uri,
        outbox_envelopes(pc.containers["reservations"].config["DATABASE_URL"])
        + outbox_envelopes(pc.containers["orders"].config["DATABASE_URL"]),
    )
    # A confirmation of the completed booking, later than its first event but older than its completion.
    first_event = next(
        e
        for e in outbox_envelopes(pc.containers["reservations"].config["DATABASE_URL"])
        if e["payload"]["reservation_number"] == done_too
    )
    stale = first_event["payload"]
    publish_envelope(
        amqp_uri,
        Envelope(
            type="reservation.confirmed",
            source="reservations",
            partner_id=salon.partner_id,
            occurred_at=dt.datetime.fromisoformat(first_event["occurred_at"]) + dt.timedelta(milliseconds=1),
            payload={**stale, "status": "confirmed"},
        ),
    )
    eventually(lambda: insights_idle(amqp_uri), timeout=30, message="insights consumed the redeliveries")
    assert (salon_statistics(), shop_statistics(), customers(salon), customers(shop.partner)) == before
    assert rollups_recounted(pc.containers["insights"].config["DATABASE_URL"])

    # A booking whose completion arrives before its request: completed, booked when requested; its coupon counts.
    other = f"ptn-{uuid.uuid4().hex[:8]}"
    synthetic = {
        **stale,
        "partner_id": other,
        "reservation_number": "X-1",
        "customer_id": c3.customer_id,
        "coupon_id": "coupon-1",
        "discount_amount": 3000,
    }
    for kind, hours_ago in (("completed", 1), ("requested", 30)):
        publish_envelope(
            amqp_uri,
            Envelope(
                type=f"reservation.{kind}",
                source="reservations",
                occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago),
                partner_id=other,
                payload={**synthetic, "status": kind},
            ),
        )
    eventually(
        lambda: rpc.insights.statistics(other, {"from": second, "to": second})["bookings"]["total"] == 1,
        message="out-of-order booking",
    )
    eventually(lambda: insights_idle(amqp_uri), timeout=30, message="insights consumed the out-of-order events")
    assert rpc.insights.statistics(other, {"from": second, "to": second})["bookings"]["by_state"]["completed"] == 1
    assert [
        (c["visit_count"], c["coupon_uses"], c["total_spent"]) for c in rpc.insights.list_customers(other, {})["items"]
    ] == [(1, 1, stale["total"])]

    # --- segments for channel messages (R-NTF-3) -------------------------------------------------------
    def send(partner, body):
        return partner.admin.client.post(f"{partner.path}/channel-messages", json={"kind": "notice", **body})

    # insights may still be taking in the last events: wait for it
    sent = eventually(
        lambda: (
            (
                r := send(
                    salon, {"audience": "segment", "body": "10% off this week", "segment": {"visited_within_days": 30}}
                )
            ).status_code
            == 201
            and r
        ),
        message="segment sent",
    )
    assert sent.json()["recipient_count"] == 2
    assert sorted(sent.json()["audience"]["customer_ids"]) == sorted([c1.customer_id, c3.customer_id])
    assert (
        "segment.visited_within_days"
        in assert_error(
            send(salon, {"audience": "segment", "body": "x", "segment": {"visited_within_days": "soon"}}), 422
        )["details"]["fields"]
    )
    assert (
        "segment"
        in assert_error(send(salon, {"audience": "segment", "body": "x", "segment": {}}), 422)["details"]["fields"]
    )
    assert (
        "segment"
        in assert_error(send(salon, {"audience": "segment", "body": "x", "segment": {"min_visits": 1000}}), 422)[
            "details"
        ]["fields"]
    )  # nobody matches
    assert (
        "customer_ids"
        in assert_error(
            send(
                salon,
                {"audience": "segment", "body": "x", "customer_ids": [c1.customer_id], "segment": {"min_visits": 1}},
            ),
            422,
        )["details"]["fields"]
    )

    # --- the dashboard (R-ACC-11) ---------------------------------------------------------------------
    board = expect(admin.get(f"{salon.path}/dashboard"), 200)["sections"]["insights"]
    assert board["counts"]["customers"] == 3 and board["counts"]["unreplied_reviews"] == 0
    assert "revenue" not in expect(member.get(f"{salon.path}/dashboard"), 200)["sections"]["insights"]["month_to_date"]

    # --- tenancy, roles, validation ---------------------------------------------------------------------
    for route in ("statistics", "customers", "reviews"):
        assert_error(staff.get(f"{salon.path}/{route}"), 404)  # another partner's staff
        assert_error(c1.client.get(f"{salon.path}/{route}"), 403)
        assert_error(pc.anonymous.get(f"{salon.path}/{route}"), 401)
    assert (
        "from"
        in assert_error(admin.get(f"{salon.path}/statistics?from=2026-13-01&to={second}"), 422)["details"]["fields"]
    )
    assert (
        "from" in assert_error(admin.get(f"{salon.path}/statistics?from={second}&to={first}"), 422)["details"]["fields"]
    )
    assert (
        "to"
        in assert_error(admin.get(f"{salon.path}/statistics?from=2025-01-01&to=2026-06-01"), 422)["details"]["fields"]
    )
    assert (
        "visited_within_days"
        in assert_error(admin.get(f"{salon.path}/customers?visited_within_days=0"), 422)["details"]["fields"]
    )
    assert "cursor" in assert_error(admin.get(f"{salon.path}/customers?cursor=nonsense"), 422)["details"]["fields"]
    assert "replied" in assert_error(admin.get(f"{salon.path}/reviews?replied=maybe"), 422)["details"]["fields"]
    assert_error(admin.get(f"{salon.path}/customers?unknown=1"), 422)

    # --- erasure (R-ACC-3): name -> pseudonym, phone gone, counts and amounts stay --------------------------
    rpc.accounts.erase_customer(c1.customer_id)
    alias = pseudonym("customer", c1.customer_id)
    eventually(lambda: alias in customers(salon), message="salon customer pseudonymised")
    erased = customers(salon)[alias]
    assert c1.customer_id not in customers(salon)
    assert (erased["name"], erased["phone"], erased["erased"], erased["visit_count"], erased["total_spent"]) == (
        alias,
        None,
        True,
        visits[c1.customer_id],
        spent[c1.customer_id],
    )
    assert customers(shop.partner)[alias]["total_spent"] == net
    assert expect(pc.anonymous.get(f"/v1/shop/products/{shirt}/reviews"), 200)["items"][0]["author"] == alias
    assert salon_statistics() == before[0] and shop_statistics() == before[1]
    assert list(customers(salon, "q=한가")) == []
    # An event about the erased customer that was still on its way lands on the pseudonym too.
    late = {
        **first_event["payload"],
        "reservation_number": "LATE-1",
        "customer_id": c1.customer_id,
        "status": "requested",
    }
    publish_envelope(
        amqp_uri,
        Envelope(type="reservation.requested", source="reservations", partner_id=salon.partner_id, payload=late),
    )
    eventually(
        lambda: salon_statistics()["bookings"]["total"] == before[0]["bookings"]["total"] + 1,
        message="the late booking counted",
    )
    assert c1.customer_id not in customers(salon) and customers(salon)[alias]["name"] == alias
    assert (
        "segment"
        in assert_error(
            send(shop.partner, {"audience": "segment", "body": "x", "segment": {"visited_within_days": 30}}), 422
        )["details"]["fields"]
    )  # its only visitor was erased
