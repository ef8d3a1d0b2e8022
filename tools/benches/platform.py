"""The whole `make run` platform on one machine (issue #24): PostgreSQL
connections under the reservations section's booking load and after it, and
every process's peak memory.

``tools/run_platform.py`` (what `make run` runs) starts every service and the
gateway on this run's vhost and databases; 50 customers book as fast as they
are answered for 15 s (the reservations section's load); connections are
counted from ``pg_stat_activity`` by database every 0.2 s while the load runs
and for a minute after it; peak RSS (``VmHWM``) is read from each process.
Targets: at most 40 connections under load, at most 16 a minute after it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import eventlet
import psycopg

from bench import POSTGRES, REPO, peak_rss_mib
from benches.reservations import CLIENTS, SECONDS, booking_load, drive, free_port, wait_for_http

SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement", "insights"]
IDLE_SECONDS = 60
SAMPLE_SECONDS = 0.2
LOAD_LIMIT, IDLE_LIMIT = 40, 16


class ConnectionCounter:
    """Connections to the run's databases, sampled in a green thread."""

    def __init__(self, databases: dict[str, str]):
        self.names = {url.rsplit("/", 1)[1]: service for service, url in databases.items()}
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.thread: Any = None  # eventlet's GreenThread, once started

    def count(self, conn) -> dict[str, int]:
        rows = conn.execute(
            "SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY(%s) GROUP BY 1", (list(self.names),)
        ).fetchall()
        return {self.names[name]: n for name, n in rows}

    def start(self) -> ConnectionCounter:
        def sample():
            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
                while True:
                    self.samples.append((time.monotonic(), self.count(conn)))
                    eventlet.sleep(SAMPLE_SECONDS)

        self.thread = eventlet.spawn(sample)
        return self

    def stop(self) -> None:
        self.thread.kill()

    def peak(self, since: float, until: float) -> tuple[int, dict[str, int]]:
        """The largest total in the window, and each service's own largest count."""
        window = [counts for at, counts in self.samples if since <= at <= until] or [{}]
        by_service = {s: max(c.get(s, 0) for c in window) for s in SERVICES}
        return max(sum(c.values()) for c in window), by_service

    def first_at_most(self, limit: int, since: float) -> float | None:
        return next((at - since for at, counts in self.samples if at >= since and sum(counts.values()) <= limit), None)

    def latest(self) -> dict[str, int]:
        return self.samples[-1][1] if self.samples else {}


def children(pid: int) -> dict[str, int]:
    """The launcher's children by name: a service's command line ends with it
    (``-m chassis.run <service>``), the web console's is ``-m console``."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        module = argv[argv.index("-m") + 1]
        found[argv[argv.index(module) + 1] if module == "chassis.run" else module] = int(child)
    return found


def run(ctx) -> list[dict]:
    databases = {service: ctx.database(service) for service in SERVICES}
    port = free_port()
    env = {
        "PC_AMQP_URI": ctx.amqp_uri,
        "PYTHONPATH": f"{REPO / 'libs'}:{REPO / 'services'}",
        "PC_GATEWAY_PORT": str(port),
        "PC_LOG_LEVEL": "WARNING",
        **{f"PC_{s.upper()}_DATABASE_URL": url for s, url in databases.items()},
        **{f"PC_{s.upper()}_METRICS_PORT": "0" for s in ["gateway", *SERVICES]},
    }
    launcher = ctx.start_process([sys.executable, str(REPO / "tools" / "run_platform.py")], env)
    base = f"http://127.0.0.1:{port}"
    for service in SERVICES:
        ctx.rpc_ready(service, timeout=90)
    wait_for_http(base, timeout=60)
    budget = next(line for line in launcher.log_path.read_text().splitlines() if line.startswith("PostgreSQL"))
    processes = children(launcher.pid)
    tokens, body, _product_id = booking_load(ctx, base, databases["accounts"])
    counter = ConnectionCounter(databases).start()
    load_started = time.monotonic()
    _latencies, statuses = drive(base, tokens, body, None, SECONDS)
    load_ended = time.monotonic()
    eventlet.sleep(IDLE_SECONDS)
    counter.stop()
    load_peak, load_by_service = counter.peak(load_started, load_ended)
    idle_now = counter.latest()
    settled = counter.first_at_most(IDLE_LIMIT, load_ended)
    rss = {service: peak_rss_mib(pid) for service, pid in processes.items()}
    booked = statuses.get(201, 0)
    return [
        {
            "name": f"platform: PostgreSQL connections under the booking load ({CLIENTS} clients; target <= {LOAD_LIMIT})",
            "value": float(load_peak),
            "unit": "connections",
            "note": f"peak of the total; each service's own peak: {fmt(load_by_service)}; {booked / SECONDS:.0f} "
            f"bookings/s, statuses {dict(sorted(statuses.items()))}; {budget}",
        },
        {
            "name": f"platform: PostgreSQL connections {IDLE_SECONDS} s after the load (target <= {IDLE_LIMIT})",
            "value": float(sum(idle_now.values())),
            "unit": "connections",
            "note": f"{fmt(idle_now)}; at most {IDLE_LIMIT} after "
            + (f"{settled:.0f} s" if settled is not None else f"more than {IDLE_SECONDS} s"),
        },
        {
            "name": "platform: peak RSS per process (make run, after the load)",
            "value": max(rss.values()),
            "unit": "MiB",
            "note": fmt({s: round(m) for s, m in rss.items()}),
        },
    ]


def fmt(by_service: dict) -> str:
    return ", ".join(f"{s} {n}" for s, n in by_service.items())
