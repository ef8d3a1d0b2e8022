"""The bases every service class starts from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nameko.dependency_providers import Config

from .context import WorkerContext
from .db import Database
from .errors import DomainError
from .health import HealthResponder
from .metrics import Metrics
from .outbox import OutboxRelay
from .rpc import ChassisRpc, ServiceRpc

# Domain errors are answers, not failures: nameko should not log them as errors.
rpc = ChassisRpc.decorator(expected_exceptions=DomainError)


class ChassisService:
    """Correlation ids and logging context, RPC to other services with deadlines,
    Prometheus metrics on the service's own port (``chassis.metrics``)."""

    name: str
    config = Config()
    context = WorkerContext()
    services = ServiceRpc()
    metrics = Metrics()


class DataService(ChassisService):
    """A service owning a PostgreSQL database, with its outbox relay."""

    db = Database()
    outbox_relay = OutboxRelay()
    health_responder = HealthResponder()  # what the gateway's /healthz asks (chassis.health)

    @rpc
    def health(self) -> dict[str, Any]:
        """The RPC queue serves (tools and tests wait for it); /healthz asks ``health_responder``."""
        with self.db.transaction() as uow:
            uow.fetch_one("SELECT 1")
        return {"service": self.name, "status": "ok"}

    def now(self) -> dt.datetime:
        """The clock a service's use cases read: aware, in UTC."""
        return dt.datetime.now(dt.UTC)
