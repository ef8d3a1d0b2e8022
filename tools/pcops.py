#!/usr/bin/env python
"""pcops: the partner center's ops command line, one service at a time.

    tools/pcops.py migrations status accounts
    tools/pcops.py outbox backlog            # every data service
    tools/pcops.py deadletters list notifications
    tools/pcops.py deadletters replay notifications --handler on_reservation_confirmed
    tools/pcops.py reconcile settlement --from 2026-11-01 --to 2026-11-30
    tools/pcops.py operators create --login ops1          # password from $PASSWORD or a prompt
    tools/pcops.py erasure request --customer-id C-123
    tools/pcops.py rabbitmq policies --format k8s
    tools/pcops.py deploy render --check

Each command reads the same configuration as the services (``services/<name>/
config.yaml`` with ``PC_*`` environment variables), so it runs wherever a
service runs: on a laptop next to ``make run``, or as ``kubectl exec`` / a Job
in the service's own image. Every area and command has ``--help``.
Exit codes: 0 done, 1 failed, 2 usage, 3 the service does not offer this yet.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import getpass  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / "libs", REPO / "services", REPO / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from chassis.config import DEFAULT_AMQP_URI, SERVICES_DIR, load_config, service_dir, service_name  # noqa: E402
from chassis.contracts import SUBSCRIPTIONS, Subscription  # noqa: E402

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_OFFERED = 1, 2, 3
DEFAULT_DELIVERY_LIMIT = 20
RPC_TIMEOUT = 30


class OpsError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


# --- shared helpers ----------------------------------------------------------------


def deployable_services() -> list[str]:
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/config.yaml"))


def data_services() -> list[str]:
    return [s for s in deployable_services() if "DATABASE_URL" in load_config(s)]


def checked_service(value: str) -> str:
    """A service name under services/, or a path to a service directory (tests' own)."""
    if not (service_dir(value) / "config.yaml").is_file():
        raise argparse.ArgumentTypeError(f"no service {value!r} (known: {', '.join(deployable_services())})")
    return value


def database_url(service: str) -> str:
    url = load_config(service).get("DATABASE_URL")
    if not url:
        raise OpsError(f"{service_name(service)} has no database")
    return url


def amqp_uri(args) -> str:
    return args.amqp_uri or os.environ.get("PC_AMQP_URI", DEFAULT_AMQP_URI)


def subscriptions_of(service: str, handler: str | None) -> list[Subscription]:
    name = service_name(service)
    subs = sorted(s for s in SUBSCRIPTIONS if s.service == name and handler in (None, s.handler))
    if not subs:
        known = sorted({s.handler for s in SUBSCRIPTIONS if s.service == name})
        raise OpsError(f"{name} has no event handler {handler or ''} (handlers: {', '.join(known) or 'none'})")
    return subs


def emit(args, data, lines: list[str]) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False) if args.json else "\n".join(lines))


def call_rpc(args, service: str, method: str, **kwargs):
    """One RPC with a deadline; a method the service lacks is EXIT_NOT_OFFERED."""
    from nameko.exceptions import MethodNotFound, RemoteError, UnknownService
    from nameko.standalone.rpc import ClusterRpcProxy

    from chassis.errors import DomainError  # registered: a service's domain error arrives as itself

    context = {"correlation_id": f"pcops-{uuid.uuid4().hex[:12]}"}
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri(args)}, timeout=args.timeout, context_data=context) as rpc:
            return getattr(getattr(rpc, service), method)(**kwargs)
    except MethodNotFound:
        raise OpsError(f"{service} does not offer {method} yet", EXIT_NOT_OFFERED) from None
    except UnknownService:
        raise OpsError(f"{service} is not running (no consumer for its RPC queue)") from None
    except RemoteError as exc:
        if exc.exc_type == "MethodNotFound":
            raise OpsError(f"{service} does not offer {method} yet", EXIT_NOT_OFFERED) from None
        raise OpsError(f"{service}.{method} failed: {exc.exc_type}: {exc.value}") from None
    except Exception as exc:  # a domain error (chassis.errors) or the deadline
        details = (
            f" {json.dumps(exc.details, ensure_ascii=False)}" if isinstance(exc, DomainError) and exc.details else ""
        )
        raise OpsError(f"{service}.{method} failed: {exc}{details}") from None


# --- migrations --------------------------------------------------------------------


