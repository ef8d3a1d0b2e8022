"""The ops command line (tools/pcops.py), run as ops run it: a real process
against the real broker and databases of the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from chassis.contracts import Subscription
from chassis.testing import eventually
from chassis.tests.broker import queue_depths
from chassis.topology import dead_letter_queue

REPO = Path(__file__).resolve().parents[2]
PCOPS = str(REPO / "tools" / "pcops.py")
PROBE = str(REPO / "libs" / "chassis" / "tests" / "chassis_probe")
PROBE_SUB = Subscription("chassis.probed", "chassis_probe", "on_probed")
sys.path.insert(0, str(REPO / "tools"))


def pcops(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, PCOPS, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_every_area_and_command_documents_itself():
    import argparse

    import pcops as tool

    parser = tool.build_parser()
    assert "one service at a time" in pcops("--help").stdout
    commands = 0
    areas = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, area in areas.choices.items():
        assert area.description, f"{name} has no description"
        for action in area._actions:
            if isinstance(action, argparse._SubParsersAction):
                for command_name, command in action.choices.items():
                    assert command.description and command.format_help(), f"{name} {command_name}"
                    commands += 1
    assert {"migrations", "outbox", "deadletters", "reconcile", "operators", "erasure"} <= set(areas.choices)
    assert commands >= 9
    assert pcops("deadletters", "replay", "--help").stdout.startswith("usage: pcops deadletters replay")
    refused = pcops("migrations", "status", "no-such-service", check=False)
    assert refused.returncode == 2 and "no service 'no-such-service'" in refused.stderr


def test_migrations_status_and_apply(make_database):
    url = make_database(PROBE, migrate=False)
    env = {"PC_CHASSIS_PROBE_DATABASE_URL": url}
    before = json.loads(pcops("migrations", "status", PROBE, "--json", env=env).stdout)
    assert before["pending"] == ["chassis/0001_outbox_inbox.sql", "chassis_probe/0001_probe.sql"]
    assert "2 pending" in pcops("migrations", "status", PROBE, env=env).stdout
    applied = json.loads(pcops("migrations", "apply", PROBE, "--json", env=env).stdout)
    assert applied["applied"] == before["pending"]
    assert pcops("migrations", "apply", PROBE, env=env).stdout.strip() == "nothing to apply"
    after = json.loads(pcops("migrations", "status", PROBE, "--json", env=env).stdout)
    assert after["pending"] == [] and all(m["applied_at"] for m in after["migrations"])


def test_outbox_backlog_names_pending_and_failing_events(run_service, rpc, service_config):
    container = run_service(PROBE, OUTBOX_RELAY=False)
    url = container.config["DATABASE_URL"]
    rpc.chassis_probe.record("ob-1")
    rpc.chassis_probe.record("ob-2")
    with psycopg.connect(url) as conn:  # as the relay records a refused publish
        conn.execute(
            "UPDATE outbox SET attempts = 3, last_error = 'unroutable: chassis.probed' "
            "WHERE body->'payload'->>'probe_id' = 'ob-2'"
        )
    env = {"PC_CHASSIS_PROBE_DATABASE_URL": url}
    (report,) = json.loads(pcops("outbox", "backlog", PROBE, "--json", env=env).stdout)
    assert report["service"] == "chassis_probe" and report["pending"] == 2 and report["failing"] == 1
    assert report["oldest_age_seconds"] > 0
    assert [e["last_error"] for e in report["failing_events"]] == ["unroutable: chassis.probed"]
    assert "pending      2" in pcops("outbox", "backlog", PROBE, env=env).stdout


def test_dead_letter_list_then_replay_moves_the_event_back_and_it_is_processed_once(run_service, rpc, amqp_uri):
    run_service(PROBE, EVENT_MAX_ATTEMPTS=2, EVENT_RETRY_BASE_MS=50)
    rpc.chassis_probe.set_failing("dl-1", True)
    event_id = rpc.chassis_probe.record("dl-1")["event_id"]
    eventually(lambda: queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)][0] == 1, timeout=30, message="event parked")
    env = {"PC_AMQP_URI": amqp_uri}

    (letter,) = json.loads(pcops("deadletters", "list", PROBE, "--json", env=env).stdout)
    assert (letter["event_id"], letter["type"], letter["attempts"]) == (event_id, "chassis.probed", 2)
    assert "ProbeFailure" in letter["error"]
    listing = pcops("deadletters", "list", PROBE, env=env).stdout
    assert event_id in listing and "1 parked" in listing
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (1, 0), "listing leaves it parked"
    assert pcops("deadletters", "list", PROBE, "--handler", "nope", env=env, check=False).returncode == 1

    rpc.chassis_probe.set_failing("dl-1", False)  # the cause is fixed; now replay
    replay = json.loads(pcops("deadletters", "replay", PROBE, "--json", env=env).stdout)
    assert replay["replayed"] == {"on_probed": 1}
    effects = eventually(lambda: rpc.chassis_probe.effects("dl-1"), message="replayed event processed")
    assert [e["event_id"] for e in effects] == [event_id]
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (0, 0)
    # Replaying again has nothing to move, and a duplicate delivery would have no second effect.
    assert json.loads(pcops("deadletters", "replay", PROBE, "--json", env=env).stdout)["replayed"] == {"on_probed": 0}
    assert len(rpc.chassis_probe.effects("dl-1")) == 1


def test_operator_creation_stores_an_operator_whose_password_works(make_database):
    url = make_database("accounts")
    env = {"PC_ACCOUNTS_DATABASE_URL": url, "PASSWORD": "correct horse battery"}
    created = json.loads(pcops("operators", "create", "--login", "ops-kim", "--json", env=env).stdout)
    with psycopg.connect(url) as conn:
        kind, login, password_hash = conn.execute(
            "SELECT kind, login_id, password_hash FROM members WHERE id = %s", (created["member_id"],)
        ).fetchone()
    assert (kind, login) == ("operator", "ops-kim")
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(password_hash, "correct horse battery")
    short = pcops("operators", "create", "--login", "ops-kim", env={**env, "PASSWORD": "short"}, check=False)
    assert short.returncode == 2 and "8 characters" in short.stderr
    no_password = pcops("operators", "create", "--login", "ops-lee", env={**env, "PASSWORD": ""}, check=False)
    assert no_password.returncode == 2


def test_rpc_commands_name_a_missing_service_or_method_clearly(run_service, amqp_uri):
    env = {"PC_AMQP_URI": amqp_uri}
    absent = pcops(
        "--timeout", "3", "reconcile", "settlement", "--from", "2026-11-01", "--to", "2026-11-30", env=env, check=False
    )
    assert absent.returncode == 1 and "settlement" in absent.stderr
    run_service(PROBE)
    lacking = pcops("reconcile", PROBE, "--from", "2026-11-01", "--to", "2026-11-30", env=env, check=False)
    assert lacking.returncode == 3 and "chassis_probe does not offer reconcile" in lacking.stderr


def test_reconciliation_compares_every_figure_of_every_partner_and_source():
    import pcops as tool

    ledger = {
        "p1": {
            "reservations": {"sales": 50000, "fees": 0, "refunds": 0},
            "orders": {"sales": 12000, "fees": 0, "refunds": 3000},
        }
    }
    sources = {
        "reservations": {"p1": {"sales": 50000, "fees": 0, "refunds": 0, "sales_count": 2}},
        "orders": {"p1": {"sales": 12000, "fees": 0, "refunds": 0}, "p2": {"sales": 8000}},
    }
    assert tool.compare_totals(ledger, sources) == [
        {"partner_id": "p1", "source": "orders", "figure": "refunds", "ledger": 3000, "source_says": 0},
        {"partner_id": "p2", "source": "orders", "figure": "sales", "ledger": 0, "source_says": 8000},
    ]
    assert (
        tool.compare_totals(ledger, {"reservations": sources["reservations"], "orders": {"p1": ledger["p1"]["orders"]}})
        == []
    )


def test_reconcile_settlement_asks_the_three_services_for_the_same_period(run_service, amqp_uri):
    for service in ("settlement", "reservations", "orders"):
        run_service(service, **({"SCHEDULED_RUNS": False} if service == "settlement" else {}))
    run = pcops(
        "reconcile",
        "settlement",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        env={"PC_AMQP_URI": amqp_uri},
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["mismatches"] == [] and report["period_start"] == "2026-11-01"
    bad = pcops(
        "reconcile",
        "settlement",
        "--from",
        "2026-11-30",
        "--to",
        "2026-11-01",
        env={"PC_AMQP_URI": amqp_uri},
        check=False,
    )
    assert bad.returncode == 1 and "period" in bad.stderr


def test_erasure_requests_erase_at_once_and_announce_it(partner_center, amqp_uri):
    pc = partner_center()
    customer = pc.customer_session(name="김다온", phone="010-2345-6789")
    env = {"PC_AMQP_URI": amqp_uri}
    erased = json.loads(
        pcops("erasure", "request", "--customer-id", customer.customer_id, "--reason", "asked", env=env).stdout
    )
    assert (erased["customer_id"], erased["status"]) == (customer.customer_id, "erased")
    assert customer.client.get("/v1/shop/messages").status_code == 401  # every session ended
    url = pc.containers["accounts"].config["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        assert (
            conn.execute("SELECT count(*) FROM customers WHERE name = '김다온' OR phone LIKE '%%6789'").fetchone()[0]
            == 0
        )
        announced = conn.execute("SELECT body->'payload' FROM outbox WHERE event_type = 'customer.erased'").fetchall()
    assert [row[0]["customer_id"] for row in announced] == [customer.customer_id]
    unknown = pcops("erasure", "request", "--customer-id", "00000000-0000-4000-8000-000000000000", env=env, check=False)
    assert unknown.returncode != 0 and "customer_not_found" in unknown.stdout + unknown.stderr

    admin = pc.create_partner().admin
    refused = pcops("erasure", "request", "--member-id", admin.member_id, env=env, check=False)
    assert refused.returncode != 0 and "last_admin" in refused.stdout + refused.stderr  # R-ACC-4 still holds
    member = pc.sign_up_member()
    withdrawn = json.loads(pcops("erasure", "request", "--member-id", member.member_id, env=env).stdout)
    assert withdrawn["status"] == "withdrawn"
