"""`make run`'s launcher: every service and the gateway come up and answer
/healthz naming each, a service killed under it is started again while the
others keep answering, and Ctrl-C leaves no process behind; it says how many
PostgreSQL connections it may open, and refuses when the server lacks room."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import requests

from chassis.config import REPO_ROOT
from chassis.testing import eventually, free_port

SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement", "insights"]


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


def children_of(pid: int) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]


def services_of(launcher_pid: int) -> dict[str, int]:
    """The launcher's children by service (``python -m chassis.run catalog`` -> ``catalog``)."""
    found = {}
    for pid in children_of(launcher_pid):
        try:
            found[Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2].decode()] = pid
        except (FileNotFoundError, IndexError):
            pass  # exited meanwhile
    return found


class HealthPoller(threading.Thread):
    """Polls the gateway's /healthz until stopped; keeps what each poll saw."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.running = url, True
        self.seen: list[Any] = []

    def run(self):
        while self.running:
            try:
                response = requests.get(self.url, timeout=15)
                self.seen.append((response.status_code, response.json()["services"]))
            except (requests.RequestException, ValueError) as exc:
                self.seen.append((0, repr(exc)))

    def stop(self) -> list:
        self.running = False
        self.join(timeout=30)
        return self.seen


def kill_and_watch_it_return(launcher, output: Path, port: int, victim: str) -> None:
    pids = services_of(launcher.pid)
    poller = HealthPoller(f"http://127.0.0.1:{port}/healthz")
    poller.start()
    eventually(lambda: poller.seen, timeout=30, message="a first /healthz answer")
    os.kill(pids[victim], signal.SIGKILL)
    eventually(
        lambda: f"{victim} restarted" in output.read_text(),
        timeout=30,
        interval=0.2,
        message=f"the launcher restarting {victim}",
    )
    eventually(
        lambda: services_of(launcher.pid).get(victim) not in (None, pids[victim]),
        timeout=30,
        message=f"a new {victim} process",
    )
    after_restart = len(poller.seen) + 1  # the poll in flight may have begun before the restart
    eventually(
        lambda: any(status == 200 for status, _ in poller.seen[after_restart:]),
        timeout=60,
        interval=0.2,
        message=f"{victim} healthy again",
    )
    seen = poller.stop()
    assert [s for s in seen if s[0] == 0] == []  # the gateway answered every poll
    others_down = [
        services
        for status, services in seen
        if any(state != "ok" for name, state in services.items() if name != victim)
    ]
    assert others_down == []
    assert services_of(launcher.pid).keys() == pids.keys()  # the others were never restarted
    assert {s: p for s, p in services_of(launcher.pid).items() if s != victim} == {
        s: p for s, p in pids.items() if s != victim
    }


def test_platform_comes_up_healthy_restarts_a_killed_service_and_ctrl_c_stops_every_process(
    amqp_uri, make_database, tmp_path
):
    port = free_port()
    env = {
        **os.environ,
        "PC_AMQP_URI": amqp_uri,
        "PC_GATEWAY_PORT": str(port),
        "PC_LOG_LEVEL": "WARNING",
        "PC_CONSOLE_PORT": str(free_port()),
        "PC_HEALTH_TIMEOUT": "5",  # the health RPCs of the services left running answer on a busy machine
        **{f"PC_{s.upper()}_DATABASE_URL": make_database(s, migrate=False) for s in SERVICES},
        # metrics off: their fixed default ports would collide with a platform already running here
        **{f"PC_{s.upper()}_METRICS_PORT": "0" for s in ["gateway", *SERVICES]},
    }
    output = tmp_path / "launcher.out"
    with open(output, "w") as out:
        launcher = subprocess.Popen(
            [sys.executable, "tools/run_platform.py"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        # The launcher says so itself once its own health check passes.
        eventually(
            lambda: "Partner Center is up" in output.read_text(), timeout=90, interval=0.5, message="platform announced"
        )
        assert "make run may open up to" in output.read_text()
        response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert response.status_code == 200
        assert sorted(response.json()["services"]) == sorted(["gateway", *SERVICES])
        assert len(children_of(launcher.pid)) == len(SERVICES) + 2  # every service, the gateway and the console
        assert "Partner center console: http://127.0.0.1:" in output.read_text()

        kill_and_watch_it_return(launcher, output, port, "catalog")
        children = children_of(launcher.pid)

        launcher.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert launcher.wait(timeout=60) == 0, output.read_text()[-3000:]
        assert [pid for pid in children if alive(pid)] == []
    finally:
        if launcher.poll() is None:  # failed midway: stop it and show what it said
            launcher.send_signal(signal.SIGINT)
            launcher.wait(timeout=60)
            print(output.read_text()[-5000:])


def test_launcher_refuses_to_start_when_postgres_has_too_little_room(amqp_uri, make_database):
    databases = {s: make_database(s, migrate=False) for s in SERVICES}
    env = {
        **os.environ,
        "PC_AMQP_URI": amqp_uri,
        "PC_GATEWAY_PORT": str(free_port()),
        **{f"PC_{s.upper()}_DATABASE_URL": url for s, url in databases.items()},
        "PC_ACCOUNTS_DB_POOL_MAX": "100000",
    }  # more than any PostgreSQL here allows
    done = subprocess.run(
        [sys.executable, "tools/run_platform.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "make run needs up to 1000" in done.stderr and "PC_<SERVICE>_DB_POOL_MAX" in done.stderr
    assert "accounts 100000" in done.stdout  # the budget, by service, printed before the refusal
    with psycopg.connect(databases["accounts"]) as conn:  # no service started: none migrated its database
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None
