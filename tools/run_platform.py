"""`make run`: say how many PostgreSQL connections the platform may open (and
refuse when the server has too little room: connection_budget), start every
service and the gateway, wait until the gateway's health check passes, print
its URL, and stop everything on Ctrl-C.

A service that exits by itself (a crash, kill -9, a lost broker connection
it gives up on) is started again, as a supervisor (systemd, Kubernetes)
would: after 1 s, then 2, 4, ... up to 30 s while it keeps dying, back to
1 s once it has stayed up a minute. Each restart is said on stderr. The
others keep serving meanwhile (the gateway's /healthz names the one that is
down). Only a platform that never became healthy within the start-up time
is given up on, so a broken setup (port taken, database missing) still ends
`make run` with its error instead of looping."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from connection_budget import check as check_connection_budget

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement", "insights", "gateway"]
CONSOLE = "console"  # the web console (services/console): no database, a client of the gateway
PROCESSES = [*SERVICES, CONSOLE]
STARTUP_SECONDS = 60
STOP_SECONDS = 25
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60  # up this long: the next crash starts the back-off again at 1 s
PR_SET_PDEATHSIG = 1


def gateway_url() -> str:
    host = os.environ.get("PC_GATEWAY_HOST", "127.0.0.1")
    return f"http://{host}:{os.environ.get('PC_GATEWAY_PORT', '8000')}"


def console_url() -> str:
    return f"http://{os.environ.get('PC_CONSOLE_HOST', '127.0.0.1')}:{os.environ.get('PC_CONSOLE_PORT', '8080')}"


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies, even by kill -9."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(service: str) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only this launcher, which then stops the
    # children in order and waits for them, so none is left behind.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("libs", "services")),
        "PSYCOPG_WAIT_FUNC": "wait_select",
    }
    command = ["-m", "console"] if service == CONSOLE else ["-m", "chassis.run", service]
    return subprocess.Popen([sys.executable, *command], start_new_session=True, preexec_fn=die_with_parent, env=env)


class Restarts:
    """When to start a crashed service again: exponential back-off per service."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.backoff: dict[str, float] = {}
        self.due: dict[str, float] = {}  # service -> when to start it again
        self.count: dict[str, int] = {}
        self.started_at: dict[str, float] = {}

    def started(self, service: str) -> None:
        self.started_at[service] = self.clock()

    def exited(self, service: str) -> float:
        """Schedule the restart; returns the delay chosen."""
        now = self.clock()
        if now - self.started_at.get(service, now) >= STABLE_SECONDS:
            self.backoff.pop(service, None)
        delay = self.backoff.get(service, FIRST_BACKOFF_SECONDS)
        self.backoff[service] = min(delay * 2, MAX_BACKOFF_SECONDS)
        self.due[service] = now + delay
        self.count[service] = self.count.get(service, 0) + 1
        return delay

    def ready(self) -> list[str]:
        now = self.clock()
        ready = [service for service, at in self.due.items() if at <= now]
        for service in ready:
            del self.due[service]
        return ready


def supervise(processes: dict[str, subprocess.Popen], restarts: Restarts) -> None:
    """One pass: note who exited, start again those whose back-off is over."""
    for name, process in processes.items():
        if process.poll() is not None and name not in restarts.due:
            delay = restarts.exited(name)
            print(
                f"{name} exited (code {process.returncode}); restarting it in {delay:.0f}s "
                f"(restart {restarts.count[name]})",
                file=sys.stderr,
                flush=True,
            )
    for name in restarts.ready():
        processes[name] = start(name)
        restarts.started(name)
        print(f"{name} restarted (pid {processes[name].pid})", file=sys.stderr, flush=True)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it", file=sys.stderr)
            process.kill()
            process.wait()


def main() -> int:
    stop_requested: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _f: stop_requested.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _f: stop_requested.append(signum))
    budget, refusal = check_connection_budget(SERVICES)
    print("\n".join(budget), flush=True)
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    processes = {name: start(name) for name in PROCESSES}
    restarts = Restarts()
    for name in PROCESSES:
        restarts.started(name)
    url = gateway_url()
    deadline = time.monotonic() + STARTUP_SECONDS
    announced = False
    exit_code = 0
    try:
        while not stop_requested:
            supervise(processes, restarts)
            if not announced:
                if healthy(url):
                    print(
                        f"\nPartner Center is up: {url}  (health: {url}/healthz; Ctrl-C stops everything)\n"
                        f"Partner center console: {console_url()}\n",
                        flush=True,
                    )
                    announced = True
                elif time.monotonic() > deadline:
                    print(f"the gateway did not report healthy within {STARTUP_SECONDS}s", file=sys.stderr)
                    exit_code = 1
                    break
            time.sleep(0.5)
    finally:
        stop_all(processes)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
