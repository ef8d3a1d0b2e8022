"""pytest fixtures shared by every service's tests (loaded from the root conftest).

Each test gets its own RabbitMQ vhost and its own databases, so tests never
see each other's queues, messages or rows.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .config import DEFAULT_AMQP_URI, REPO_ROOT, load_config, service_dir, service_name
from .migrations import apply_migrations, clone_database, drop_database, ensure_database

BROKER_URI = os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI)
# How often an in-process container's consumers look up from the broker to see
# whether they are being killed (kombu's default is a second): see start_container.
CONSUMER_WAKE_SECONDS = 0.1
POSTGRES_BASE = os.environ.get("PC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def eventually(check, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``check`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message} not reached within {timeout}s (last value: {value!r})")
        time.sleep(interval)


def wait_until_serving(rpc, service: str, timeout: float = 30.0) -> None:
    """Wait until ``service`` answers its health RPC (a process that is still starting)."""

    def answers():
        try:
            return getattr(rpc, service).health.call_async().result() is not None
        except Exception:
            return False

    eventually(answers, timeout=timeout, interval=0.2, message=f"{service} serving")


def at_once(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``function`` over ``items`` in green threads at once (teardowns that wait on I/O)."""
    import eventlet

    pool = eventlet.GreenPool(max(1, len(items)))
    return list(pool.imap(function, items))


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


VHOST_COMMANDS = 'rabbitmqctl -q add_vhost "$1" && rabbitmqctl -q set_permissions -p "$1" guest ".*" ".*" ".*"'


