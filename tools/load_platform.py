"""Keep a running `make run` platform busy, for issue #24's check that
`make proof --quick` passes beside a used platform on one machine.

    PC_RATE_LIMIT_BOOKING=1000000/1 make run          # one terminal
    .venv/bin/python tools/load_platform.py --seconds 900 --clients 10   # another
    make proof PROOF_ARGS=--quick                      # a third

It registers and verifies a salon through the gateway (the bench's
``booking_load``: one product over 200 slots, signed-in customers), then has
``--clients`` customers book without pause for ``--seconds``. Every 10 s it
prints the bookings answered by status and the PostgreSQL connections: the
platform's own (its databases, ``pc_<service>``) and the whole server's, so a
"too many clients" is seen where it happens. The platform's per-customer
booking limit (30 an hour) must be raised for the run, as above.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import eventlet

eventlet.monkey_patch()

TOOLS = Path(__file__).resolve().parent
sys.path[:0] = [str(TOOLS), str(TOOLS.parent / "libs"), str(TOOLS.parent / "services")]

import psycopg  # noqa: E402

from bench import POSTGRES  # noqa: E402
from benches import reservations as booking  # noqa: E402
from benches.platform import SERVICES  # noqa: E402
from chassis.config import DEFAULT_AMQP_URI, database_url_for  # noqa: E402

REPORT_EVERY_SECONDS = 10


class PlatformContext:
    """What the bench's ``booking_load`` needs of a bench run: the broker."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri


def connections(conn, databases: list[str]) -> tuple[int, int]:
    """(the platform's connections, the whole server's)."""
    ours, everyone = conn.execute(
        "SELECT count(*) FILTER (WHERE datname = ANY(%s)), count(*) FROM pg_stat_activity WHERE backend_type = "
        "'client backend'",
        (databases,),
    ).fetchone()
    return ours, everyone


def main() -> int:
    parser = argparse.ArgumentParser(description="Keep a running make run platform booking.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the platform's gateway")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=900)
    args = parser.parse_args()
    booking.CLIENTS = args.clients
    tokens, body, _product_id = booking.booking_load(
        PlatformContext(DEFAULT_AMQP_URI), args.url, database_url_for("accounts")
    )
    databases = [database_url_for(service).rsplit("/", 1)[1] for service in SERVICES]
    statuses: dict = {}
    peak_ours = peak_everyone = 0
    started = time.monotonic()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        while (left := args.seconds - (time.monotonic() - started)) > 0:
            _latencies, answered = booking.drive(args.url, tokens, body, None, min(REPORT_EVERY_SECONDS, left))
            for status, n in answered.items():
                statuses[status] = statuses.get(status, 0) + n
            ours, everyone = connections(conn, databases)
            peak_ours, peak_everyone = max(peak_ours, ours), max(peak_everyone, everyone)
            print(
                f"{time.strftime('%H:%M:%S')} statuses {dict(sorted(statuses.items(), key=str))}; "
                f"connections: platform {ours} (peak {peak_ours}), server {everyone} (peak {peak_everyone})",
                flush=True,
            )
    return 0 if set(statuses) <= {201} else 1


if __name__ == "__main__":
    raise SystemExit(main())
