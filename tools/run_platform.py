"""`make run`: start every service and the gateway, wait until the gateway's
health check passes, print its URL, and stop everything on Ctrl-C (or when
any process dies, so a half-running platform never lingers)."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement", "insights", "gateway"]
STARTUP_SECONDS = 60
STOP_SECONDS = 25
PR_SET_PDEATHSIG = 1


def gateway_url() -> str:
    host = os.environ.get("PC_GATEWAY_HOST", "127.0.0.1")
    return f"http://{host}:{os.environ.get('PC_GATEWAY_PORT', '8000')}"


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies, even by kill -9."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(service: str) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only this launcher, which then stops the
    # children in order and waits for them, so none is left behind.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("libs", "services")),
           "PSYCOPG_WAIT_FUNC": "wait_select"}
    return subprocess.Popen([sys.executable, "-m", "chassis.run", service], start_new_session=True,
                            preexec_fn=die_with_parent, env=env)


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
    processes = {name: start(name) for name in SERVICES}
    url = gateway_url()
    deadline = time.monotonic() + STARTUP_SECONDS
    announced = False
    exit_code = 0
    try:
        while not stop_requested:
            dead = [name for name, p in processes.items() if p.poll() is not None]
            if dead:
                print(f"stopping the platform: {', '.join(dead)} exited", file=sys.stderr)
                exit_code = 1
                break
            if not announced:
                if healthy(url):
                    print(f"\nPartner Center is up: {url}  (health: {url}/healthz; Ctrl-C stops everything)\n",
                          flush=True)
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
