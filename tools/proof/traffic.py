"""A steady stream of bookings and cafe orders through the gateway, as the
consumer app and a partner's staff would send them, with every outcome kept.

A client that gets a 503 (or no answer) retries the same request with the
same Idempotency-Key, as the contract invites: so every creation ends either
accepted (201, counted once) or, if the run ends first, unresolved. Orders
are then taken through start-preparing and complete by the cafe's staff, so
settlement has sales to record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import eventlet
import requests

from .world import BookingProduct, Cafe, day, idempotency_key

RETRY_PAUSE = 0.5


@dataclass
class Outcome:
    at: float  # time.monotonic() when the answer came
    kind: str  # "booking", "order", "order_step"
    status: int  # HTTP status, 0 for no answer (connection error or client timeout)
    seconds: float
    body_ok: bool = True  # a 5xx carried the contract's error body


@dataclass
class Ledger:
    """What the clients were told: the ground truth the reconciliation checks."""

    outcomes: list[Outcome] = field(default_factory=list)
    reservations: dict[str, dict] = field(default_factory=dict)  # idempotency key -> 201 body
    orders: dict[str, dict] = field(default_factory=dict)  # idempotency key -> 201 body
    completed_orders: set[str] = field(default_factory=set)
    unresolved: dict[str, tuple] = field(default_factory=dict)  # key -> (kind, client, path, body, customer_id)


def worth_retrying(response: requests.Response | None) -> bool:
    """No answer, a 5xx, or a refusal that says to send it again (reservations'
    ``booking_interrupted``, details.retry)."""
    if response is None or response.status_code in (502, 503, 504):
        return True
    try:
        return response.status_code == 409 and response.json()["error"]["details"].get("retry") is True
    except (ValueError, KeyError, AttributeError, TypeError):
        return False


def error_shaped(response: requests.Response) -> bool:
    try:
        body = response.json()
        return set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    except ValueError:
        return False


class Stream:
    def __init__(
        self,
        ledger: Ledger,
        product: BookingProduct,
        store: Cafe,
        customers: list,
        staff_client,
        booking_days: list[str],
    ):
        self.ledger, self.product, self.store = ledger, product, store
        self.customers, self.staff, self.days = customers, staff_client, booking_days
        self.running = False
        self.pool = eventlet.GreenPool()
        self.counter = 0

    def call(self, kind: str, client, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = client.request(method, path, timeout=15, **kwargs)
        except requests.RequestException:
            self.ledger.outcomes.append(Outcome(time.monotonic(), kind, 0, time.monotonic() - started))
            return None
        ok = response.status_code < 500 or error_shaped(response)
        self.ledger.outcomes.append(
            Outcome(time.monotonic(), kind, response.status_code, time.monotonic() - started, ok)
        )
        return response

    def create(self, kind: str, client, path: str, body: dict, key: str, customer_id: str, until_stopped: bool = True):
        """POST with one Idempotency-Key, retried on 503 or no answer; the 201 body or None."""
        self.ledger.unresolved[key] = (kind, client, path, body, customer_id)
        while True:
            response = self.call(kind, client, "POST", path, json=body, headers={"Idempotency-Key": key})
            if response is not None and response.status_code == 201:
                self.ledger.unresolved.pop(key, None)
                return response.json()
            if not worth_retrying(response):
                self.ledger.unresolved.pop(key, None)  # a definite refusal (409 capacity, 422...): nothing made
                return None
            if until_stopped and not self.running:
                return None
            eventlet.sleep(RETRY_PAUSE)

    def step(self, path: str) -> bool:
        """A staff action, retried on 503; a 409 after a retry means an earlier try did it."""
        retried = False
        while True:
            response = self.call("order_step", self.staff, "POST", path)
            if response is not None and (response.status_code == 200 or (retried and response.status_code == 409)):
                return True
            if response is not None and response.status_code not in (502, 503, 504):
                return False
            if not self.running:
                return False
            retried = True
            eventlet.sleep(RETRY_PAUSE)

    def booker(self, worker: int) -> None:
        while self.running:
            self.counter += 1
            customer = self.customers[self.counter % len(self.customers)]
            key = idempotency_key()
            body = self.product.body(self.days[self.counter % len(self.days)])
            created = self.create("booking", customer.client, "/v1/shop/reservations", body, key, customer.customer_id)
            if created:
                self.ledger.reservations[key] = created | {"customer_id": customer.customer_id}
            eventlet.sleep(0.05)

    def orderer(self, worker: int) -> None:
        while self.running:
            self.counter += 1
            customer = self.customers[self.counter % len(self.customers)]
            key = idempotency_key()
            created = self.create(
                "order", customer.client, "/v1/shop/orders", self.store.body(self.counter), key, customer.customer_id
            )
            if created:
                self.ledger.orders[key] = created | {"customer_id": customer.customer_id}
                base = f"{self.store.partner.path}/orders/{created['order_id']}"
                if self.step(f"{base}/start-preparing") and self.step(f"{base}/complete"):
                    self.ledger.completed_orders.add(created["order_id"])
            eventlet.sleep(0.05)

    def start(self, bookers: int = 3, orderers: int = 3) -> None:
        self.running = True
        for i in range(bookers):
            self.pool.spawn(self.booker, i)
        for i in range(orderers):
            self.pool.spawn(self.orderer, i)

    def stop(self, timeout: float = 60) -> None:
        self.running = False
        with eventlet.Timeout(timeout, False):
            self.pool.waitall()

    def resolve(self, attempts: int = 10) -> None:
        """After the run: each creation left unanswered is asked again with its key, so
        the client finally learns whether it was made (the same key never makes two)."""
        self.running = True
        for key, (kind, client, path, body, customer_id) in list(self.ledger.unresolved.items()):
            for _ in range(attempts):
                response = self.call(kind, client, "POST", path, json=body, headers={"Idempotency-Key": key})
                if not worth_retrying(response):
                    self.ledger.unresolved.pop(key, None)
                    if response.status_code == 201:
                        target = self.ledger.reservations if kind == "booking" else self.ledger.orders
                        target[key] = response.json() | {"customer_id": customer_id}
                    break
                eventlet.sleep(1)
        self.running = False


def booking_days(count: int = 7, offset: int = 3) -> list[str]:
    return [day(offset + i) for i in range(count)]
