"""Load: the oversell probe (a slot or a stock racing many buyers at once) at
several capacities, and booking latency and throughput at 50 and 200
concurrent clients. Two processes of every domain service serve it."""

from __future__ import annotations

import time
import uuid

import eventlet
import requests

from support.api import ADDRESS, expect

from .reconcile import rows
from .world import approve, day


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def race(requests_to_send: list) -> list[int]:
    """Fire every ``(client, path, body)`` at once (one green thread each); their statuses."""
    gate = eventlet.event.Event()

    def one(item):
        client, path, body = item
        gate.wait()
        try:
            return client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=60).status_code
        except requests.RequestException:
            return 0

    pool = eventlet.GreenPool(len(requests_to_send))
    results = [pool.spawn(one, item) for item in requests_to_send]
    eventlet.sleep(0.2)
    gate.send()
    return [r.wait() for r in results]


def slot_probe(product, customers, capacity: int, date: str, time_: str, reservations_db) -> dict:
    """R-CAT-3/R-RSV-1: a slot of ``capacity`` raced by 3x+10 buyers; none sold past it."""
    buyers = 3 * capacity + 10
    statuses = race(
        [
            (customers[i % len(customers)].client, "/v1/shop/reservations", product.body(date, time_))
            for i in range(buyers)
        ]
    )
    ((stored,),) = rows(
        reservations_db,
        "SELECT count(*) FROM reservations WHERE product_id = %s AND use_date = %s "
        "AND use_time = %s AND status IN ('requested', 'confirmed')",
        (product.product_id, date, time_),
    )
    return race_result(f"slot capacity {capacity}", capacity, statuses, stored)


def stock_probe(pc, shop, customers, stock: int) -> dict:
    """R-ORD-6: an option with ``stock`` units raced by 3x+10 parcel orders of one unit."""
    product = approve(
        pc,
        shop,
        {
            "kind": "goods",
            "goods_type": "shop",
            "name": f"Tee {stock}",
            "options": [{"label": "one size", "amount": 20000}],
        },
    )
    option = product["live"]["options"][0]["option_id"]
    expect(
        shop.admin.client.put(
            f"{shop.path}/products/{product['product_id']}/inventory",
            json={"stock": [{"option_id": option, "quantity": stock}]},
        ),
        200,
    )
    buyers = 3 * stock + 10
    body = {
        "partner_id": shop.partner_id,
        "channel": "parcel",
        "shipping_address": ADDRESS,
        "lines": [{"product_id": product["product_id"], "option_id": option, "quantity": 1}],
    }
    statuses = race([(customers[i % len(customers)].client, "/v1/shop/orders", body) for i in range(buyers)])
    inventory = expect(shop.admin.client.get(f"{shop.path}/products/{product['product_id']}/inventory"), 200)
    left = inventory["stock"][0]["stock"]
    stored = stock - left if left is not None else statuses.count(201)
    return race_result(f"stock {stock}", stock, statuses, stored)


def race_result(what: str, capacity: int, statuses: list[int], stored: int) -> dict:
    """A probe's figures from one status per buyer and what the store holds sold:
    oversold is how far the 201s or the store went past ``capacity``."""
    accepted = statuses.count(201)
    return {
        "what": what,
        "capacity": capacity,
        "buyers": len(statuses),
        "accepted": accepted,
        "stored": stored,
        "refused_409": statuses.count(409),
        "refused_503": statuses.count(503),
        "other": len(statuses) - accepted - statuses.count(409) - statuses.count(503),
        "oversold": max(0, accepted - capacity, stored - capacity),
    }


def latency(product, customers, clients: int, seconds: float, dates: list[str]) -> dict:
    """Booking creations from ``clients`` concurrent customers for ``seconds``."""
    samples: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds

    def client(i: int):
        customer = customers[i % len(customers)]
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            try:
                status = customer.client.post(
                    "/v1/shop/reservations",
                    json=product.body(dates[(i + n) % len(dates)]),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                    timeout=60,
                ).status_code
            except requests.RequestException:
                status = 0
            samples.append(time.monotonic() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    pool = eventlet.GreenPool(clients)
    for i in range(clients):
        pool.spawn(client, i)
    pool.waitall()
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "requests": len(samples),
        "ok": statuses.get(201, 0),
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "throughput": statuses.get(201, 0) / elapsed,
        "statuses": statuses,
        "server_errors": sum(c for s, c in statuses.items() if s >= 500 and s != 503),
    }


def slots(capacities: list[int], date_offset: int = 20) -> list[dict]:
    return [{"date": day(date_offset), "time": f"{9 + i:02d}:00", "capacity": c} for i, c in enumerate(capacities)]
