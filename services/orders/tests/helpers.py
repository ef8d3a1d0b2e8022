"""Builders shared by the orders tests: a cafe or shop with approved products
(through the gateway, as partners and operators do), orders, the database."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import psycopg
import requests

from support.api import ADDRESS, Customer, Partner, Platform, expect


def menu_item(name: str, amount: int) -> dict:
    return {"kind": "goods", "goods_type": "menu", "name": name, "options": [{"label": "regular", "amount": amount}]}


def shop_item(name: str, options: list[tuple[str, int]]) -> dict:
    return {
        "kind": "goods",
        "goods_type": "shop",
        "name": name,
        "options": [{"label": label, "amount": amount} for label, amount in options],
    }


@dataclass
class Store:
    """A verified partner and its approved products: name -> live product."""

    pc: Platform
    partner: Partner
    products: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.partner.path

    def add(self, body: dict, stock: dict[str, int | None] | None = None) -> dict:
        admin = self.partner.admin.client
        draft = expect(admin.post(f"{self.path}/products", json=body), 201)
        review = expect(admin.post(f"{self.path}/products/{draft['product_id']}/submit"), 201)
        live = expect(self.pc.operator().client.post(f"/v1/ops/reviews/{review['revision_id']}/approve"), 200)
        product = live["live"] | {"product_id": draft["product_id"]}
        if stock:
            by_label = {o["label"]: o["option_id"] for o in product["options"]}
            expect(
                admin.put(
                    f"{self.path}/products/{draft['product_id']}/inventory",
                    json={"stock": [{"option_id": by_label[label], "quantity": q} for label, q in stock.items()]},
                ),
                200,
            )
        self.products[body["name"]] = product
        return product

    def option(self, product_name: str, label: str) -> str:
        return next(o["option_id"] for o in self.products[product_name]["options"] if o["label"] == label)

    def line(self, product_name: str, quantity: int = 1, label: str | None = None) -> dict:
        line = {"product_id": self.products[product_name]["product_id"], "quantity": quantity}
        if label is not None:
            line["option_id"] = self.option(product_name, label)
        return line


def cafe(pc: Platform) -> Store:
    store = Store(pc, pc.create_partner(category="cafe"))
    store.add(menu_item("Americano", 4500))
    store.add(menu_item("Latte", 5000))
    return store


def fashion_shop(pc: Platform, stock: dict[str, int] | None = None) -> Store:
    store = Store(pc, pc.create_partner(category="fashion"))
    store.add(
        shop_item("Linen shirt", [("White / M", 39000), ("White / L", 39000), ("Black / L", 41000)]),
        stock=stock or {"White / M": 10, "White / L": 10, "Black / L": 10},
    )
    return store


def order(
    customer: Customer,
    store: Store,
    channel: str,
    lines: list[dict],
    key: str | None = None,
    expect_status: int = 201,
    **extra,
):
    body = {"partner_id": store.partner.partner_id, "channel": channel, "lines": lines, **extra}
    if channel in ("delivery", "parcel") and "shipping_address" not in extra:
        body["shipping_address"] = ADDRESS
    response = customer.client.post("/v1/shop/orders", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})
    return expect(response, expect_status) if expect_status else response


def ask_refund(customer: Customer, order_id: str, reason: str, *lines: tuple[str, int]) -> requests.Response:
    """The customer asks to refund ``(line_id, quantity)`` lines of an order; the response, to check."""
    body = {"reason": reason, "lines": [{"line_id": line_id, "quantity": quantity} for line_id, quantity in lines]}
    return customer.client.post(f"/v1/shop/orders/{order_id}/refund-requests", json=body)


def ask_exchange(
    customer: Customer, store: Store, order_id: str, reason: str, line_id: str, product_name: str, label: str
) -> requests.Response:
    """The customer asks to exchange one of a line for the product's option ``label``; the response, to check."""
    line = {"line_id": line_id, "quantity": 1, "option_id": store.option(product_name, label)}
    return customer.client.post(
        f"/v1/shop/orders/{order_id}/exchange-requests", json={"reason": reason, "lines": [line]}
    )


def stock_of(store: Store, product_name: str) -> dict[str, int | None]:
    product_id = store.products[product_name]["product_id"]
    inventory = expect(store.partner.admin.client.get(f"{store.path}/products/{product_id}/inventory"), 200)
    labels = {o["option_id"]: o["label"] for o in store.products[product_name]["options"]}
    return {labels[s["option_id"]]: s["stock"] for s in inventory["stock"]}


def outbox(database_url: str, event_type: str | None = None) -> list[dict]:
    rows = db_rows(database_url, "SELECT event_type, body FROM outbox ORDER BY id")
    return [{"type": t, **body["payload"]} for t, body in rows if event_type in (None, t)]


def db_rows(database_url: str, sql: str, params=()) -> list[tuple]:
    """Rows of a query; waits out a PostgreSQL that is full (other test runs share it)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(database_url) as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
