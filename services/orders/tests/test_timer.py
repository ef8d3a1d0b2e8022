"""The R-ORD-2 timer for real: two instances on one database complete every
due order exactly once, leave the others alone, and after a restart (nothing
kept in memory) a new instance completes what became due meanwhile."""

import datetime as dt
import uuid

import eventlet
from chassis.testing import eventually

from .helpers import db_rows, outbox
from .seed import insert_orders

DUE = 400


def completed_events(url: str) -> list[str]:
    return [e["order_id"] for e in outbox(url, "order.completed")]


def test_r_ord_2_two_instances_complete_each_due_order_once_and_a_restart_loses_nothing(
    run_service, make_database, rpc
):
    url = make_database("orders")
    partner = f"partner-{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    due = insert_orders(url, DUE // 2, partner_id=partner, received_at=now - dt.timedelta(hours=2))
    due += insert_orders(
        url,
        DUE // 2,
        partner_id=partner,
        received_at=now - dt.timedelta(minutes=61),
        channel="takeout",
        status="preparing",
    )
    later = insert_orders(url, 30, partner_id=partner, received_at=now - dt.timedelta(minutes=30))
    deliveries = insert_orders(url, 10, partner_id=partner, received_at=now - dt.timedelta(hours=5), channel="delivery")
    instances = [
        run_service("orders", DATABASE_URL=url, TIMER_INTERVAL=0.2, TIMER_BATCH=25, INSTANCE_NAME=name)
        for name in ("orders-a", "orders-b")
    ]

    eventually(lambda: len(completed_events(url)) >= DUE, timeout=60, message="due orders completed")
    eventlet.sleep(1)  # a few more ticks of both timers: nothing more may happen
    completed = completed_events(url)
    assert sorted(completed) == sorted(due)  # each due order once, nothing else
    statuses = dict(db_rows(url, "SELECT status, count(*) FROM orders GROUP BY status"))
    assert statuses == {"completed": DUE, "received": 40}
    exact = db_rows(
        url,
        "SELECT count(*) FROM orders WHERE status = 'completed' AND completed_by = 'system' "
        "AND completed_at = received_at + interval '1 hour'",
    )[0][0]
    assert exact == DUE  # completed at the due time itself
    passes = dict(db_rows(url, "SELECT instance, sum(completed) FROM timer_passes GROUP BY instance"))
    assert sum(passes.values()) == DUE and set(passes) <= {"orders-a", "orders-b"}
    event = next(e for e in outbox(url, "order.completed"))
    assert (event["actor"], event["reason"], event["total"], event["lines"][0]["amount"]) == (
        "system",
        "auto_complete",
        4500,
        4500,
    )

    # Restart: both instances go, a new one comes; what fell due meanwhile completes, once, even when
    # ten passes race for it.
    for container in instances:
        container.stop()
    run_service("orders", DATABASE_URL=url, TIMER_INTERVAL=0)
    as_of = (now + dt.timedelta(hours=1)).isoformat()
    results = [reply.result() for reply in [rpc.orders.run_timer_pass.call_async(as_of) for _ in range(10)]]
    assert sum(r["completed"] for r in results) == 30
    assert sorted(completed_events(url)) == sorted(due + later)
    assert db_rows(url, "SELECT count(*) FROM orders WHERE status = 'received' AND channel = 'delivery'")[0][0] == len(
        deliveries
    )  # R-ORD-3: deliveries never auto-complete
