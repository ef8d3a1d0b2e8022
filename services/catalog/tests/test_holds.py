"""Holds and releases over RPC against the real broker and database (R-RSV-3,
R-CAT-2, R-CAT-3): what each quantity mode takes in SQL, stock, blocks, and a
reply really lost on the wire. Slot capacity, price maxima, all-or-nothing
lines and idempotency by hold and release id are test_use_cases.py's (in
memory); their races are test_concurrency.py's."""

import datetime as dt

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from chassis.errors import Conflict, DomainError, NotFound, ValidationFailed
from chassis.testing import eventually

from .helpers import ACCOUNTS_STANDIN, approved, booking_body, day, db_value, goods_body, outbox, partner


@pytest.fixture
def catalog(run_service):
    run_service(ACCOUNTS_STANDIN)
    return run_service("catalog")


def refused(call) -> DomainError:
    with pytest.raises(Conflict) as raised:
        call()
    return raised.value


def slot_line(product, price=0, quantity=1, date=None, time="10:00"):
    return {
        "product_id": product["product_id"],
        "price_id": product["live"]["prices"][price]["price_id"],
        "date": date or day(),
        "time": time,
        "quantity": quantity,
    }


def remaining(rpc, pid, product, date=None):
    board = rpc.catalog.slot_board(pid, product["product_id"], day(0), day(10))
    return {(s["date"], s["time"]): s["remaining"] for s in board["slots"]}


def test_r_cat_2_per_date_and_per_period_quantities(catalog, rpc):
    pid = partner()
    per_date = approved(
        rpc,
        pid,
        booking_body(
            quantity_mode="date",
            prices=[{"label": "adult", "amount": 1000}, {"label": "child", "amount": 500, "max_quantity": 1}],
        ),
    )
    rpc.catalog.set_inventory(
        pid,
        per_date["product_id"],
        {"slots": [{"date": day(), "time": "10:00"}, {"date": day(), "time": "14:00"}, {"date": day(), "capacity": 3}]},
    )
    rpc.catalog.hold("d-1", pid, [slot_line(per_date, 0, 2, time="10:00")])
    rpc.catalog.hold("d-2", pid, [slot_line(per_date, 1, 1, time="14:00")])  # the day's 3 are taken
    error = refused(lambda: rpc.catalog.hold("d-3", pid, [slot_line(per_date, 0, 1, time="14:00")]))
    assert (error.code, error.details["bucket"]) == ("capacity_exhausted", "date")

    voucher = approved(
        rpc,
        pid,
        booking_body(
            schedule_type="anytime",
            quantity_mode="period",
            prices=[{"label": "ticket", "amount": 9000, "max_quantity": 5}],
        ),
    )
    rpc.catalog.set_inventory(pid, voucher["product_id"], {"period_capacity": 6})
    line = {"product_id": voucher["product_id"], "price_id": voucher["live"]["prices"][0]["price_id"]}
    rpc.catalog.hold("v-1", pid, [{**line, "quantity": 4}])
    error = refused(lambda: rpc.catalog.hold("v-2", pid, [{**line, "quantity": 2}]))
    assert (error.code, error.details["bucket"], error.details["remaining"]) == ("capacity_exhausted", "price", 1)
    rpc.catalog.hold("v-3", pid, [{**line, "quantity": 1}])
    rpc.catalog.update_product(
        pid, voucher["product_id"], {"prices": [{**voucher["live"]["prices"][0], "max_quantity": None}]}
    )
    assert rpc.catalog.get_live_product(pid, voucher["product_id"])["display_state"] == "bookable"
    with pytest.raises(Conflict):
        rpc.catalog.set_inventory(pid, voucher["product_id"], {"period_capacity": 4})  # 5 are taken
    rpc.catalog.set_inventory(pid, voucher["product_id"], {"period_capacity": 5})
    assert rpc.catalog.get_live_product(pid, voucher["product_id"])["display_state"] == "closed"  # sold out


