"""What happens around orders: the partner dashboard's orders section by role
(R-ACC-11), the customer's erasure and a member's withdrawal (R-ACC-3:
personal data pseudonymised, amounts kept; a duplicate delivery changes
nothing more), and the totals settlement reconciles against (R-STL-1)."""

import datetime as dt

from chassis.envelope import Envelope
from chassis.privacy import pseudonym
from chassis.testing import eventually
from chassis.tests.broker import erasure, publish_envelope
from support.api import expect

from .helpers import cafe, db_rows, order


def test_dashboard_by_role_erasure_and_withdrawal_with_duplicates_and_settlement_totals(partner_center, amqp_uri, rpc):
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    admin, member = shop.partner.admin, pc.staff(shop.partner, "member")
    customer, regular = pc.customer_session(), pc.customer_session()
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    mine = [
        order(customer, shop, "delivery", [shop.line("Latte", 2)]),
        order(customer, shop, "takeout", [shop.line("Americano")]),
    ]
    kept = order(regular, shop, "dine_in", [shop.line("Americano", 3)])
    staff_path = f"{shop.path}/orders"
    expect(member.client.post(f"{staff_path}/{mine[1]['order_id']}/start-preparing"), 200)
    expect(member.client.post(f"{staff_path}/{mine[1]['order_id']}/complete"), 200)
    expect(admin.client.post(f"{staff_path}/{mine[0]['order_id']}/prepare-shipment"), 200)

    # R-ACC-11: the orders section of a cafe's dashboard; the sales amount only for admins and masters.
    for viewer, sees_sales in ((admin, True), (member, False)):
        board = expect(viewer.client.get(f"{shop.path}/dashboard"), 200)
        section = board["sections"]["orders"]
        assert "orders" not in board["unavailable"]
        assert section["counts"] == {"received": 1, "preparing": 0, "preparing_shipment": 1, "shipped": 0}
        assert section["open_by_tab"] == {"in_store": 1, "delivery": 1, "parcel": 0}
        assert (section["today"]["received"], section["today"]["completed"]) == (3, 1)
        assert ("completed_sales" in section["today"]) is sees_sales
    assert (
        expect(admin.client.get(f"{shop.path}/dashboard"), 200)["sections"]["orders"]["today"]["completed_sales"]
        == 4500
    )

    # R-ACC-3: the customer is erased; their orders keep amounts and lines, lose name, phone and address.
    alias = pseudonym("customer", customer.customer_id)
    erased = erasure("customer", customer.customer_id)
    for _ in range(2):  # delivered twice: one effect
        publish_envelope(amqp_uri, erased)
    eventually(
        lambda: (
            db_rows(orders_db, "SELECT count(*) FROM inbox WHERE event_id = %s", (erased.event_id,))[0][0] == 1
            and not expect(customer.client.get("/v1/shop/orders"), 200)["items"]
        ),
        timeout=20,
        message="erasure applied",
    )
    rows = db_rows(
        orders_db,
        "SELECT customer_id, shipping, total, erased_at IS NOT NULL FROM orders "
        "WHERE order_id = ANY(%s::uuid[]) ORDER BY total",
        ([o["order_id"] for o in mine],),
    )
    assert rows == [(alias, None, 4500, True), (alias, None, 10000, True)]
    shown = expect(admin.client.get(f"{staff_path}/{mine[0]['order_id']}"), 200)
    assert shown["shipping_address"] is None and shown["customer_id"] == alias and shown["total"] == 10000
    assert expect(regular.client.get(f"/v1/shop/orders/{kept['order_id']}"), 200)["total"] == 13500  # others stay
    # The Idempotency-Key replays held the address: they are gone; the other customer's stays.
    assert db_rows(orders_db, "SELECT customer_id FROM creation_keys") == [(regular.customer_id,)]

    # R-ACC-3: a member who withdraws is no longer named as the one who acted.
    withdrawn = Envelope(
        type="member.withdrawn",
        source="accounts",
        payload={"member_id": member.member_id, "pseudonym": pseudonym("member", member.member_id)},
    )
    publish_envelope(amqp_uri, withdrawn)
    publish_envelope(amqp_uri, withdrawn)
    eventually(
        lambda: db_rows(orders_db, "SELECT count(*) FROM orders WHERE actor_id = %s", (member.member_id,))[0][0] == 0,
        timeout=20,
        message="withdrawal applied",
    )
    assert (
        db_rows(orders_db, "SELECT count(*) FROM orders WHERE actor_id = %s", (pseudonym("member", member.member_id),))[
            0
        ][0]
        == 1
    )
    assert db_rows(orders_db, "SELECT count(*) FROM inbox")[0][0] == 2

    # Settlement reconciles its ledger against these totals, by the Seoul day the completion was recorded.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()
    totals = rpc.orders.settlement_totals(None, today.isoformat(), today.isoformat())
    assert totals[shop.partner.partner_id] == {"sales": 4500, "sales_count": 1, "fees": 0, "refunds": 0}
    assert rpc.orders.settlement_totals(shop.partner.partner_id, "2000-01-01", "2000-01-31") == {}
