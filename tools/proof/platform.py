"""The whole platform as real processes on a private vhost and private databases.

Every domain service runs as two processes (``python -m chassis.run``), the
gateway as one, all reaching the broker through the blackhole-able TCP proxy.
Metrics endpoints are off (``PC_<SERVICE>_METRICS_PORT=0``) so the run never
collides with ``make run`` or another developer's services on this machine.

With a ``Cluster`` (``make proof CLUSTER=1``) the broker is the 3-node cluster,
one TCP proxy per node, each instance given the nodes in its own order (a
``;`` failover list), and the databases live on the primary/standby pair
behind a multi-host URL.
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
from pathlib import Path

import psycopg
import requests

from chassis.config import DEFAULT_AMQP_URI
from chassis.migrations import apply_migrations, drop_database, ensure_database

from .tcpproxy import TcpProxy

REPO = Path(__file__).resolve().parents[2]
DOMAIN_SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement", "insights"]
BROKER = os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI).rstrip("/")
POSTGRES = os.environ.get("PC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672

# Shorter sweeps than production so the run can reconcile within its budget:
# an interrupted booking or order gives its hold back after 10 s, not 60-120 s.
PROOF_ENV = {
    "PC_RESERVATIONS_INTENT_GRACE_SECONDS": "10",
    "PC_ORDERS_PENDING_CREATION_SECONDS": "10",
    "PC_ORDERS_TIMER_INTERVAL": "2",
    "PC_SETTLEMENT_SCHEDULED_RUNS": "false",
    "PC_LOG_LEVEL": "WARNING",
    "PC_MAX_WORKERS": "4",
    # 14 service processes share one PostgreSQL (max_connections 100 by default) with everyone
    # else on this machine, `make run` included (up to 32): pools of 3 keep the proof at 42.
    **{f"PC_{service.upper()}_DB_POOL_MAX": "3" for service in DOMAIN_SERVICES},
    # The load drives ~240 customers far past a real one's bookings and orders per hour
    # (the per-customer limits are tested in services/gateway/tests/test_shared_rate_limits.py).
    "PC_RATE_LIMIT_BOOKING": "1000000/1",
    "PC_RATE_LIMIT_ORDER": "1000000/1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbitmqctl(*args: str, check: bool = True, timeout: float = 120) -> str:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Instance:
    """One process of one service; its log goes to run/proof-<run>/<service>-<n>.log."""

    def __init__(self, service: str, index: int, env: dict, log_dir: Path):
        self.service, self.index, self.env = service, index, env
        self.log_path = log_dir / f"{service}-{index}.log"
        self.process: subprocess.Popen | None = None
        self.peak_rss_kib = 0
        self.starts = 0
        self.held_down = False  # killed on purpose: the supervisor leaves it down
        self.unplanned_restarts = 0  # exited by itself and was started again by the supervisor

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, migrate: bool = False) -> None:
        command = [sys.executable, "-m", "chassis.run", self.service] + ([] if migrate else ["--no-migrate"])
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1

    def kill9(self) -> None:
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.alive:
            self.process.terminate()

    def wait_stopped(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def sample_rss(self) -> None:
        """Peak resident memory (VmHWM) of the current process; kept across restarts."""
        if self.process is None or not self.alive:
            return
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(("VmHWM:", "VmRSS:")):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
        except OSError:
            pass


class Platform:
    def __init__(self, instances_per_service: int = 2, cluster=None):
        self.cluster = cluster
        self.run_id = uuid.uuid4().hex[:8]
        self.vhost = f"pc_proof_{self.run_id}"
        self.log_dir = REPO / "run" / f"proof-{self.run_id}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.per_service = instances_per_service
        self.databases: dict[str, str] = {}
        self.instances: dict[str, list[Instance]] = {}
        self.proxy: TcpProxy | None = None  # the first (single broker: the only) proxy
        self.proxies: list[TcpProxy] = []
        self.gateway_port = free_port()
        self.stats_conn: psycopg.Connection[Any] | None = None
        self.peak_connections = self.peak_server_connections = self.ours_at_server_peak = self.max_connections = 0
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.dev_key_file = str(self.log_dir / "dev-oidc-key.pem")  # the development issuer's (R-ACC-12)

    # --- lifecycle -----------------------------------------------------------------

    def ctl(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        """rabbitmqctl against the broker the platform runs on."""
        return (self.cluster.ctl if self.cluster else rabbitmqctl)(*args, check=check, timeout=timeout)

    def amqp_uri_for(self, instance_number: int) -> str:
        """Through the proxies; with a cluster, every node in a failover list starting at a different one."""
        uris = [f"pyamqp://guest:guest@127.0.0.1:{proxy.port}/{self.vhost}" for proxy in self.proxies]
        first = instance_number % len(uris)
        return ";".join(uris[first:] + uris[:first])

    def _start_broker(self) -> None:
        if self.cluster:
            self.cluster.prepare_vhost(self.vhost)
            upstreams = [("127.0.0.1", port) for _, port in self.cluster.nodes]
            # the harness's own look-ups bypass the proxies
            self.direct_amqp_uri = ";".join(
                f"pyamqp://guest:guest@127.0.0.1:{port}/{self.vhost}" for _, port in self.cluster.nodes
            )
        else:
            rabbitmqctl("add_vhost", self.vhost)
            rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
            upstreams = [(AMQP_HOST, AMQP_PORT)]
            self.direct_amqp_uri = f"{BROKER}/{self.vhost}"
        self.proxies = [TcpProxy(upstream).start() for upstream in upstreams]
        self.proxy = self.proxies[0]

    def database_url(self, service: str) -> str:
        return self.database_url_of(f"pc_proof_{service}_{self.run_id}")

    def database_url_of(self, name: str) -> str:
        """The URL of database ``name`` on the server the platform uses (with a cluster: its primary)."""
        return self.cluster.database_url(name) if self.cluster else f"{POSTGRES}/{name}"

    def start(self) -> None:
        self._start_broker()
        for service in DOMAIN_SERVICES:
            url = self.database_url(service)
            self.databases[service] = url
            for attempt in range(5):  # other developers' outage tests restart this PostgreSQL too
                try:
                    ensure_database(url)
                    apply_migrations(url, service)
                    break
                except Exception:
                    if attempt == 4:
                        raise
                    time.sleep(3)
        # With a cluster, a node cut off is noticed after two missed heartbeats; then its consumers move on.
        heartbeat = {"PC_AMQP_HEARTBEAT": str(self.cluster.heartbeat)} if self.cluster else {}
        base_env = {
            **PROOF_ENV,
            **heartbeat,
            "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "services")]),
            "PSYCOPG_WAIT_FUNC": "wait_select",
        }
        numbers = iter(range(1000))
        for service in DOMAIN_SERVICES:
            env = {
                **base_env,
                f"PC_{service.upper()}_DATABASE_URL": self.databases[service],
                f"PC_{service.upper()}_METRICS_PORT": "0",
            }
            self.instances[service] = [
                Instance(service, i, {**env, "PC_AMQP_URI": self.amqp_uri_for(next(numbers))}, self.log_dir)
                for i in range(self.per_service)
            ]
        self.instances["gateway"] = [
            Instance(
                "gateway",
                0,
                {
                    **base_env,
                    "PC_AMQP_URI": self.amqp_uri_for(next(numbers)),
                    "PC_GATEWAY_PORT": str(self.gateway_port),
                    "PC_GATEWAY_HOST": "127.0.0.1",
                    "PC_GATEWAY_METRICS_PORT": "0",
                    "PC_OIDC_DEV_KEY_FILE": self.dev_key_file,
                    "PC_RATE_LIMIT_NAMESPACE": f"pc_proof_{self.run_id}",
                },
                self.log_dir,
            )
        ]
        for instances in self.instances.values():
            for instance in instances:
                instance.start()
        self.wait_healthy(timeout=90)

    def supervise(self) -> None:
        """What a process supervisor (Kubernetes, systemd) does: start again, after a
        second, any process that exited by itself (a service exits rather than limp on
        when its broker connection dies). Counted per service for the report."""
        import eventlet

        while True:
            eventlet.sleep(1)
            for instances in self.instances.values():
                for instance in instances:
                    if instance.process is not None and not instance.alive and not instance.held_down:
                        instance.unplanned_restarts += 1
                        instance.start()

    def unplanned_restarts(self) -> dict[str, int]:
        return {service: sum(i.unplanned_restarts for i in instances) for service, instances in self.instances.items()}

    def stop(self) -> None:
        for instances in self.instances.values():
            for instance in instances:
                instance.held_down = True
        for instances in self.instances.values():
            for instance in instances:
                instance.stop()
        for instances in self.instances.values():
            for instance in instances:
                instance.wait_stopped(25)
        for proxy in self.proxies:
            proxy.stop()

    def cleanup(self) -> None:
        for url in self.databases.values():
            try:
                drop_database(url)
            except Exception as exc:  # a failed drop must not hide the report
                print(f"proof: could not drop {url}: {exc}", file=sys.stderr)
        self.ctl("delete_vhost", self.vhost, check=False)

    # --- health ------------------------------------------------------------------------

    def healthy(self, timeout: float = 3) -> bool:
        return not self.unhealthy(timeout)

    def unhealthy(self, timeout: float = 3) -> list[str]:
        """What /healthz names as failing (empty when it answers 200), or why it did not answer."""
        try:
            response = requests.get(f"{self.url}/healthz", timeout=timeout)
        except requests.RequestException as exc:
            return [f"gateway: no answer ({type(exc).__name__})"]
        if response.status_code == 200:
            return []
        try:
            return list(response.json().get("failing") or [f"gateway: {response.status_code}"])
        except ValueError:
            return [f"gateway: {response.status_code}"]

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until /healthz answers 200 (every service answering); raises after ``timeout``."""
        started = time.monotonic()
        while not self.healthy():
            dead = [
                f"{i.service}-{i.index}"
                for group in self.instances.values()
                for i in group
                if i.process is not None and not i.alive
            ]
            if time.monotonic() - started > timeout:
                raise RuntimeError(
                    f"the platform is not healthy after {timeout:.0f}s (exited: {dead or 'none'}); "
                    f"logs in {self.log_dir}"
                )
            time.sleep(0.25)
        return time.monotonic() - started

    def sample_rss(self) -> None:
        for instances in self.instances.values():
            for instance in instances:
                instance.sample_rss()

    def sample_connections(self) -> None:
        """Connections to the proof's databases now, and to the whole server (everyone's)."""
        try:
            if self.stats_conn is None or self.stats_conn.closed:
                self.stats_conn = psycopg.connect(self.database_url_of("postgres"), autocommit=True, connect_timeout=3)
            ours, everyone, limit = self.stats_conn.execute(
                """SELECT count(*) FILTER (WHERE datname = ANY(%s)), count(*),
                          current_setting('max_connections')::int
                   FROM pg_stat_activity WHERE backend_type = 'client backend'""",
                ([psycopg.conninfo.conninfo_to_dict(url)["dbname"] for url in self.databases.values()],),
            ).fetchone()
        except psycopg.Error:  # the database faults restart the server: sample again next time
            self.stats_conn = None
            return
        self.peak_connections = max(self.peak_connections, ours)
        if everyone > self.peak_server_connections:  # whose they were: tells others' load apart from ours
            self.peak_server_connections, self.ours_at_server_peak = everyone, ours
        self.max_connections = limit

    def pool_budget(self) -> int:
        return sum(int(PROOF_ENV[f"PC_{s.upper()}_DB_POOL_MAX"]) * len(self.instances[s]) for s in DOMAIN_SERVICES)

    def peak_rss_mib(self) -> dict[str, float]:
        return {service: max(i.peak_rss_kib for i in instances) / 1024 for service, instances in self.instances.items()}

    def exited_unexpectedly(self) -> list[str]:
        return [f"{i.service}-{i.index}" for group in self.instances.values() for i in group if not i.alive]
