"""`make run`/`make test` set up what they need (tools/ensure_infra.sh): a server
that answers is left alone, one installed but stopped is started, one missing is
installed through apt when run as root, and otherwise the one command to run is
printed. Each decision runs the real script on a PATH of stand-in commands
(apt-get, rabbitmq-server, pg_ctlcluster, redis-server, id, ...) that record how
they were called; the stand-in servers really listen, so the script's own check
that a started server answers is exercised too. Nothing is installed."""

import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from chassis.config import REPO_ROOT
from chassis.testing import free_port

SCRIPT = str(REPO_ROOT / "tools" / "ensure_infra.sh")
TOOLS = ["bash", "env", "timeout", "sed", "seq", "sleep", "awk", "cp", "chmod"]
PACKAGES = "rabbitmq-server postgresql redis-server chromium fonts-nanum"
QUERIES = ("id", "fc-list", "pg_lsclusters")  # stand-ins asked, not acted on: left out of calls()


class Machine:
    """A PATH holding only basic tools and the stand-ins a test adds."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.bin = tmp_path / "bin"
        self.stash = tmp_path / "stash"  # what the stand-in apt-get "installs" into bin
        self.calls_log = tmp_path / "calls.log"
        self.pids = tmp_path / "listeners.pid"
        for path in (self.bin, self.stash):
            path.mkdir()
        for tool in TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        (self.bin / "python3").symlink_to(sys._base_executable)
        self.ports = {"amqp": free_port(), "postgres": free_port(), "redis": free_port()}

    def add(self, name: str, body: str = "", into=None) -> None:
        path = (into or self.bin) / name
        path.write_text(f'#!/bin/bash\necho "{name} $*" >> {self.calls_log}\n{body}\n')
        path.chmod(0o755)

    def listen(self, port) -> str:
        """A stand-in server: a process listening on ``port`` for a minute."""
        return (
            f'python3 -c \'import socket, time; s = socket.create_server(("127.0.0.1", {port})); '
            f"time.sleep(60)' >/dev/null 2>&1 &\necho $! >> {self.pids}"
        )

    def stopped_servers(self, into=None) -> None:
        self.add("rabbitmq-server", self.listen(self.ports["amqp"]), into)
        self.add("redis-server", self.listen("'$7'"), into)  # --daemonize yes --bind 127.0.0.1 -::1 --port N
        self.add("pg_lsclusters", f'echo "15 main {self.ports["postgres"]} down postgres /srv/15 /log"', into)
        self.add("pg_ctlcluster", f'[ "$4" = start ] && {{ {self.listen(self.ports["postgres"])}; }}', into)

    def browser(self) -> None:
        self.add("chromium")
        self.add("fc-list", 'echo "NanumGothic"')

    def run(self, *args, root: bool, servers_here: bool = False, **env):
        self.add("id", f"echo {0 if root else 1000}")
        ports = (
            {}
            if servers_here
            else {
                "PC_AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:{self.ports['amqp']}/",
                "PC_POSTGRES_PORT": str(self.ports["postgres"]),
                "PC_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            }
        )
        return subprocess.run(
            [SCRIPT, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "PATH": str(self.bin),
                "PC_INFRA_WAIT_SECONDS": "30",
                "PC_POSTGRES_CONF_ROOT": str(self.root / "etc"),
                **ports,
                **env,
            },
        )

    def calls(self) -> list[str]:
        lines = self.calls_log.read_text().splitlines() if self.calls_log.exists() else []
        return [line for line in lines if line.split(" ", 1)[0] not in QUERIES]

    def answers(self, port: int) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def stop_listeners(self) -> None:
        for pid in self.pids.read_text().split() if self.pids.exists() else []:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.fixture
def machine(tmp_path):
    m = Machine(tmp_path)
    yield m
    m.stop_listeners()


def test_servers_that_answer_and_an_installed_browser_are_left_alone(machine):
    machine.stopped_servers()
    machine.browser()
    machine.add("apt-get")
    result = machine.run("--browser", root=True, servers_here=True)  # this machine's RabbitMQ, PostgreSQL, Redis
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []


def test_installed_but_stopped_servers_are_started_with_their_own_commands(machine):
    machine.stopped_servers()
    machine.add("apt-get")
    result = machine.run(root=True)
    assert result.returncode == 0, result.stderr
    assert machine.calls() == [
        "rabbitmq-server -detached",
        "pg_ctlcluster --skip-systemctl-redirect 15 main start",
        f"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {machine.ports['redis']} --save  --appendonly no",
    ]
    assert all(machine.answers(port) for port in machine.ports.values())


def test_missing_as_root_installs_through_apt_then_starts_them(machine):
    machine.stopped_servers(into=machine.stash)
    machine.add("chromium", into=machine.stash)
    machine.add("fc-list", 'echo "NanumGothic"', into=machine.stash)
    machine.add("apt-get", f'if [ "$1" = install ]; then cp {machine.stash}/* {machine.bin}/; fi')
    hba = machine.root / "etc" / "15" / "main" / "pg_hba.conf"
    hba.parent.mkdir(parents=True)
    hba.write_text("host all all 127.0.0.1/32 scram-sha-256\n")
    result = machine.run("--browser", root=True)
    assert result.returncode == 0, result.stderr
    calls = machine.calls()
    assert calls[:2] == ["apt-get update -qq", f"apt-get install -y -qq {PACKAGES}"]
    assert {"rabbitmq-server -detached", "pg_ctlcluster --skip-systemctl-redirect 15 main start"} <= set(calls)
    assert all(machine.answers(port) for port in machine.ports.values())
    # A fresh PostgreSQL takes the platform's password-less loopback URLs (development machines).
    assert hba.read_text().splitlines()[0] == "host all postgres 127.0.0.1/32 trust"


def test_missing_without_root_prints_the_one_command_and_installs_nothing(machine):
    machine.add("apt-get")
    result = machine.run("--browser", root=False)
    assert result.returncode == 1
    assert f"  sudo apt-get install -y {PACKAGES}" in result.stderr.splitlines()
    assert machine.calls() == []


def test_make_run_needs_no_browser(machine):
    machine.stopped_servers()
    machine.add("apt-get")
    result = machine.run(root=False, servers_here=True)  # no chromium, no Korean font on this PATH
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []


def test_a_server_configured_on_another_host_is_only_checked(machine):
    machine.stopped_servers()
    machine.add("apt-get")
    result = machine.run(root=True, PC_AMQP_URI="pyamqp://guest:guest@192.0.2.1:5672/")  # TEST-NET: never answers
    assert result.returncode == 1
    assert "RabbitMQ is not reachable at 192.0.2.1:5672" in result.stderr
    assert machine.calls() == []
