"""``self.services.<name>`` is a ``DeferredProxy``: the service's proxy is made at
the first call through it, then kept for the worker. Making one costs about 50 µs
of CPU, which accounts' ``authenticate`` paid on every partner request for an
orders proxy it never used (reports/bench-20/2026-12-06-d-main.md)."""

from __future__ import annotations

from types import SimpleNamespace

from chassis.rpc import DeferredProxy, Services


class CountingServices(Services):
    """Services whose proxies answer in process and are counted as they are made."""

    def __init__(self) -> None:
        super().__init__(worker_ctx=None, reply_listener=None, timeout=1.0)
        self.made: list[str] = []

    def get(self, service):
        self.made.append(service)
        return SimpleNamespace(unfinished_orders=lambda partner_ids: {p: 2 for p in partner_ids})


def test_a_services_proxy_is_made_at_the_first_call_through_it_and_kept():
    services = CountingServices()
    orders = services.orders
    assert isinstance(orders, DeferredProxy) and services.made == []
    assert orders.unfinished_orders(["p-1"]) == {"p-1": 2}
    assert orders.unfinished_orders(["p-2"]) == {"p-2": 2}
    assert services.made == ["orders"]
    assert services.accounts is not None and services.made == ["orders"]  # naming a service makes nothing
