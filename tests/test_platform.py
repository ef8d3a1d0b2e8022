"""`make run`'s launcher: every service and the gateway come up and answer
/healthz naming each, and Ctrl-C leaves no process behind."""
import os
import signal
import subprocess
import sys
from pathlib import Path

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


def test_platform_comes_up_healthy_and_ctrl_c_stops_every_process(amqp_uri, make_database, tmp_path):
    port = free_port()
    env = {**os.environ, "PC_AMQP_URI": amqp_uri, "PC_GATEWAY_PORT": str(port), "PC_LOG_LEVEL": "WARNING",
           **{f"PC_{s.upper()}_DATABASE_URL": make_database(s, migrate=False) for s in SERVICES},
           # metrics off: their fixed default ports would collide with a platform already running here
           **{f"PC_{s.upper()}_METRICS_PORT": "0" for s in ["gateway", *SERVICES]}}
    output = tmp_path / "launcher.out"
    with open(output, "w") as out:
        launcher = subprocess.Popen([sys.executable, "tools/run_platform.py"], cwd=REPO_ROOT, env=env,
                                    stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        # The launcher says so itself once its own health check passes.
        eventually(lambda: "Partner Center is up" in output.read_text(), timeout=90, interval=0.5,
                   message="platform announced")
        response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert response.status_code == 200
        assert sorted(response.json()["services"]) == sorted(["gateway", *SERVICES])
        children = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True,
                                                         text=True).stdout.split()]
        assert len(children) == len(SERVICES) + 1   # every service and the gateway

        launcher.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert launcher.wait(timeout=60) == 0, output.read_text()[-3000:]
        assert [pid for pid in children if alive(pid)] == []
    finally:
        if launcher.poll() is None:  # failed midway: stop it and show what it said
            launcher.send_signal(signal.SIGINT)
            launcher.wait(timeout=60)
            print(output.read_text()[-5000:])
