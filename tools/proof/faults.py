"""The faults, each under the steady stream: what happens while it lasts and
how long the platform takes to serve bookings and orders again after it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import eventlet
import psycopg

from .platform import DOMAIN_SERVICES, POSTGRES, Platform, rabbitmqctl

BLACKHOLE_SECONDS = 75  # longer than the AMQP heartbeat (nameko's default, 60 s)
SERVICE_DOWN_SECONDS = 3
RECOVERY_LIMIT = 120
NODE_DOWN_SECONDS = 30  # a killed broker node stays down this long, then is started again (not awaited)
SETTLE_SECONDS = 5  # after a lasting fault is cleared: what its end disturbs is counted too


@dataclass
class Lasting:
    """A fault that lasts ``hold`` seconds under the stream, then is cleared: the platform is
    measured from its start (does it keep serving, how long was it disturbed)."""

    start: Callable[[], object]
    clear: Callable[[], object]
    hold: float


@dataclass
class FaultResult:
    name: str
    started: float
    removed: float
    recovered_at: float | None = None
    counts: dict = field(default_factory=dict)
    error: str | None = None
    detail: str = ""

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered_at is None else max(0.0, self.recovered_at - self.removed)


def postgres_version() -> str:
    return sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]


def kill_service(platform: Platform, service: str, every_instance: bool) -> None:
    instances = platform.instances[service]
    victims = instances if every_instance else instances[:1]
    for instance in victims:
        instance.held_down = True
        instance.kill9()
    time.sleep(SERVICE_DOWN_SECONDS)
    for instance in victims:
        instance.start()
        instance.held_down = False


def terminate_backends(platform: Platform) -> int:
    names = [url.rsplit("/", 1)[1] for url in platform.databases.values()]
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
                (names,),
            ).fetchall()
        )


def restart_postgres_immediate() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main", "restart", "-m", "immediate"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def rabbit_stop_start() -> None:
    rabbitmqctl("stop_app")
    try:
        time.sleep(3)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup", check=False)


def blackhole(platform: Platform) -> None:
    proxy = platform.proxy
    assert proxy is not None, "the platform is started (its broker proxy exists)"
    proxy.blackhole()
    try:
        eventlet.sleep(BLACKHOLE_SECONDS)
    finally:
        proxy.restore()


def plan(platform: Platform, kill_rounds: int = 2) -> list[tuple[str, Callable[[], object]]]:
    """Each domain service killed (one instance, then every instance) ``kill_rounds``
    times in all; then the broker and database faults, each once."""
    steps: list[tuple[str, Callable[[], object]]] = []
    for round_ in range(kill_rounds):
        every = round_ % 2 == 1
        for service in DOMAIN_SERVICES:
            label = f"kill -9 {service} ({'both instances' if every else 'one instance'})"
            steps.append((label, partial(kill_service, platform, service, every)))
    steps += [
        (
            "rabbitmqctl close_all_connections (vhost)",
            lambda: rabbitmqctl("close_all_connections", "-p", platform.vhost, "proof: fault injection"),
        ),
        ("rabbitmqctl stop_app / start_app", rabbit_stop_start),
        ("postgres: pg_terminate_backend", lambda: terminate_backends(platform)),
        ("postgres: restart -m immediate", restart_postgres_immediate),
        (f"network blackhole to the broker ({BLACKHOLE_SECONDS}s)", lambda: blackhole(platform)),
    ]
    return steps


def cluster_plan(platform: Platform) -> list[tuple[str, Lasting]]:
    """The faults of a spread-out platform, each once (``make proof CLUSTER=1``)."""
    cluster = platform.cluster
    victim: dict = {}

    def kill_busiest():
        victim["node"], queues = cluster.busiest_leader(platform.vhost)
        cluster.kill_node(victim["node"])
        return f"{victim['node']} led {', '.join(queues)}"

    def cut_off():
        victim["proxy"] = max(platform.proxies, key=lambda proxy: len(proxy.connections))
        victim["proxy"].blackhole()
        node = cluster.nodes[platform.proxies.index(victim["proxy"])][0]
        return f"{node}: {len(victim['proxy'].connections)} service connections held without a byte moving"

    return [
        (
            f"broker node leading the busiest queues: kill -9, started again after {NODE_DOWN_SECONDS}s",
            Lasting(kill_busiest, lambda: cluster.restart_node(victim["node"]), NODE_DOWN_SECONDS),
        ),
        (
            f"broker node cut off from every service ({BLACKHOLE_SECONDS}s, TCP proxy blackhole)",
            Lasting(cut_off, lambda: victim["proxy"].restore(), BLACKHOLE_SECONDS),
        ),
        (
            "postgres failover: primary stopped (immediate), standby promoted, old primary rewound and rejoined",
            Lasting(cluster.pg_failover, lambda: None, 0),
        ),
    ]


def run_lasting(platform: Platform, ledger, name: str, fault: Lasting) -> FaultResult:
    """Start, hold, clear, let it settle; then: failed requests in the whole window, and the
    seconds from the fault's start until bookings and orders succeeded after the last failure."""
    started = time.monotonic()
    result = FaultResult(name, started, started)
    try:
        result.detail = str(fault.start() or "")[:300]
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    eventlet.sleep(max(0.0, started + fault.hold - time.monotonic()))
    try:
        fault.clear()
    except Exception as exc:
        result.error = (result.error + "; " if result.error else "") + f"clearing: {type(exc).__name__}: {exc}"
    try:
        platform.wait_healthy(timeout=RECOVERY_LIMIT)
    except RuntimeError as exc:
        result.error = (result.error + "; " if result.error else "") + str(exc)
    eventlet.sleep(SETTLE_SECONDS)
    window = [o for o in ledger.outcomes if o.at >= started]
    failures = [o.at for o in window if o.status == 0 or o.status >= 500]
    calm_from = max(failures, default=started)
    booking = first_success_after(window, "booking", calm_from)
    order = first_success_after(window, "order", calm_from)
    result.recovered_at = max(booking, order) if booking and order else None
    result.counts = count_outcomes(window)
    return result