def test_r_cat_3_goods_stock_sells_out_and_comes_back(catalog, rpc):
    pid = partner()
    shirt = approved(rpc, pid, goods_body())
    tracked, untracked = (o["option_id"] for o in shirt["live"]["options"])
    rpc.catalog.set_inventory(pid, shirt["product_id"], {"stock": [{"option_id": tracked, "quantity": 2}]})
    line = {"product_id": shirt["product_id"], "option_id": tracked}
    hold = rpc.catalog.hold("o-1", pid, [{**line, "quantity": 2}, {**line, "option_id": untracked, "quantity": 50}])
    assert hold["total"] == 2 * 39000 + 50 * 41000
    error = refused(lambda: rpc.catalog.hold("o-2", pid, [{**line, "quantity": 1}]))
    assert (error.code, error.details["option_id"], error.details["remaining"]) == ("out_of_stock", tracked, 0)
    sold_out = outbox(catalog.config["DATABASE_URL"], "product.sold_out")
    assert [(e["product_id"], e["option_id"]) for e in sold_out] == [(shirt["product_id"], tracked)]
    shop = rpc.catalog.shop_get_product(shirt["product_id"])
    assert [o["sold_out"] for o in shop["options"]] == [True, False]

    rpc.catalog.release("o-1", pid, [{"line": 0, "quantity": 1}], "o-1-cancel-a")  # R-ORD-6 returns stock
    rpc.catalog.hold("o-3", pid, [{**line, "quantity": 1}])
    rpc.catalog.set_inventory(pid, shirt["product_id"], {"stock": [{"option_id": tracked, "quantity": 5}]})
    stock = rpc.catalog.get_inventory(pid, shirt["product_id"])["stock"]
    label = shirt["live"]["options"][0]["label"]  # the inventory names the option (issue 18)
    assert stock == [{"option_id": tracked, "label": label, "stock": 5, "taken": 2}]  # stock: available now
    with pytest.raises(ValidationFailed) as raised:
        rpc.catalog.set_inventory(pid, shirt["product_id"], {"stock": [{"option_id": "op_other", "quantity": 1}]})
    assert raised.value.details["fields"] == {"stock.0.option_id": "not an option of this product"}


def test_blocks_sale_window_and_pause_refuse_holds(catalog, rpc):
    pid = partner()
    product = approved(rpc, pid, booking_body())
    rpc.catalog.set_inventory(
        pid,
        product["product_id"],
        {
            "slots": [
                {"date": day(), "time": "10:00", "capacity": 5},
                {"date": day(), "time": "11:00", "capacity": 5},
                {"date": day(4), "time": "10:00", "capacity": 5},
            ]
        },
    )
    blocks = rpc.catalog.add_blocks(
        pid, product["product_id"], {"dates": [day(4)], "times": [{"date": day(), "time": "11:00"}]}
    )
    assert refused(lambda: rpc.catalog.hold("b-1", pid, [slot_line(product, date=day(4))])).code == "slot_blocked"
    assert refused(lambda: rpc.catalog.hold("b-2", pid, [slot_line(product, time="11:00")])).code == "slot_blocked"
    board = rpc.catalog.slot_board(pid, product["product_id"], day(0), day(5))
    assert [(s["date"], s["time"], s["blocked"]) for s in board["slots"]] == [
        (day(), "10:00", False),
        (day(), "11:00", True),
        (day(4), "10:00", True),
    ]
    assert [s["time"] for s in rpc.catalog.shop_get_product(product["product_id"])["availability"]["slots"]] == [
        "10:00"
    ]
    rpc.catalog.remove_block(pid, product["product_id"], blocks["items"][0]["block_id"])
    assert rpc.catalog.hold("b-3", pid, [slot_line(product, date=day(4))])["status"] == "held"
    error = refused(
        lambda: rpc.catalog.set_inventory(
            pid, product["product_id"], {"remove_slots": [{"date": day(4), "time": "10:00"}]}
        )
    )
    assert (error.code, error.details["booked"]) == ("slot_has_bookings", 1)

    rpc.catalog.update_product(pid, product["product_id"], {"paused": True})
    assert refused(lambda: rpc.catalog.hold("b-4", pid, [slot_line(product)])).code == "product_unavailable"
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    rpc.catalog.update_product(pid, product["product_id"], {"paused": False, "sale_starts_at": later})
    assert refused(lambda: rpc.catalog.hold("b-5", pid, [slot_line(product)])).code == "sale_not_started"
    draft = rpc.catalog.create_product(pid, booking_body())
    with pytest.raises(NotFound):
        rpc.catalog.hold("b-6", pid, [{**slot_line(product), "product_id": draft["product_id"]}])


def test_a_retried_hold_after_a_lost_reply_does_not_take_twice(catalog, rpc, amqp_uri):
    """The first call's reply is really lost: the caller's reply queue is gone
    before the service answers. The retry with the same hold id gets the same
    hold, and the slot is taken once."""
    pid = partner()
    product = approved(rpc, pid, booking_body())
    rpc.catalog.set_inventory(pid, product["product_id"], {"slots": [{"date": day(), "time": "10:00", "capacity": 5}]})
    line = slot_line(product, quantity=2)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=5) as lost_caller:
        lost_caller.catalog.hold.call_async("lost-reply", pid, [line])
    # the caller left without reading its reply; the service still committed the hold
    url = catalog.config["DATABASE_URL"]
    eventually(
        lambda: db_value(url, "SELECT status FROM holds WHERE hold_id = 'lost-reply'") == "held",
        message="hold committed",
    )
    retried = rpc.catalog.hold("lost-reply", pid, [line])
    assert retried["status"] == "held" and retried["lines"][0]["quantity"] == 2
    assert rpc.catalog.get_hold("lost-reply", pid) == retried
    assert remaining(rpc, pid, product) == {(day(), "10:00"): 3}
    assert db_value(url, "SELECT sum(taken) FROM capacity_buckets") == 2
