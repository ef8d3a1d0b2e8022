"""`make bench`: throughput figures of this machine, written to reports/bench.json and
reports/bench.md. Figures are reported next to the bare RPC echo rate measured in
the same run (as ratios), because these machines are shared and noisy.

Each module in tools/benches/ adds a section: ``def run(ctx) -> list[dict]``,
each dict ``{"name", "value", "unit"}`` (and optionally "ratio_to_echo", "note").
Each section also reports the peak resident memory of the processes it started.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "libs"), str(REPO / "services"), str(REPO / "tools")]

from chassis.config import DEFAULT_AMQP_URI  # noqa: E402
from chassis.migrations import apply_migrations, drop_database, ensure_database  # noqa: E402

PROBE = str(REPO / "libs" / "chassis" / "tests" / "chassis_probe")
BROKER = os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI).rstrip("/")
POSTGRES = os.environ.get("PC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


class BenchContext:
    """A private vhost and databases for the run, and service processes on them."""

    def __init__(self):
        self.vhost = f"pc_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.vhost], check=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"], check=True
        )
        self.amqp_uri = f"{BROKER}/{self.vhost}"
        self.databases: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.named: dict[str, subprocess.Popen] = {}
        self.echo_rate: float | None = None
        self.echo_cpu_ms: float | None = None  # CPU per bare echo call (the chassis section sets both)

    def database(self, service: str) -> str:
        url = f"{POSTGRES}/pc_bench_{Path(service).name}_{uuid.uuid4().hex[:8]}"
        ensure_database(url)
        apply_migrations(url, service)
        self.databases.append(url)
        return url

    def start_service(self, service: str, env: dict | None = None) -> str:
        """Start ``python -m chassis.run service`` on this run's vhost; returns its database URL."""
        name = Path(service).name
        url = self.database(service)
        child_env = {
            **os.environ,
            "PC_AMQP_URI": self.amqp_uri,
            f"PC_{name.upper()}_DATABASE_URL": url,
            "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "services")]),
            "PC_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "chassis.run", service, "--no-migrate"], env=child_env, stdout=subprocess.DEVNULL
        )
        self.processes.append(process)
        self.named[name] = process
        return url

    def start_process(self, argv: list[str], env: dict) -> subprocess.Popen:
        """Any other process (``make run``'s launcher); its output goes to run/<vhost>.log."""
        log_path = REPO / "run" / f"{self.vhost}.log"
        log_path.parent.mkdir(exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        process.log_path = log_path  # type: ignore[attr-defined]  # where benches.platform reads the launcher
        self.processes.append(process)
        return process

    def memory_figure(self, section: str) -> dict | None:
        """Peak RSS (VmHWM) of each service process the section started, read before they stop."""
        peaks = {name: peak_rss_mib(p.pid) for name, p in self.named.items() if p.poll() is None}
        if not peaks:
            return None
        return {
            "name": f"{section}: peak RSS per process",
            "value": max(peaks.values()),
            "unit": "MiB",
            "note": ", ".join(f"{name} {mib:.0f}" for name, mib in peaks.items()),
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each service process started here, and by this
        process (the bench's own clients). CPU time, unlike throughput, is
        barely moved by other work on a shared machine; the broker's and the
        database's CPU are not counted (they serve the whole machine)."""
        used = {name: process_cpu_seconds(process.pid) for name, process in self.named.items()}
        used["bench client"] = time.process_time()
        return used

    def rpc_ready(self, service: str, timeout: float = 30) -> None:
        from nameko.standalone.rpc import ClusterRpcProxy

        deadline = time.monotonic() + timeout
        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=2) as rpc:
            while True:
                try:
                    getattr(rpc, service).health()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

    def close(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for url in self.databases:
            drop_database(url)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], check=False)


def verified_partner(url: str, accounts_url: str, category: str) -> str:
    """A partner of ``category`` registered through the gateway ``url`` and
    verified by an operator (R-ACC-8: only verified partners sell)."""
    import requests

    from accounts.ops import create_operator
    from chassis.config import load_config

    def post(path, body, token=None):
        response = requests.post(
            f"{url}{path}", json=body, timeout=30, headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        response.raise_for_status()
        return response.json()

    # A new member each call: load_platform may be started again against the same make run platform.
    login = f"bench.{category}.{uuid.uuid4().hex[:8]}"
    post(
        "/v1/members",
        {
            "login_id": login,
            "password": "bench password",
            "name": "Bench",
            "phone": "010-0000-0000",
            "agree_terms": True,
        },
    )
    token = post("/v1/sessions", {"login_id": login, "password": "bench password"})["token"]
    partner = post(
        "/v1/partners", {"name": f"Bench {category}", "category": category, "business_number": "1234567890"}, token
    )
    create_operator(
        accounts_url, "bench.ops", "bench password", {**load_config("accounts"), "DATABASE_URL": accounts_url}
    )
    operator = post("/v1/sessions", {"login_id": "bench.ops", "password": "bench password"})["token"]
    post(f"/v1/ops/partners/{partner['partner_id']}/verify", {}, operator)
    return partner["partner_id"]


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far, in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def cpu_per_unit(before: dict[str, float], after: dict[str, float], units: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work, by process."""
    return {name: (after[name] - before.get(name, 0.0)) * 1000 / max(units, 1) for name in after}


def cpu_figure(
    name: str, cpu: dict[str, float], echo_cpu_ms: float | None, near_echo_ms: list[float] | None = None
) -> dict:
    """CPU per unit by process; ``x echo`` is how many bare echo calls the same CPU buys.
    ``near_echo_ms``: the echo measured again beside this figure (``echo_near``), whose
    ratio is also given: the run's first echo can be minutes and a machine's mood away."""
    total = sum(cpu.values())
    scale = f"; = {total / echo_cpu_ms:.1f} x the CPU of one bare echo call" if echo_cpu_ms else ""
    if near_echo_ms:
        near = sum(near_echo_ms) / len(near_echo_ms)
        scale += (
            f" (= {total / near:.1f} x the echo measured beside it, "
            f"{' and '.join(f'{ms:.2f}' for ms in near_echo_ms)} ms)"
        )
    return {
        "name": name,
        "value": total,
        "unit": "ms",
        "note": ", ".join(f"{n} {ms:.2f}" for n, ms in cpu.items()) + scale,
    }


def measure_echo(ctx, seconds: float = 5.0) -> tuple[float, dict[str, float]]:
    """The bare RPC echo through the chassis probe: calls per second, CPU per call by process."""
    ctx.start_service(PROBE, {"PC_MAX_WORKERS": "20"})
    ctx.rpc_ready("chassis_probe")
    before, started = ctx.cpu_seconds(), time.monotonic()
    rate = rpc_rate(ctx.amqp_uri, lambda rpc, i: rpc.chassis_probe.echo(i), seconds=seconds)
    after = ctx.cpu_seconds()
    counted = ("chassis_probe", "bench client")
    calls = round(rate * (time.monotonic() - started))
    return rate, cpu_per_unit({k: before[k] for k in counted}, {k: after[k] for k in counted}, calls)


def echo_near(ctx) -> float:
    """The echo's CPU per call measured now, inside a section, beside the figures it scales;
    the probe stops afterwards, so its idle CPU counts in no other figure."""
    _, cpu = measure_echo(ctx)
    probe = ctx.named.pop("chassis_probe")
    probe.terminate()
    probe.wait(timeout=30)
    return sum(cpu.values())


def rpc_rate(amqp_uri: str, call, concurrency: int = 20, seconds: float = 5.0) -> float:
    """Calls per second of ``call(rpc, i)`` from ``concurrency`` green clients."""
    from nameko.standalone.rpc import ClusterRpcProxy

    done = [0]
    deadline = time.monotonic() + seconds

    def client(worker: int):
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            i = 0
            while time.monotonic() < deadline:
                call(rpc, worker * 1_000_000 + i)
                i += 1
                done[0] += 1

    started = time.monotonic()
    pool = eventlet.GreenPool(concurrency)
    for worker in range(concurrency):
        pool.spawn(client, worker)
    pool.waitall()
    return done[0] / (time.monotonic() - started)


def http_rate(token: str, send, concurrency: int = 20, seconds: float = 5.0) -> float:
    """Requests per second from ``concurrency`` green clients, each with a
    keep-alive session carrying ``token``; ``send(session)`` makes one request
    and asserts it succeeded."""
    import requests

    done = [0]
    deadline = time.monotonic() + seconds

    def client():
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            while time.monotonic() < deadline:
                send(http)
                done[0] += 1

    started = time.monotonic()
    pool = eventlet.GreenPool(concurrency)
    for _ in range(concurrency):
        pool.spawn(client)
    pool.waitall()
    return done[0] / (time.monotonic() - started)


def sections(chosen: list[str] | None = None) -> list:
    """Every section, or the ``chosen`` ones; the echo baseline always runs first."""
    from benches import chassis as chassis_bench

    others = sorted(p.stem for p in (REPO / "tools" / "benches").glob("*.py") if p.stem not in ("__init__", "chassis"))
    unknown = set(chosen or []) - set(others) - {"chassis"}
    if unknown:
        raise SystemExit(f"bench: no section {sorted(unknown)}; sections are {others}")
    names = [name for name in others if not chosen or name in chosen]
    return [chassis_bench] + [importlib.import_module(f"benches.{name}") for name in names]


def commit() -> str:
    return (
        subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        or "unknown"
    )


def write_report(figures: list[dict], partial: bool = False) -> None:
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "figures": figures,
    }
    reports = REPO / "reports"
    reports.mkdir(exist_ok=True)
    stem = "bench-partial" if partial else "bench"  # a run of some sections keeps the full report
    (reports / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Benchmarks ({report['date']}, commit {report['commit']}, {os.cpu_count()} CPUs)",
        "",
        "Ratios are to the bare RPC echo rate measured in the same run.",
        "",
        "| figure | value | unit | ratio to echo | note |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = f"{f['ratio_to_echo']:.3f}" if f.get("ratio_to_echo") is not None else ""
        lines.append(f"| {f['name']} | {f['value']:.1f} | {f['unit']} | {ratio} | {f.get('note', '')} |")
    (reports / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(chosen: list[str]) -> int:
    figures: list[dict] = []
    echo_rate = echo_cpu_ms = None
    for section in sections(chosen):
        ctx = BenchContext()
        ctx.echo_rate, ctx.echo_cpu_ms = echo_rate, echo_cpu_ms
        try:
            print(f"bench: {section.__name__} ...", flush=True)
            for figure in section.run(ctx):
                if ctx.echo_rate and figure.get("unit", "").endswith("/s") and "ratio_to_echo" not in figure:
                    figure["ratio_to_echo"] = figure["value"] / ctx.echo_rate
                figures.append(figure)
            if memory := ctx.memory_figure(section.__name__.rsplit(".", 1)[-1]):
                figures.append(memory)
            echo_rate, echo_cpu_ms = ctx.echo_rate, ctx.echo_cpu_ms
        finally:
            ctx.close()
    write_report(figures, partial=bool(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
