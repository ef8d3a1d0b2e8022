"""Ops commands of the accounts service, run against its database directly.

``make operator LOGIN=.. PASSWORD=..`` is ``python -m accounts.ops create-operator``:
operators (platform staff) are created here, never by sign-up. Running it again
for the same login resets the password (and ends the operator's sessions).
Tests create operators with the same function (``create_operator``).
"""

from __future__ import annotations

import argparse
import os
import sys

import psycopg
from psycopg.rows import dict_row

from chassis.config import load_config
from chassis.db import UnitOfWork
from chassis.migrations import apply_migrations, ensure_database

from . import store
from .passwords import hasher_from_config

MIN_PASSWORD_LENGTH = 8


def create_operator(database_url: str, login_id: str, password: str, config: dict | None = None) -> str:
    """Create (or reset the password of) an operator; returns its member id."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hasher_from_config(config or {}).hash(password)
    with psycopg.connect(database_url, row_factory=dict_row) as conn, conn.transaction():
        row = store.create_operator(UnitOfWork(conn, source="accounts"), login_id, password_hash)
    return str(row["id"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="accounts.ops", description="accounts ops commands")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-operator", help="create a platform operator, or reset its password")
    create.add_argument("--login", required=True)
    create.add_argument(
        "--password",
        default=os.environ.get("PASSWORD"),
        help="defaults to $PASSWORD (keeps it out of the process list)",
    )
    args = parser.parse_args(argv)
    if not args.login.strip() or not args.password:
        parser.error("LOGIN and PASSWORD are required")
    config = load_config("accounts")
    ensure_database(config["DATABASE_URL"])
    apply_migrations(config["DATABASE_URL"], "accounts")
    try:
        member_id = create_operator(config["DATABASE_URL"], args.login.strip(), args.password, config)
    except ValueError as exc:
        print(f"make operator: {exc}", file=sys.stderr)
        return 2
    print(f"operator {args.login.strip()!r} ready (id {member_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
