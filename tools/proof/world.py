"""The people and things the proof acts with, made through the public HTTP API
exactly as partners, operators and customers would (tests/support/api.py).

Each new member signs up from its own loopback address (127.0.0.0/8 is all
local on Linux): the gateway's real sign-up limit (10 an hour per address)
stays on, as in production, and the login flood later meets the real limit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from requests.adapters import HTTPAdapter

from support.api import DEFAULT_PASSWORD, ApiClient, Customer, Member, Partner, Platform, expect, random_phone, unique

PARTNER_TIME_ZONE = ZoneInfo("Asia/Seoul")
_addresses = itertools.count(2)


def next_address() -> str:
    n = next(_addresses)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_from(base_url: str, address: str, token: str | None = None, pool: int = 10) -> ApiClient:
    client = ApiClient(base_url, token)
    adapter = SourceAddressAdapter(address, pool_connections=pool, pool_maxsize=pool)
    client.http.mount("http://", adapter)
    return client


def day(offset: int) -> str:
    return (dt.datetime.now(PARTNER_TIME_ZONE).date() + dt.timedelta(days=offset)).isoformat()


class ProofPlatform(Platform):
    """support.api.Platform against the proof's gateway process."""

    def __init__(self, url: str, accounts_database_url: str, dev_key_file: str):
        super().__init__(url, containers={}, dev_key_file=dev_key_file)
        self.accounts_database_url = accounts_database_url

    def sign_up_member(self, *args: Any, **fields: Any) -> Member:
        self.anonymous = client_from(self.url, next_address())
        return super().sign_up_member(*args, **fields)

    def customer_session(
        self, name: str | None = None, phone: str | None = None, subject: str | None = None
    ) -> Customer:
        """A consumer app opening a session from its own address (the login limit counts these too)."""
        name, phone = name or unique("Customer "), phone or random_phone()
        return self.customer_from(
            client_from(self.url, next_address()), self.id_token(phone, name, subject), name, phone
        )

    def operator(self) -> Member:
        if self._operator is None:
            import psycopg

            from accounts.ops import create_operator

            login_id = unique("ops_")
            for attempt in range(10):  # PostgreSQL's connections are shared with this machine's other users
                try:
                    member_id = create_operator(self.accounts_database_url, login_id, DEFAULT_PASSWORD, {})
                    break
                except psycopg.OperationalError:
                    if attempt == 9:
                        raise
                    time.sleep(1)
            self.anonymous = client_from(self.url, next_address())
            token = self.login(login_id)
            self._operator = Member(
                member_id, login_id, DEFAULT_PASSWORD, login_id, "", token, self.client(token), kind="operator"
            )
        return self._operator


@dataclass
class BookingProduct:
    product_id: str
    price_id: str
    partner: Partner

    def body(self, date: str, time: str = "10:00", quantity: int = 1) -> dict:
        return {
            "product_id": self.product_id,
            "date": date,
            "time": time,
            "lines": [{"price_id": self.price_id, "quantity": quantity}],
            "booker": {"name": "김다온", "phone": "010-1234-5678"},
        }


@dataclass
class Cafe:
    partner: Partner
    product_ids: list[str] = field(default_factory=list)

    def body(self, n: int) -> dict:
        return {
            "partner_id": self.partner.partner_id,
            "channel": "takeout",
            "lines": [{"product_id": self.product_ids[n % len(self.product_ids)], "quantity": 1 + n % 2}],
        }


def approve(pc: ProofPlatform, partner: Partner, body: dict) -> dict:
    admin = partner.admin.client
    draft = expect(admin.post(f"{partner.path}/products", json=body), 201)
    review = expect(admin.post(f"{partner.path}/products/{draft['product_id']}/submit"), 201)
    live = expect(pc.operator().client.post(f"/v1/ops/reviews/{review['revision_id']}/approve", json={}), 200)
    return live | {"product_id": draft["product_id"]}


def booking_product(pc: ProofPlatform, partner: Partner, slots: list[dict], name: str = "Hair cut") -> BookingProduct:
    place = expect(partner.admin.client.post(f"{partner.path}/places", json={"name": "본점", "address": "서울"}), 201)
    body = {
        "kind": "booking",
        "name": name,
        "schedule_type": "datetime",
        "quantity_mode": "slot",
        "prices": [{"label": "adult", "amount": 30000}],
        "payment": "none",
        "place_id": place["place_id"],
    }
    product = approve(pc, partner, body)
    path = f"{partner.path}/products/{product['product_id']}"
    expect(partner.admin.client.put(f"{path}/inventory", json={"slots": slots}), 200)
    return BookingProduct(product["product_id"], product["live"]["prices"][0]["price_id"], partner)


def cafe(pc: ProofPlatform) -> Cafe:
    store = Cafe(pc.create_partner(category="cafe"))
    for name, amount in (("Americano", 4500), ("Latte", 5000)):
        product = approve(
            pc,
            store.partner,
            {"kind": "goods", "goods_type": "menu", "name": name, "options": [{"label": "regular", "amount": amount}]},
        )
        store.product_ids.append(product["product_id"])
    return store


def idempotency_key() -> str:
    return uuid.uuid4().hex
