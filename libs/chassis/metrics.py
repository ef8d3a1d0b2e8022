"""Prometheus metrics per service process, served on their own HTTP port,
with the liveness (``/healthz``) and readiness (``/readyz``) probes.

``Metrics`` is a dependency provider on every chassis service. It records,
for each entrypoint (RPC, event handler, HTTP route), a latency histogram and
errors by their stable code, and at each scrape reads what is only true at
that moment: the outbox backlog and the age of its oldest pending row, the
depth of each of the service's dead-letter (and retry and main) queues, the
database pool and the worker pool.

The port: ``METRICS_PORT`` in the service's config when present (0 turns the
endpoint off, as the test fixtures do), else ``PC_<SERVICE>_METRICS_PORT``,
else the service's own default from ``DEFAULT_PORTS`` (distinct ports, so
``make run`` on one machine does not collide). ``METRICS_HOST`` (default
``PC_METRICS_HOST`` or 127.0.0.1; 0.0.0.0 in containers) is the address.
A service whose port is taken refuses to start: a silent metrics outage
would hide every alert.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import eventlet
import eventlet.semaphore
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .contracts import SUBSCRIPTIONS
from .errors import DomainError
from .logging import get_logger

log = get_logger(__name__)

DEFAULT_PORTS = {
    "gateway": 9100,
    "accounts": 9101,
    "catalog": 9102,
    "reservations": 9103,
    "orders": 9104,
    "notifications": 9105,
    "settlement": 9106,
    "insights": 9107,
}
# Entrypoints are fast RPCs and slower event handlers: 2.5 ms .. 10 s.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCRAPE_QUERY_TIMEOUT = 2.0


def metrics_address(config: dict[str, Any], service: str) -> tuple[str, int]:
    """(host, port) of the metrics endpoint; port 0 means off."""
    if config.get("METRICS_PORT") not in (None, ""):
        port = int(config["METRICS_PORT"])
    else:
        port = int(os.environ.get(f"PC_{service.upper()}_METRICS_PORT", DEFAULT_PORTS.get(service, 0)))
    host = config.get("METRICS_HOST") or os.environ.get("PC_METRICS_HOST", "127.0.0.1")
    return host, port


def error_code(exc: BaseException) -> str:
    """Domain errors by their contract code; anything else is an internal error."""
    return exc.code if isinstance(exc, DomainError) else "internal_error"


def plain(start_response: Callable[..., Any], status: int, text: str) -> list[bytes]:
    start_response(
        f"{status} {'OK' if status == 200 else 'Service Unavailable'}", [("Content-Type", "text/plain; charset=utf-8")]
    )
    return [text.encode()]


class StateCollector(Collector):
    """Figures read at scrape time from the container's pool, broker and workers."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.service = container.service_name
        self.amqp_uri = container.config.get("AMQP_URI")
        self.amqp: Any = None  # amqp's connection (untyped), opened at the first scrape
        self.broker_lock = eventlet.semaphore.Semaphore()

    def database_pool(self) -> Any:
        from .db import DatabasePool  # only data services have one

        return next((ext for ext in self.container.extensions if isinstance(ext, DatabasePool)), None)

    def collect(self) -> Iterator[Metric]:
        labels = ["service"]
        workers = GaugeMetricFamily("pc_workers_active", "Workers running right now", labels=labels)
        workers.add_metric([self.service], len(self.container._worker_threads))
        yield workers
        capacity = GaugeMetricFamily("pc_workers_max", "Concurrent workers allowed", labels=labels)
        capacity.add_metric([self.service], self.container.max_workers)
        yield capacity
        pool = self.database_pool()
        if pool is not None and getattr(pool, "pool", None) is not None:
            yield from self.collect_pool(pool.pool)
            yield from self.collect_outbox(pool.pool)
        yield from self.collect_queues()

    def collect_pool(self, pool: Any) -> Iterator[Metric]:
        stats = pool.get_stats()
        size = stats.get("pool_size", 0)
        available = stats.get("pool_available", 0)
        for name, doc, value in (
            ("pc_db_pool_max", "Connections the pool may open", stats.get("pool_max", 0)),
            ("pc_db_pool_size", "Connections open now", size),
            ("pc_db_pool_in_use", "Connections lent to workers now", max(size - available, 0)),
            ("pc_db_pool_waiting", "Requests waiting for a connection now", stats.get("requests_waiting", 0)),
        ):
            gauge = GaugeMetricFamily(name, doc, labels=["service"])
            gauge.add_metric([self.service], value)
            yield gauge
        for name, doc, value in (
            ("pc_db_pool_requests", "Connections requested from the pool", stats.get("requests_num", 0)),
            ("pc_db_pool_timeouts", "Requests that got no connection in time", stats.get("requests_errors", 0)),
        ):
            counter = CounterMetricFamily(name, doc, labels=["service"])
            counter.add_metric([self.service], value)
            yield counter

    def collect_outbox(self, pool: Any) -> Iterator[Metric]:
        backlog = GaugeMetricFamily("pc_outbox_backlog", "Committed events not yet published", labels=["service"])
        age = GaugeMetricFamily(
            "pc_outbox_oldest_age_seconds", "Age of the oldest unpublished event", labels=["service"]
        )
        failing = GaugeMetricFamily(
            "pc_outbox_failing", "Unpublished events whose publish failed at least once", labels=["service"]
        )
        up = GaugeMetricFamily(
            "pc_outbox_readable", "1 when the outbox could be read at this scrape", labels=["service"]
        )
        try:
            with pool.connection(timeout=SCRAPE_QUERY_TIMEOUT) as conn:
                row = conn.execute(
                    """SELECT count(*) AS pending, count(*) FILTER (WHERE attempts > 0) AS failing,
                              coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS age
                       FROM outbox WHERE published_at IS NULL"""
                ).fetchone()
        except Exception as exc:  # the database is away: say so, do not fail the scrape
            log.warning("metrics_outbox_unreadable", error=repr(exc))
            up.add_metric([self.service], 0)
            yield up
            return
        up.add_metric([self.service], 1)
        backlog.add_metric([self.service], row["pending"])
        age.add_metric([self.service], row["age"])
        failing.add_metric([self.service], row["failing"])
        yield from (up, backlog, age, failing)

    def collect_queues(self) -> Iterator[Metric]:
        """Messages waiting in each of this service's event queues."""
        from . import topology

        subscriptions = sorted(s for s in SUBSCRIPTIONS if s.service == self.service)
        if not subscriptions or not self.amqp_uri:
            return
        labels = ["service", "subscription"]
        families = {
            topology.dead_letter_queue: GaugeMetricFamily(
                "pc_dead_letter_messages", "Events parked in the dead-letter queue", labels=labels
            ),
            topology.retry_queue: GaugeMetricFamily(
                "pc_retry_messages", "Failed deliveries waiting out their backoff", labels=labels
            ),
            topology.main_queue: GaugeMetricFamily(
                "pc_event_backlog_messages", "Events waiting to be consumed", labels=labels
            ),
        }
        with self.broker_lock:  # one py-amqp connection: one scrape at a time uses it
            try:
                for sub in subscriptions:
                    for queue_name, family in families.items():
                        family.add_metric(
                            [self.service, f"{sub.event_type}:{sub.handler}"], self.queue_depth(queue_name(sub))
                        )
            except Exception as exc:  # broker away: no queue figures at this scrape
                log.warning("metrics_queues_unreadable", error=repr(exc))
                self.close()
                return
        yield from families.values()

    def queue_depth(self, queue: str) -> int:
        import amqp

        from . import topology

        if self.amqp is None:
            self.amqp = topology.connect(self.amqp_uri)
        channel = self.amqp.channel()
        try:
            _name, messages, _consumers = channel.queue_declare(queue, passive=True)
        except amqp.exceptions.NotFound:  # not declared yet (the broker closed the channel)
            return 0
        channel.close()
        return int(messages)

    def close(self) -> None:
        from . import topology

        connection, self.amqp = self.amqp, None
        topology.collect(connection)


