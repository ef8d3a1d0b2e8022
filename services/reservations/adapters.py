"""The ports of use_cases.py over nameko RPC: what reservations asks other services."""

from __future__ import annotations

import os
import signal
from collections import OrderedDict
from typing import Any

from chassis.rpc_contracts import HoldReply, ProductSummary

OPEN_CONVERSATION_TIMEOUT = 2.0  # seconds the customer's accept waits for the partner's list to show it
PRODUCT_OWNERS_KEPT = 10_000  # products whose owner is remembered (about 1 MB), the least recently used go
FAULT_ENV = "PC_FAULT_INJECT"  # crash tests: "kill_after_hold" dies with a hold taken and nothing recorded


class ProductOwners:
    """product id -> (partner id, kind), which never change: remembered per process,
    at most ``PRODUCT_OWNERS_KEPT`` of them."""

    def __init__(self, size: int = PRODUCT_OWNERS_KEPT):
        self.size = size
        self.known: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def get(self, product_id: str) -> tuple[str, str] | None:
        owner = self.known.get(product_id)
        if owner is not None:
            self.known.move_to_end(product_id)
        return owner

    def put(self, product_id: str, owner: tuple[str, str]) -> None:
        self.known[product_id] = owner
        self.known.move_to_end(product_id)
        while len(self.known) > self.size:
            self.known.popitem(last=False)


PRODUCT_OWNERS = ProductOwners()


class CatalogRpc:
    """CatalogPort: the catalog's RPCs, and who owns a product (asked once per product)."""

    def __init__(self, proxy: Any, owners: ProductOwners = PRODUCT_OWNERS):
        self.proxy = proxy
        self.owners = owners

    def product_owner(self, product_id: str) -> tuple[str, str]:
        owner = self.owners.get(product_id)
        if owner is None:
            product = ProductSummary.read(self.proxy.shop_get_product(product_id))
            owner = (product.partner_id, product.kind)
            self.owners.put(product_id, owner)
        return owner

    def hold(self, hold_id: str, partner_id: str, lines: list[dict], coupon: dict | None = None) -> dict:
        return HoldReply.read(self.proxy.hold(hold_id, partner_id, lines, coupon=coupon)).as_reply()

    def release(
        self, hold_id: str, partner_id: str, lines: list[dict] | None = None, release_id: str | None = None
    ) -> dict:
        return HoldReply.read(self.proxy.release(hold_id, partner_id, lines, release_id)).as_reply()

    def get_product(self, partner_id: str, product_id: str) -> dict:
        return self.proxy.get_product(partner_id, product_id)

    def slot_board(self, partner_id: str, product_id: str, date_from: str, date_to: str) -> dict:
        return self.proxy.slot_board(partner_id, product_id, date_from, date_to)


class NotificationsRpc:
    """NotificationsPort: opening a conversation, waiting briefly for it."""

    def __init__(self, proxy: Any):
        self.proxy = proxy

    def open_conversation(self, conversation: dict) -> None:
        self.proxy.call_with_timeout("open_conversation", OPEN_CONVERSATION_TIMEOUT, conversation)


def die_if_asked_after_hold() -> None:
    """The crash tests' fault: the process dies right after the catalog held."""
    if os.environ.get(FAULT_ENV) == "kill_after_hold":
        os.kill(os.getpid(), signal.SIGKILL)