def migrations_status(args) -> int:
    import psycopg

    from chassis.migrations import migration_files

    url = database_url(args.service)
    try:
        with psycopg.connect(url) as conn:
            exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
            done = (
                {r[0]: r[1] for r in conn.execute("SELECT version, applied_at FROM schema_migrations")}
                if exists
                else {}
            )
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise OpsError(f"cannot reach the database of {service_name(args.service)}: {exc}") from None
        done = {}  # no database yet: every migration is pending
    rows = [{"version": v, "applied_at": done.get(v)} for v, _ in migration_files(args.service)]
    pending = [r["version"] for r in rows if r["applied_at"] is None]
    emit(
        args,
        {"service": service_name(args.service), "migrations": rows, "pending": pending},
        [f"{'applied ' + str(r['applied_at'])[:19] if r['applied_at'] else 'PENDING':28} {r['version']}" for r in rows]
        + [f"{len(pending)} pending"],
    )
    return 0


def migrations_apply(args) -> int:
    from chassis.migrations import apply_migrations, ensure_database

    url = database_url(args.service)
    ensure_database(url)
    applied = apply_migrations(url, args.service)
    emit(
        args,
        {"service": service_name(args.service), "applied": applied},
        [f"applied {v}" for v in applied] or ["nothing to apply"],
    )
    return 0


# --- outbox ------------------------------------------------------------------------


def outbox_backlog(args) -> int:
    import psycopg
    from psycopg.rows import dict_row

    report = []
    for service in args.services or data_services():
        with psycopg.connect(database_url(service), row_factory=dict_row) as conn:
            summary = conn.execute(
                """SELECT count(*) AS pending, count(*) FILTER (WHERE attempts > 0) AS failing,
                          coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS oldest_age_seconds
                   FROM outbox WHERE published_at IS NULL"""
            ).fetchone()
            failing = conn.execute(
                """SELECT event_id::text, event_type, attempts, last_error, next_attempt_at FROM outbox
                   WHERE published_at IS NULL AND attempts > 0 ORDER BY id LIMIT %s""",
                (args.limit,),
            ).fetchall()
        report.append({"service": service_name(service), **summary, "failing_events": failing})
    lines = []
    for r in report:
        lines.append(
            f"{r['service']:14} pending {r['pending']:6}  oldest {r['oldest_age_seconds']:9.1f} s  "
            f"failing {r['failing']}"
        )
        lines += [
            f"    {e['event_id']} {e['event_type']} attempts={e['attempts']} {e['last_error']}"
            for e in r["failing_events"]
        ]
    emit(args, report, lines)
    return 0


# --- dead letters ------------------------------------------------------------------


def deadletters_list(args) -> int:
    from chassis.deadletters import list_dead_letters

    report = []
    for sub in subscriptions_of(args.service, args.handler):
        for letter in list_dead_letters(amqp_uri(args), sub):
            envelope = letter["envelope"] if isinstance(letter["envelope"], dict) else {}
            report.append(
                {
                    "handler": sub.handler,
                    "event_id": envelope.get("event_id"),
                    "type": envelope.get("type"),
                    "partner_id": envelope.get("partner_id"),
                    "attempts": letter["attempts"],
                    "error": letter["error"],
                    "envelope": letter["envelope"],
                }
            )
    lines = [
        f"{r['handler']:32} {r['event_id']} {r['type']} attempts={r['attempts']}\n    {r['error']}" for r in report
    ] + [f"{len(report)} parked"]
    emit(args, report, lines)
    return 0


def deadletters_replay(args) -> int:
    from chassis.deadletters import replay_dead_letters

    report = {
        sub.handler: replay_dead_letters(amqp_uri(args), sub) for sub in subscriptions_of(args.service, args.handler)
    }
    emit(
        args,
        {"service": service_name(args.service), "replayed": report},
        [f"{handler:32} replayed {count}" for handler, count in report.items()],
    )
    return 0


# --- reconciliation, operators, erasure (RPCs and functions of the owning service) ----

RECONCILED_SOURCES = ("reservations", "orders")
RECONCILED_FIGURES = ("sales", "fees", "refunds")


def compare_totals(ledger: dict, sources: dict[str, dict]) -> list[dict]:
    """Differences between settlement's ledger (``{partner: {source: figures}}``)
    and what each source service says it should hold (``{source: {partner:
    figures}}``), figure by figure; absent means 0."""
    partners = set(ledger) | {p for totals in sources.values() for p in totals}
    mismatches = []
    for partner in sorted(partners):
        for source in RECONCILED_SOURCES:
            expected = sources.get(source, {}).get(partner, {})
            booked = ledger.get(partner, {}).get(source, {})
            for figure in RECONCILED_FIGURES:
                if int(expected.get(figure, 0)) != int(booked.get(figure, 0)):
                    mismatches.append(
                        {
                            "partner_id": partner,
                            "source": source,
                            "figure": figure,
                            "ledger": int(booked.get(figure, 0)),
                            "source_says": int(expected.get(figure, 0)),
                        }
                    )
    return mismatches


