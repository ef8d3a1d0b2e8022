"""The faults, each under the steady stream: what happens while it lasts and
how long the platform takes to serve bookings and orders again after it."""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import eventlet
import psycopg

from .platform import DOMAIN_SERVICES, POSTGRES, Platform, rabbitmqctl

BLACKHOLE_SECONDS = 75          # longer than the AMQP heartbeat (nameko's default, 60 s)
SERVICE_DOWN_SECONDS = 3
RECOVERY_LIMIT = 120


@dataclass
class FaultResult:
    name: str
    started: float
    removed: float
    recovered_at: float | None = None
    counts: dict = field(default_factory=dict)
    error: str | None = None

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
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", (names,)).fetchall())


def restart_postgres_immediate() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main", "restart",
                    "-m", "immediate"], check=True, capture_output=True, timeout=120)


def rabbit_stop_start() -> None:
    rabbitmqctl("stop_app")
    try:
        time.sleep(3)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup", check=False)


def blackhole(platform: Platform) -> None:
    platform.proxy.blackhole()
    try:
        eventlet.sleep(BLACKHOLE_SECONDS)
    finally:
        platform.proxy.restore()


def plan(platform: Platform, kill_rounds: int = 2) -> list[tuple[str, callable]]:
    """Each domain service killed (one instance, then every instance) ``kill_rounds``
    times in all; then the broker and database faults, each once."""
    steps = []
    for round_ in range(kill_rounds):
        every = round_ % 2 == 1
        for service in DOMAIN_SERVICES:
            label = f"kill -9 {service} ({'both instances' if every else 'one instance'})"
            steps.append((label, lambda s=service, e=every: kill_service(platform, s, e)))
    steps += [
        ("rabbitmqctl close_all_connections (vhost)",
         lambda: rabbitmqctl("close_all_connections", "-p", platform.vhost, "proof: fault injection")),
        ("rabbitmqctl stop_app / start_app", rabbit_stop_start),
        ("postgres: pg_terminate_backend", lambda: terminate_backends(platform)),
        ("postgres: restart -m immediate", restart_postgres_immediate),
        (f"network blackhole to the broker ({BLACKHOLE_SECONDS}s)", lambda: blackhole(platform)),
    ]
    return steps


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
    window = [o for o in ledger.outcomes if started <= o.at <= window_end]
    result.counts = {
        "requests": len(window),
        "ok": sum(1 for o in window if 200 <= o.status < 300),
        "refused_503": sum(1 for o in window if o.status == 503),
        "other_5xx": sum(1 for o in window if o.status >= 500 and o.status != 503),
        "no_answer": sum(1 for o in window if o.status == 0),
        "bad_error_body": sum(1 for o in window if not o.body_ok),
    }
    # Everything back before the next fault (the supervisor restarts what exited).
    try:
        platform.wait_healthy(timeout=RECOVERY_LIMIT)
    except RuntimeError as exc:
        result.error = (result.error + "; " if result.error else "") + str(exc)
    return result