class Vhosts:
    """New vhosts, each made in the background while the test before it runs
    (``rabbitmqctl`` starts an Erlang VM: about half a second a call, two calls a
    vhost); deleted in the background too, and waited for at the end of the run.
    Every test still gets a vhost of its own that no test used before."""

    def __init__(self) -> None:
        self.coming: tuple[str, subprocess.Popen] | None = None
        self.deletions: list[subprocess.Popen] = []

    def _make(self) -> tuple[str, subprocess.Popen]:
        vhost = f"pc_test_{uuid.uuid4().hex[:12]}"
        command = ["sh", "-c", VHOST_COMMANDS, "sh", vhost]
        return vhost, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def take(self) -> str:
        vhost, making = self.coming or self._make()
        self.coming = self._make()
        _, error = making.communicate(timeout=60)
        if making.returncode != 0:
            raise RuntimeError(f"vhost {vhost} not made: {error.decode(errors='replace')}")
        return vhost

    def delete(self, vhost: str) -> None:
        self.deletions.append(
            subprocess.Popen(
                ["rabbitmqctl", "-q", "delete_vhost", vhost], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )

    def close(self) -> None:
        if self.coming is not None:
            vhost, making = self.coming
            making.communicate(timeout=60)
            self.delete(vhost)
        for deletion in self.deletions:
            deletion.wait(timeout=60)


@pytest.fixture(scope="session")
def vhosts():
    made = Vhosts()
    yield made
    made.close()


@pytest.fixture
def amqp_uri(vhosts):
    """A fresh vhost on the real broker, deleted after the test."""
    vhost = vhosts.take()
    base = BROKER_URI.rstrip("/")
    yield f"{base}/{vhost}"
    vhosts.delete(vhost)


def new_database_url(service: str, kind: str = "test") -> str:
    return f"{POSTGRES_BASE}/pc_{kind}_{service_name(service)}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def migrated_templates():
    """``migrated_templates(service)`` -> URL of a database migrated once per run, which
    each test's database is copied from (a copy is much cheaper than migrating)."""
    templates: dict[str, str] = {}

    def template(service: str) -> str:
        if service not in templates:
            url = new_database_url(service, kind="template")
            ensure_database(url)
            templates[service] = url
            apply_migrations(url, service)
        return templates[service]

    yield template
    for url in templates.values():
        drop_database(url)


@pytest.fixture
def make_database(migrated_templates):
    """``make_database("accounts")`` -> URL of a new, migrated database, dropped after the test."""
    created = []

    def make(service: str, migrate: bool = True) -> str:
        url = new_database_url(service)
        if migrate:
            template = migrated_templates(service)
            clone_database(template, url)
        else:
            ensure_database(url)
        created.append(url)
        return url

    yield make
    at_once(drop_database, created)  # a tenth of a second or more each


@pytest.fixture
def service_config(amqp_uri, make_database):
    """``service_config("accounts", **overrides)``: its config.yaml on the test's vhost and database."""

    def build(service: str, **overrides) -> dict[str, Any]:
        config = load_config(service)
        config["AMQP_URI"] = amqp_uri
        config["METRICS_PORT"] = 0  # off unless a test asks: services' default ports would collide
        if "DATABASE_URL" in config and "DATABASE_URL" not in overrides:
            config["DATABASE_URL"] = make_database(service)
        config.update(overrides)
        return config

    return build


def start_container(service: str, config: dict[str, Any]):
    """A started nameko container of ``service`` (its package imported from its directory's parent)."""
    from nameko.containers import ServiceContainer
    from nameko.messaging import QueueConsumer

    from .run import import_service_class

    parent = str(service_dir(service).parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    container = ServiceContainer(import_service_class(config["SERVICE_CLASS"]), config)
    for extension in container.extensions:
        if isinstance(extension, QueueConsumer):
            # Its consume loop looks at its stop flag between waits for a message, each
            # a second by default (kombu), so every kill waited a second for nothing.
            extension.run = functools.partial(extension.run, safety_interval=CONSUMER_WAKE_SECONDS)
    container.start()
    return container


def kill_containers(containers: list[Any]) -> None:
    """Kill the test's containers all at once. Kill, not stop: a graceful stop
    waits ~2 s for the consumers, and the test's vhost and databases are deleted
    right after anyway. At once: each kill waits for its consumer loop to notice
    (``CONSUMER_WAKE_SECONDS``)."""
    import eventlet

    pool = eventlet.GreenPool(max(1, len(containers)))
    list(pool.imap(lambda container: container.kill(), containers))


@pytest.fixture
def run_service(service_config):
    """Start a service in this process (a real nameko container on the real
    broker and database); stopped after the test. Returns the container."""
    containers = []

    def start(service: str, **overrides):
        container = start_container(service, service_config(service, **overrides))
        containers.append(container)
        return container

    yield start
    kill_containers(containers)


@pytest.fixture
def rpc(amqp_uri):
    """A cluster RPC client on the test's vhost: ``rpc.accounts.health()``."""
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as proxy:
        yield proxy


class ServiceProcess:
    """A service run as a real process (``python -m chassis.run``), for crash tests."""

    def __init__(self, service: str, env: dict[str, Any]):
        self.service = service
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, **extra_env) -> ServiceProcess:
        env = {**os.environ, **self.env, **extra_env}
        self.log_path = os.path.join(REPO_ROOT, "run", f"{service_name(self.service)}-{uuid.uuid4().hex[:8]}.log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chassis.run", self.service], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def log_lines(self) -> list[str]:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read().splitlines()

    def running(self) -> subprocess.Popen[Any]:
        assert self.process is not None, f"{self.service} was never started"
        return self.process

    def kill9(self) -> None:
        self.running().send_signal(signal.SIGKILL)
        self.running().wait(timeout=10)

    def wait_exit(self, timeout: float = 20) -> int:
        return self.running().wait(timeout=timeout)

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def service_process(amqp_uri, make_database):
    """``service_process(path_or_name, env)`` -> ServiceProcess on the test's vhost and a new database."""
    os.makedirs(os.path.join(REPO_ROOT, "run"), exist_ok=True)
    started = []

    def make(service: str, **env) -> ServiceProcess:
        name = service_name(service)
        env = {
            "PC_AMQP_URI": amqp_uri,
            f"PC_{name.upper()}_DATABASE_URL": env.pop("database_url", None) or make_database(service),
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "libs"), str(REPO_ROOT / "services")]),
            f"PC_{name.upper()}_METRICS_PORT": "0",  # off unless a test asks (chassis.metrics)
            **env,
        }
        process = ServiceProcess(service, env)
        started.append(process)
        return process

    yield make
    for process in started:  # all asked at once: a graceful stop takes a few seconds each
        process.terminate()
    for process in started:
        process.wait_stopped()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway(run_service):
    """``gateway(downstream=[...], service_cls=None, **config)`` -> base URL of a
    running gateway on a free port."""

    def start(downstream: list[str] | None = None, **overrides) -> str:
        port = free_port()
        overrides.setdefault("DOWNSTREAM_SERVICES", downstream or [])
        run_service("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **overrides)
        return f"http://127.0.0.1:{port}"

    return start