def reconcile(args) -> int:
    """The service's own ``reconcile`` RPC when it offers one; for settlement
    without it, its ledger totals against reservations' and orders' totals for
    the same business dates. Events still in flight show as differences: pick
    a period that ended a while ago, or run it again."""
    service = service_name(args.service)
    period = {"partner_id": args.partner, "period_start": args.date_from, "period_end": args.date_to}
    try:
        result = call_rpc(args, service, "reconcile", **period)
    except OpsError as exc:
        if exc.exit_code != EXIT_NOT_OFFERED or service != "settlement":
            raise
        ledger = call_rpc(args, "settlement", "ledger_totals", **period)
        sources = {source: call_rpc(args, source, "settlement_totals", **period) for source in RECONCILED_SOURCES}
        result = {
            **period,
            "compared": ["ledger"] + list(RECONCILED_SOURCES),
            "mismatches": compare_totals(ledger, sources),
        }
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    mismatches = result.get("mismatches") if isinstance(result, dict) else None
    return EXIT_FAILED if mismatches else 0


def operators_create(args) -> int:
    from accounts.ops import create_operator
    from chassis.migrations import apply_migrations, ensure_database

    password = os.environ.get("PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise OpsError("set PASSWORD (kept out of the process list) or run in a terminal", EXIT_USAGE)
        password = getpass.getpass(f"password for {args.login}: ")
    config = load_config("accounts")
    ensure_database(config["DATABASE_URL"])
    apply_migrations(config["DATABASE_URL"], "accounts")
    try:
        member_id = create_operator(config["DATABASE_URL"], args.login.strip(), password, config)
    except ValueError as exc:
        raise OpsError(str(exc), EXIT_USAGE) from None
    emit(
        args,
        {"login_id": args.login.strip(), "member_id": member_id},
        [f"operator {args.login.strip()!r} ready (id {member_id})"],
    )
    return 0


def erasure_request(args) -> int:
    """A data-erasure request an operator received (by mail, by the privacy
    desk): accounts erases and announces it (customer.erased / member.withdrawn);
    the other services erase what they hold when the event reaches them."""
    if args.customer_id:
        result = call_rpc(args, "accounts", "erase_customer", customer_id=args.customer_id, reason=args.reason)
    else:
        result = call_rpc(args, "accounts", "erase_member", member_id=args.member_id, reason=args.reason)
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    return 0


# --- RabbitMQ production topology -----------------------------------------------------


def rabbitmq_policies(args) -> int:
    import pcops_deploy

    policies = pcops_deploy.event_queue_policies(args.delivery_limit)
    if args.format == "k8s":
        print(pcops_deploy.dump_yaml(pcops_deploy.k8s_policies(policies, args.vhost)), end="")
    else:
        print(json.dumps(policies, indent=2))
    return 0


def rabbitmq_apply(args) -> int:
    """Set the policies on a broker this machine can run ``rabbitmqctl`` against
    (compose, a VM); on Kubernetes the Policy resources of the topology operator do it."""
    import pcops_deploy

    policies = pcops_deploy.event_queue_policies(args.delivery_limit, args.service and service_name(args.service))
    node = ["-n", args.node] if args.node else []
    for policy in policies:
        subprocess.run(
            [
                "rabbitmqctl",
                "-q",
                *node,
                "set_policy",
                "-p",
                args.vhost,
                "--apply-to",
                policy["apply-to"],
                "--priority",
                str(policy["priority"]),
                policy["name"],
                policy["pattern"],
                json.dumps(policy["definition"]),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    print(f"{len(policies)} policies set on vhost {args.vhost}")
    return 0


def deploy_render(args) -> int:
    import pcops_deploy

    stale = pcops_deploy.render(check=args.check)
    if args.check:
        if stale:
            print("out of date (run tools/pcops.py deploy render): " + ", ".join(stale), file=sys.stderr)
            return EXIT_FAILED
        print("deploy files are up to date")
    else:
        print("\n".join(f"wrote {p}" for p in stale) or "nothing changed")
    return 0


# --- the parser ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pcops", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--amqp-uri", help="RabbitMQ (default $PC_AMQP_URI, as the services use)")
    parser.add_argument("--timeout", type=float, default=RPC_TIMEOUT, help="seconds an RPC may take")
    areas = parser.add_subparsers(dest="area", required=True, metavar="AREA")

    def area(name, help_text):
        sub = areas.add_parser(name, help=help_text, description=help_text)
        return sub.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(group, name, func, help_text, json_output=True):
        sub = group.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        if json_output:
            sub.add_argument("--json", action="store_true", help="machine-readable output")
        return sub

    migrations = area("migrations", "a service's database schema (chassis.migrations)")
    status = command(migrations, "status", migrations_status, "applied and pending migrations of a service")
    status.add_argument("service", type=checked_service)
    apply = command(
        migrations,
        "apply",
        migrations_apply,
        "create the database if missing and apply pending migrations (safe while the service runs "
        "older code only if the migration is backwards compatible: see deploy/README.md)",
    )
    apply.add_argument("service", type=checked_service)

    outbox = area("outbox", "events committed but not yet published")
    backlog = command(
        outbox,
        "backlog",
        outbox_backlog,
        "pending events per service, the oldest one's age, and those whose publish failed",
    )
    backlog.add_argument("services", nargs="*", type=checked_service, help="default: every data service")
    backlog.add_argument("--limit", type=int, default=10, help="failing events to show per service")

    letters = area("deadletters", "events a handler failed on every attempt (chassis.deadletters)")
    listing = command(letters, "list", deadletters_list, "what is parked, with the last error; leaves it parked")
    listing.add_argument("service", type=checked_service)
    listing.add_argument("--handler", help="one handler only (default: all of the service's)")
    replay = command(
        letters,
        "replay",
        deadletters_replay,
        "move parked events back to the handler's queue with a fresh attempt count (fix the cause "
        "first; handlers are idempotent, so a replayed event has one effect)",
    )
    replay.add_argument("service", type=checked_service)
    replay.add_argument("--handler", help="one handler only (default: all of the service's)")

    recon = areas.add_parser(
        "reconcile",
        help="ask a service to reconcile its figures with their sources",
        description="calls <service>.reconcile(partner_id, period_start, period_end) and "
        "prints its report; for settlement without one, compares its ledger "
        "totals with reservations' and orders' settlement totals; exit 1 when "
        "there are mismatches",
    )
    recon.set_defaults(func=reconcile)
    recon.add_argument("service", type=checked_service, help="e.g. settlement")
    recon.add_argument("--from", dest="date_from", required=True, help="first business date, YYYY-MM-DD")
    recon.add_argument("--to", dest="date_to", required=True, help="last business date, YYYY-MM-DD")
    recon.add_argument("--partner", help="one partner only (default: all)")

    operators = area("operators", "platform operators (never created by sign-up)")
    create = command(
        operators,
        "create",
        operators_create,
        "create an operator, or reset its password (password from $PASSWORD, else a prompt)",
    )
    create.add_argument("--login", required=True)

    erasure = area("erasure", "data-erasure requests (accounts erases, other services follow its event)")
    request = command(
        erasure, "request", erasure_request, "erase a customer's or a member's personal data", json_output=False
    )
    who = request.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer-id")
    who.add_argument("--member-id")
    request.add_argument("--reason", default="erasure request", help="recorded with the erasure")

    rabbit = area("rabbitmq", "production queue topology: quorum queues, delivery limit, dead-lettering")
    policies = command(
        rabbit,
        "policies",
        rabbitmq_policies,
        "print the per-subscription policies (delivery limit, dead-letter target)",
        json_output=False,
    )
    policies.add_argument("--format", choices=["json", "k8s"], default="json")
    policies.add_argument("--vhost", default="pc")
    policies.add_argument("--delivery-limit", type=int, default=DEFAULT_DELIVERY_LIMIT)
    rabbit_apply = command(rabbit, "apply", rabbitmq_apply, "set the policies with rabbitmqctl", json_output=False)
    rabbit_apply.add_argument("--vhost", default="/")
    rabbit_apply.add_argument("--delivery-limit", type=int, default=DEFAULT_DELIVERY_LIMIT)
    rabbit_apply.add_argument("--service", type=checked_service, help="one service's queues only")
    rabbit_apply.add_argument("--node", help="the RabbitMQ node rabbitmqctl talks to (default: its own default)")

    deploy = area("deploy", "the deploy/ files generated from the service list and contracts")
    render = command(
        deploy,
        "render",
        deploy_render,
        "write deploy/compose.yaml, deploy/k8s/ and the RabbitMQ definitions",
        json_output=False,
    )
    render.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    return parser


def log_to_stderr() -> None:
    """stdout carries the command's answer (``--json`` for scripts); logs go to stderr."""
    import logging

    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)


def main(argv=None) -> int:
    log_to_stderr()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OpsError as exc:
        print(f"pcops: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
