"""pytest fixtures shared by every service's tests (loaded from the root conftest).

Each test gets its own RabbitMQ vhost and its own databases, so tests never
see each other's queues, messages or rows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from .config import DEFAULT_AMQP_URI, REPO_ROOT, load_config, service_dir, service_name
from .migrations import apply_migrations, clone_database, drop_database, ensure_database

BROKER_URI = os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI)
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


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def vhost_deletions():
    """Vhosts are deleted in the background (each ``rabbitmqctl`` costs about
    half a second and the next test has its own vhost anyway); waited for at
    the end of the run."""
    pending: list[subprocess.Popen] = []
    yield pending
    for deletion in pending:
        deletion.wait(timeout=60)


@pytest.fixture
def amqp_uri(vhost_deletions):
    """A fresh vhost on the real broker, deleted after the test."""
    vhost = f"pc_test_{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    base = BROKER_URI.rstrip("/")
    yield f"{base}/{vhost}"
    vhost_deletions.append(
        subprocess.Popen(
            ["rabbitmqctl", "-q", "delete_vhost", vhost], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )


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
    for url in created:
        drop_database(url)


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

    from .run import import_service_class

    parent = str(service_dir(service).parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    container = ServiceContainer(import_service_class(config["SERVICE_CLASS"]), config)
    container.start()
    return container


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
    for container in reversed(containers):
        # kill, not stop: a graceful stop waits ~2 s for the consumers, and the
        # test's vhost and databases are deleted right after anyway.
        container.kill()


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
        if self.process and self.process.poll() is None:
            self.process.terminate()
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
    for process in started:
        process.stop()


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
