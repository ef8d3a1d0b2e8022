"""`make proof CLUSTER=1`: the platform on `make cluster` (tools/cluster.sh), a
3-node RabbitMQ cluster and a PostgreSQL primary with a synchronous standby,
and the faults a spread-out platform meets: the broker node that leads the
busiest queues killed (-9), one broker node cut off from every service (its
TCP proxy blackholed longer than the AMQP heartbeat), and a PostgreSQL
failover (primary stopped, standby promoted, old primary rewound and rejoined).

Each service instance gets the three nodes in its own order (through one TCP
proxy per node), as a load balancer would spread them, so every node carries
connections; databases are libpq multi-host URLs with
``target_session_attrs=read-write``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "cluster.sh"
CTL = REPO / "run" / "cluster" / "bin" / "rabbitmqctl"
# The queues every booking and order goes through: the RPC requests from the gateway.
BUSIEST_QUEUES = ("rpc-reservations", "rpc-orders", "rpc-catalog", "rpc-accounts")


def script(*args: str, timeout: float = 600) -> str:
    done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"tools/cluster.sh {' '.join(args)}: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


@dataclass
class Cluster:
    nodes: list[tuple[str, int]] = field(default_factory=list)  # (node name, AMQP port)
    postgres: str = ""  # postgresql://u@h1:p1,h2:p2
    started_here: bool = False
    down: set[str] = field(default_factory=set)  # nodes killed and not yet back
    restarting: dict = field(default_factory=dict)  # node -> its node-start process
    heartbeat: int = 10  # AMQP heartbeat of the services (s): what production should set with a cluster

    @classmethod
    def up(cls) -> Cluster:
        """The running cluster, started (and later stopped) here when it is not running."""
        status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=120).stdout
        started_here = status.count("running") < 3 or "primary" not in status
        if started_here:
            script("stop")  # a half-started leftover goes first
            script("start", timeout=900)
        env = dict(line.split("=", 1) for line in script("env").splitlines() if "=" in line and line[0] != "#")
        env = {k: shlex.split(v)[0] for k, v in env.items()}
        nodes = [(name, int(port)) for name, port in (pair.split("=") for pair in env["PC_CLUSTER_NODES"].split())]
        return cls(nodes=nodes, postgres=env["PC_CLUSTER_POSTGRES"], started_here=started_here)

    def close(self) -> None:
        for process in list(self.restarting.values()):
            process.wait(timeout=900)
        self.settle_restarts()
        for name in sorted(self.down):
            self.start_node(name)
        if self.started_here:
            script("stop")

    def database_url(self, name: str) -> str:
        return f"{self.postgres}/{name}?target_session_attrs=read-write"

    def live_node(self) -> str:
        self.settle_restarts()
        return next(name for name, _ in self.nodes if name not in self.down)

    def ctl(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        """rabbitmqctl against a live node of the cluster (never the default broker)."""
        done = subprocess.run(
            [str(CTL), "-q", "-n", self.live_node(), *args], capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def prepare_vhost(self, vhost: str) -> None:
        """The vhost as deploy/ declares it: quorum queues by default and the per-subscription
        policies (pcops_deploy's), imported as one definitions file (a rabbitmqctl call per
        policy takes minutes on a busy machine)."""
        import pcops_deploy

        definitions = {
            "vhosts": [
                {
                    "name": vhost,
                    "metadata": {"description": "make proof CLUSTER=1", "tags": [], "default_queue_type": "quorum"},
                }
            ],
            "permissions": [{"user": "guest", "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}],
            "policies": [{"vhost": vhost, **policy} for policy in pcops_deploy.event_queue_policies()],
        }
        path = REPO / "run" / f"definitions-{vhost}.json"
        path.write_text(json.dumps(definitions))
        try:
            self.ctl("import_definitions", str(path), timeout=300)
        finally:
            path.unlink()

    def leaders(self, vhost: str) -> dict[str, str]:
        """queue -> the node leading it (quorum queues)."""
        out = self.ctl("list_queues", "-p", vhost, "name", "type", "leader", "--no-table-headers")
        return {
            cols[0]: cols[2]
            for cols in (line.split("\t") for line in out.splitlines())
            if len(cols) == 3 and cols[1] == "quorum"
        }

    def busiest_leader(self, vhost: str) -> tuple[str, list[str]]:
        """The node leading most of the booking and order path's queues, and those queues."""
        leaders = self.leaders(vhost)
        counts = Counter(leaders[q] for q in BUSIEST_QUEUES if q in leaders)
        node = counts.most_common(1)[0][0]
        return node, [q for q in BUSIEST_QUEUES if leaders.get(q) == node]

    def index(self, node: str) -> int:
        return [name for name, _ in self.nodes].index(node) + 1

    def kill_node(self, node: str) -> None:
        script("node-kill", str(self.index(node)))
        self.down.add(node)

    def start_node(self, node: str) -> None:
        script("node-start", str(self.index(node)))
        self.down.discard(node)

    def restart_node(self, node: str) -> None:
        """Start the node again without waiting: recovering its queues takes minutes on a busy
        machine, and the platform is meant to serve from the other two meanwhile."""
        self.restarting[node] = subprocess.Popen(
            [str(SCRIPT), "node-start", str(self.index(node))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def settle_restarts(self) -> None:
        for node, process in list(self.restarting.items()):
            if process.poll() is not None:
                del self.restarting[node]
                if process.returncode == 0:
                    self.down.discard(node)

    def pg_failover(self) -> str:
        return script("pg-failover")
