"""Reconciliation: the ledger's totals against the producers' own, per partner.

    python -m settlement.reconcile --from 2026-11-01 --to 2026-11-30 [--partner P]
    make reconcile FROM=2026-11-01 TO=2026-11-30

Prints every difference and exits 0 when there is none, 1 when there are
differences, 2 when a service did not answer. Reads PC_AMQP_URI (or --amqp-uri).

The RPC contract the reservations and orders services implement
--------------------------------------------------------------------

    @rpc
    def settlement_totals(self, partner_id: str | None, period_start: str, period_end: str) -> dict

``period_start`` and ``period_end`` are ``YYYY-MM-DD``, inclusive, days in
Asia/Seoul. ``partner_id`` None means every partner. The answer maps each
partner with anything in the period to integer KRW totals:

    {"<partner_id>": {"sales": int, "fees": int, "refunds": int}, ...}

counted by the day (Asia/Seoul) of the state change, i.e. of the ``occurred_at``
of the event that announced it, exactly as settlement books it (domain.py):

- reservations: ``sales`` = totals of reservations completed; ``fees`` =
  ``fee_amount`` of every cancellation (partial ones included) and no-show;
  ``refunds`` = 0 (a completed reservation is never refunded, R-RSV-4).
- orders: ``sales`` = totals of orders completed (``order.completed`` or
  ``order.delivered``, counted once per order); ``fees`` = 0; ``refunds`` =
  ``refund_amount`` of approved refunds (``order.refund_approved``).

Settlement answers the same question from its ledger with ``ledger_totals``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import date

from chassis.config import DEFAULT_AMQP_URI

SOURCES = ("reservations", "orders")
FIGURES = ("sales", "fees", "refunds")


@dataclass(frozen=True)
class Difference:
    partner_id: str
    source: str
    figure: str
    ledger: int
    source_total: int

    def __str__(self) -> str:
        return (
            f"partner {self.partner_id} {self.source} {self.figure}: ledger {self.ledger}, "
            f"{self.source} {self.source_total}, difference {self.ledger - self.source_total}"
        )


def differences(ledger: dict, source_totals: dict[str, dict]) -> list[Difference]:
    """Every (partner, source, figure) where the ledger and the source disagree;
    a partner missing on one side counts as zeros there."""
    found = []
    for source in SOURCES:
        theirs = source_totals.get(source, {})
        for partner_id in sorted(set(theirs) | {p for p, by_source in ledger.items() if source in by_source}):
            mine = ledger.get(partner_id, {}).get(source, {})
            other = theirs.get(partner_id, {})
            for figure in FIGURES:
                a, b = int(mine.get(figure, 0)), int(other.get(figure, 0))
                if a != b:
                    found.append(Difference(partner_id, source, figure, a, b))
    return found


def reconcile(rpc, period_start: date, period_end: date, partner_id: str | None = None) -> list[Difference]:
    start, end = period_start.isoformat(), period_end.isoformat()
    ledger = rpc.settlement.ledger_totals(partner_id, start, end)
    source_totals = {source: getattr(rpc, source).settlement_totals(partner_id, start, end) for source in SOURCES}
    return differences(ledger, source_totals)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Compare the settlement ledger with reservations and orders.")
    parser.add_argument("--from", dest="period_start", required=True, type=date.fromisoformat)
    parser.add_argument("--to", dest="period_end", required=True, type=date.fromisoformat)
    parser.add_argument("--partner", default=None)
    parser.add_argument("--amqp-uri", default=os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI))
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("PC_RPC_TIMEOUT", 30)))
    args = parser.parse_args(argv)

    from nameko.standalone.rpc import ClusterRpcProxy

    print(
        f"reconciliation {args.period_start}..{args.period_end}" + (f" partner {args.partner}" if args.partner else ""),
        flush=True,
    )
    try:
        with ClusterRpcProxy({"AMQP_URI": args.amqp_uri}, timeout=args.timeout) as rpc:
            found = reconcile(rpc, args.period_start, args.period_end, args.partner)
    except Exception as exc:  # a service away or failing: say which, never a silent zero
        print(f"reconciliation failed: {type(exc).__name__}: {exc}", flush=True)
        return 2
    for difference in found:
        print(difference)
    print(f"{len(found)} differences", flush=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