class Metrics(DependencyProvider):
    """Entrypoint latency and errors, plus ``StateCollector``, on ``/metrics``."""

    def setup(self) -> None:
        service = self.container.service_name
        self.host, self.port = metrics_address(self.container.config, service)
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "pc_entrypoint_duration_seconds",
            "Time an entrypoint's worker took",
            ["service", "entrypoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "pc_entrypoint_errors",
            "Entrypoint calls that ended in an error, by error code",
            ["service", "entrypoint", "code"],
            registry=self.registry,
        )
        self.state = StateCollector(self.container)
        self.registry.register(self.state)
        self.started_at: dict[str, Any] = {}
        self.server = None

    def start(self) -> None:
        if not self.port:
            return
        # Bound here so a port already taken stops the service from starting.
        sock = eventlet.listen((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.server = eventlet.spawn(
            eventlet.wsgi.server, sock, self.wsgi_app(), log_output=False, max_size=8, socket_timeout=10
        )
        log.info("metrics_listening", host=self.host, port=self.port)

    def wsgi_app(self) -> Callable[..., Any]:
        """``/metrics``; ``/healthz`` (liveness: the process answers) and
        ``/readyz`` (readiness: every entrypoint started, the database answers)."""
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            path = environ.get("PATH_INFO", "")
            if path == "/healthz":
                return plain(start_response, 200, "ok")
            if path == "/readyz":
                problem = self.readiness_problem()
                return plain(start_response, 503 if problem else 200, problem or "ready")
            return metrics_app(environ, start_response)

        return app

    def readiness_problem(self) -> str | None:
        from nameko.messaging import QueueConsumer

        consumers = [e for e in self.container.extensions if isinstance(e, QueueConsumer)]
        if not self.container.started or not all(c._consumers_ready.ready() for c in consumers):
            return "starting"  # not consuming its queues yet
        pool = self.state.database_pool()
        if pool is not None:
            try:
                with pool.pool.connection(timeout=SCRAPE_QUERY_TIMEOUT) as conn:
                    conn.execute("SELECT 1")
            except Exception as exc:
                return f"database unavailable: {type(exc).__name__}"
        return None

    def stop(self) -> None:
        if self.server is not None:
            self.server.kill()
            self.server = None
        self.state.close()

    kill = stop

    def worker_setup(self, worker_ctx: Any) -> None:
        self.started_at[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self.started_at.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint.method_name
        if started is not None:
            self.latency.labels(worker_ctx.service_name, entrypoint).observe(time.perf_counter() - started)
        if exc_info is not None:
            self.errors.labels(worker_ctx.service_name, entrypoint, error_code(exc_info[1])).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.started_at.pop(worker_ctx, None)

    def get_dependency(self, worker_ctx: Any) -> CollectorRegistry:
        return self.registry