def count_outcomes(window) -> dict:
    return {
        "requests": len(window),
        "ok": sum(1 for o in window if 200 <= o.status < 300),
        "refused_503": sum(1 for o in window if o.status == 503),
        "other_5xx": sum(1 for o in window if o.status >= 500 and o.status != 503),
        "no_answer": sum(1 for o in window if o.status == 0),
        "bad_error_body": sum(1 for o in window if not o.body_ok),
    }


def first_success_after(outcomes, kind: str, after: float) -> float | None:
    return next((o.at for o in outcomes if o.kind == kind and o.at >= after and o.status == 201), None)


def run_fault(platform: Platform, ledger, name: str, action) -> FaultResult:
    started = time.monotonic()
    error = None
    try:
        action()
    except Exception as exc:  # the fault itself failed (a tool missing...): reported, run goes on
        error = f"{type(exc).__name__}: {exc}"
    removed = time.monotonic()
    result = FaultResult(name, started, removed, error=error)
    deadline = removed + RECOVERY_LIMIT
    while time.monotonic() < deadline:
        booking = first_success_after(ledger.outcomes, "booking", removed)
        order = first_success_after(ledger.outcomes, "order", removed)
        if booking and order and platform.healthy():
            result.recovered_at = max(booking, order)
            break
        eventlet.sleep(0.25)
    window_end = result.recovered_at or time.monotonic()
    result.counts = count_outcomes([o for o in ledger.outcomes if started <= o.at <= window_end])
    # Everything back before the next fault (the supervisor restarts what exited).
    try:
        platform.wait_healthy(timeout=RECOVERY_LIMIT)
    except RuntimeError as exc:
        result.error = (result.error + "; " if result.error else "") + str(exc)
    return result
