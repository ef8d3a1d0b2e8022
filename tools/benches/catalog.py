"""Catalog holds per second (R-RSV-3): every client contends for one hot slot,
then holds spread over 1,000 slots. One catalog process, 20 RPC clients, as
the echo baseline; the ratio to echo is how much of the bare RPC rate a hold
keeps (each hold is one transaction: claim the id, lock the product FOR KEY
SHARE, take the rows in order, record the lines)."""

from __future__ import annotations

import datetime as dt
import random

from nameko.standalone.rpc import ClusterRpcProxy

from bench import REPO, rpc_rate

ACCOUNTS_STANDIN = str(REPO / "services" / "catalog" / "tests" / "accounts_standin")

SLOT_DAYS, SLOT_TIMES = 50, 20  # 1,000 spread slots
BIG = 1_000_000  # capacity no bench run can exhaust


def run(ctx) -> list[dict]:
    ctx.start_service(ACCOUNTS_STANDIN)  # holds ask whether the partner is verified (R-ACC-8); answered once
    ctx.start_service("catalog", {"PC_MAX_WORKERS": "20"})
    ctx.rpc_ready("catalog")
    partner_id = "bench-partner"
    with ClusterRpcProxy({"AMQP_URI": ctx.amqp_uri}, timeout=60) as rpc:
        product_id, price_id, hot, spread = set_up(rpc, partner_id)

    def line(date, time):
        return [{"product_id": product_id, "price_id": price_id, "date": date, "time": time, "quantity": 1}]

    hot_rate = rpc_rate(ctx.amqp_uri, lambda rpc, i: rpc.catalog.hold(f"hot-{i}", partner_id, line(*hot)))
    spread_rate = rpc_rate(
        ctx.amqp_uri, lambda rpc, i: rpc.catalog.hold(f"spread-{i}", partner_id, line(*random.choice(spread)))
    )
    return [
        {"name": "catalog hold, one hot slot (20 clients, 1 process)", "value": hot_rate, "unit": "holds/s"},
        {"name": "catalog hold, 1,000 spread slots (20 clients, 1 process)", "value": spread_rate, "unit": "holds/s"},
    ]


def set_up(rpc, partner_id: str):
    """An approved datetime product with one hot slot and 1,000 others."""
    first = dt.date.today() + dt.timedelta(days=2)
    spread = [
        ((first + dt.timedelta(days=d)).isoformat(), f"{8 + t // 2:02d}:{30 * (t % 2):02d}")
        for d in range(1, SLOT_DAYS + 1)
        for t in range(SLOT_TIMES)
    ]
    hot = (first.isoformat(), "12:00")
    product_id, price_id = approved_slot_product(
        rpc, partner_id, "place-bench", [hot, *spread], BIG
    )  # the stand-in's place
    return product_id, price_id, hot, spread


def approved_slot_product(rpc, partner_id: str, place_id: str, slots: list[tuple[str, str]], capacity: int):
    """(product id, price id) of a datetime product with one price, at ``place_id``,
    created, submitted and approved, offering each (date, time) of ``slots`` with
    ``capacity``."""
    product = rpc.catalog.create_product(
        partner_id,
        {
            "kind": "booking",
            "name": "bench",
            "schedule_type": "datetime",
            "quantity_mode": "slot",
            "prices": [{"label": "adult", "amount": 10000}],
            "place_id": place_id,
        },
    )
    review = rpc.catalog.submit_product(partner_id, product["product_id"])
    live = rpc.catalog.approve_review(review["revision_id"], {}, "bench")
    rpc.catalog.set_inventory(
        partner_id,
        product["product_id"],
        {"slots": [{"date": date, "time": time, "capacity": capacity} for date, time in slots]},
    )
    return product["product_id"], live["live"]["prices"][0]["price_id"]
