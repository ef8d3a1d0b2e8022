"""The PostgreSQL connections `make run` may open, and whether the server has room.

Each service's pool may grow to its ``DB_POOL_MAX`` (chassis.db.pool_limits,
from its config.yaml and ``PC_<SERVICE>_DB_POOL_MAX``); the launcher adds them
up per server, prints the total, and refuses to start when the server's free
connections (``max_connections``, less the slots reserved for superusers, less
the client connections open now) are fewer: a platform that runs out of
connections under load answers 503s, and takes them from everything else on
the server (README, "Connections and memory").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko's import, not make run's news
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import psycopg  # noqa: E402

from chassis.config import load_config  # noqa: E402
from chassis.db import pool_limits  # noqa: E402


@dataclass
class Server:
    """One PostgreSQL server and the pools that would open connections to it."""

    admin_url: str
    pools: dict[str, int] = field(default_factory=dict)  # service -> DB_POOL_MAX
    max_connections: int = 0
    reserved: int = 0
    in_use: int = 0

    @property
    def needed(self) -> int:
        return sum(self.pools.values())

    @property
    def free(self) -> int:
        return self.max_connections - self.reserved - self.in_use

    @property
    def address(self) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"

    def read_room(self) -> None:
        with psycopg.connect(self.admin_url, connect_timeout=5) as conn:
            self.max_connections, self.reserved, others = conn.execute(
                """SELECT current_setting('max_connections')::int,
                          current_setting('superuser_reserved_connections')::int,
                          count(*) FILTER (WHERE pid <> pg_backend_pid())
                   FROM pg_stat_activity WHERE backend_type = 'client backend'"""
            ).fetchone()
            self.in_use = others

    def summary(self) -> str:
        pools = ", ".join(f"{service} {size}" for service, size in self.pools.items())
        return (
            f"PostgreSQL {self.address}: make run may open up to {self.needed} connections ({pools}); "
            f"{self.free} of its {self.max_connections} are free"
        )

    def refusal(self) -> str | None:
        if self.needed <= self.free:
            return None
        return (
            f"make run needs up to {self.needed} PostgreSQL connections on {self.address}, but only "
            f"{max(self.free, 0)} of its max_connections {self.max_connections} are free ({self.in_use} in "
            f"use, {self.reserved} reserved for superusers). Close what holds them, raise max_connections "
            "(ALTER SYSTEM SET max_connections = 200; then restart PostgreSQL), or lower the pools with "
            'PC_<SERVICE>_DB_POOL_MAX (README, "Connections and memory").'
        )


def servers(services: list[str]) -> list[Server]:
    """The servers the services' pools connect to, each with those pools' maxima."""
    by_server: dict[str, Server] = {}
    for service in services:
        config = load_config(service)
        if not config.get("DATABASE_URL"):
            continue
        admin_url = psycopg.conninfo.make_conninfo(config["DATABASE_URL"], dbname="postgres")
        server = by_server.setdefault(admin_url, Server(admin_url))
        server.pools[service] = pool_limits(config).max_size
    return list(by_server.values())


def check(services: list[str]) -> tuple[list[str], str | None]:
    """(lines to print, the refusal or None)."""
    lines: list[str] = []
    for server in servers(services):
        try:
            server.read_room()
        except psycopg.Error as exc:
            return lines, f"cannot ask PostgreSQL at {server.address} for its free connections: {exc}"
        lines.append(server.summary())
        if refusal := server.refusal():
            return lines, refusal
    return lines, None
