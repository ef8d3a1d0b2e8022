"""The gateway: HTTP in, RPC to the services out. No state of its own."""

from __future__ import annotations

from functools import cache

import eventlet

from chassis.errors import ServiceUnavailable
from chassis.service import ChassisService
from contract.common import Document, Health

from .docs import DocsPage
from .http import route, routes_of
from .openapi import build_document
from .routes.accounts import AccountsRoutes
from .routes.catalog import CatalogRoutes
from .routes.coupons import CouponsRoutes
from .routes.events import EventsRoutes
from .routes.insights import InsightsRoutes
from .routes.notifications import NotificationsRoutes
from .routes.orders import OrdersRoutes
from .routes.reservations import ReservationsRoutes
from .routes.settlement import SettlementRoutes


class GatewayService(
    AccountsRoutes,
    SettlementRoutes,
    CatalogRoutes,
    OrdersRoutes,
    ReservationsRoutes,
    NotificationsRoutes,
    InsightsRoutes,
    CouponsRoutes,
    EventsRoutes,
    DocsPage,
    ChassisService,
):
    name = "gateway"

    @route(
        "GET",
        "/healthz",
        summary="200 when the gateway and every service answer",
        response_model=Health,
        outside_pool=True,
    )
    def healthz(self, request):
        config = self.config
        report = dict(self._ask_health(config["DOWNSTREAM_SERVICES"], float(config.get("HEALTH_TIMEOUT", 2))))
        failing = sorted(name for name, state in report.items() if state != "ok")
        body = {"status": "ok" if not failing else "unavailable", "services": {"gateway": "ok", **report}}
        if failing:
            body["failing"] = failing
            return 503, body
        return 200, body

    def _ask_health(self, services: list[str], timeout: float):
        def ask(name):
            try:
                self.services.check_health(name, timeout)
                return name, "ok"
            except ServiceUnavailable:
                return name, "unavailable"
            except Exception as exc:  # a service that answers with an error is not healthy either
                return name, f"error: {type(exc).__name__}"

        pool = eventlet.GreenPool(len(services))
        return pool.imap(ask, services)

    @route("GET", "/v1/openapi.json", summary="this document", response_model=Document)
    def openapi(self, request):
        return 200, document_of(type(self))


@cache
def document_of(service_cls) -> dict:
    """Built once per process: the routes and models do not change while it runs."""
    return build_document(routes_of(service_cls))
