"""Versioned SQL migrations: the chassis' own, then the service's.

Each file is applied once, in its own transaction, and recorded in
``schema_migrations``. A session-level advisory lock makes two processes
starting at once apply them one after the other, never twice.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import psycopg
from psycopg import sql

from .config import service_dir, service_name
from .logging import get_logger

log = get_logger(__name__)

CHASSIS_SQL = Path(__file__).parent / "sql"


def migration_files(service: str) -> list[tuple[str, Path]]:
    chassis = [(f"chassis/{p.name}", p) for p in sorted(CHASSIS_SQL.glob("*.sql"))]
    own_dir = service_dir(service) / "migrations"
    own = [(f"{service_name(service)}/{p.name}", p) for p in sorted(own_dir.glob("*.sql"))]
    return chassis + own


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when it does not exist yet."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = str(info["dbname"])
    admin_url = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log.info("database_created", database=name)
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # another process created it between our check and our create


def clone_database(template_url: str, url: str) -> None:
    """Create the database named in ``url`` as a copy of ``template_url``'s
    (nobody may be connected to the template meanwhile)."""
    template = str(psycopg.conninfo.conninfo_to_dict(template_url)["dbname"])
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    admin_url = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))


def drop_database(url: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(url)
    admin_url = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(info["dbname"]))))


def apply_migrations(url: str, service: str) -> list[str]:
    """Apply what is missing; returns the versions applied by this call."""
    lock_key = zlib.crc32(f"pc-migrations:{service_name(service)}".encode())
    applied_now = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        try:
            conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                                version text PRIMARY KEY,
                                applied_at timestamptz NOT NULL DEFAULT now())""")
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, path in migration_files(service):
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now.append(version)
                log.info("migration_applied", version=version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
    return applied_now


def migration_status(url: str, service: str) -> dict[str, bool]:
    with psycopg.connect(url) as conn:
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return {version: version in done for version, _ in migration_files(service)}
