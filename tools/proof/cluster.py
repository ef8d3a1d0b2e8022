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
    nodes: list[tuple[str, int]] = field(default_factory=list)   # (node name, AMQP port)
    postgres: str = ""                                            # postgresql://u@h1:p1,h2:p2
    started_here: bool = False
    down: set[str] = field(default_factory=set)                   # nodes killed and not yet back
    heartbeat: int = 10        # AMQP heartbeat of the services (s): what production should set with a cluster

    @classmethod
    def up(cls) -> "Cluster":
        """The running cluster, started (and later stopped) here when it is not running."""
        status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=120).stdout
        started_here = status.count("running") < 3 or "primary" not in status
        if started_here:
            script("stop")          # a half-started leftover goes first
            script("start", timeout=900)
        env = dict(line.split("=", 1) for line in script("env").splitlines() if "=" in line and line[0] != "#")
        env = {k: shlex.split(v)[0] for k, v in env.items()}
        nodes = [(name, int(port)) for name, port in (pair.split("=") for pair in env["PC_CLUSTER_NODES"].split())]
        return cls(nodes=nodes, postgres=env["PC_CLUSTER_POSTGRES"], started_here=started_here)

    def close(self) -> None:
        for name in sorted(self.down):
            self.start_node(name)
        if self.started_here:
            script("stop")

    def database_url(self, name: str) -> str:
        return f"{self.postgres}/{name}?target_session_attrs=read-write"

    def live_node(self) -> str:
        return next(name for name, _ in self.nodes if name not in self.down)

    def ctl(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        """rabbitmqctl against a live node of the cluster (never the default broker)."""
        done = subprocess.run([str(CTL), "-q", "-n", self.live_node(), *args], capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def prepare_vhost(self, vhost: str) -> None:
        """The vhost as deploy/ declares it: quorum queues by default and the per-subscription policies."""
        self.ctl("add_vhost", vhost, "--default-queue-type", "quorum")
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        subprocess.run([str(REPO / ".venv" / "bin" / "python"), str(REPO / "tools" / "pcops.py"), "rabbitmq",
                        "apply", "--vhost", vhost, "--node", self.live_node()], check=True, capture_output=True,
                       timeout=300, env={"PATH": f"{CTL.parent}:/usr/bin:/bin:/usr/sbin:/sbin"})

    def leaders(self, vhost: str) -> dict[str, str]:
        """queue -> the node leading it (quorum queues)."""
        out = self.ctl("list_queues", "-p", vhost, "name", "type", "leader", "--no-table-headers")
        return {cols[0]: cols[2] for cols in (line.split("\t") for line in out.splitlines())
                if len(cols) == 3 and cols[1] == "quorum"}

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

    def pg_failover(self) -> str:
        return script("pg-failover")
