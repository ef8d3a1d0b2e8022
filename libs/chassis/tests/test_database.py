"""The database provider: cooperative queries, refusal to block, atomic units of work."""

import time

import psycopg
import psycopg.waiting
import pytest

from chassis.db import BlockingWaitFunction
from chassis.errors import Conflict, ServiceUnavailable
from chassis.testing import eventually


def test_twenty_slow_queries_run_concurrently_inside_a_running_service(run_service, rpc, probe_path):
    run_service(probe_path)
    started = time.monotonic()
    replies = [rpc.chassis_probe.sleep_query.call_async(0.2) for _ in range(20)]
    assert [reply.result() for reply in replies] == [0.2] * 20
    elapsed = time.monotonic() - started
    # One after the other they would take 20 x 0.2 s = 4 s; a blocking wait function does exactly that.
    assert elapsed < 2.0, f"20 concurrent 0.2 s queries took {elapsed:.2f}s: queries are serialised"


def test_service_refuses_to_start_with_a_blocking_wait_function(run_service, probe_path, monkeypatch):
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    with pytest.raises(BlockingWaitFunction):
        run_service(probe_path)


def test_failed_unit_of_work_leaves_neither_row_nor_event(run_service, rpc, probe_path):
    container = run_service(probe_path)
    with pytest.raises(Conflict) as raised:
        rpc.chassis_probe.record_then_fail("p-1")
    assert (raised.value.code, raised.value.status, raised.value.details) == (
        "probe_conflict",
        409,
        {"probe_id": "p-1"},
    )
    with psycopg.connect(container.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM probe_records").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_worker_that_gets_no_connection_in_time_answers_503_itself(run_service, rpc, probe_path):
    """A pool of one, held by a worker blocked on a lock this test owns: the
    next worker gets no connection within DB_POOL_TIMEOUT and answers 503
    itself (its caller waits far longer), and the pool serves again at once
    when the connection comes back."""
    container = run_service(probe_path, DB_POOL_MIN=1, DB_POOL_MAX=1, DB_POOL_TIMEOUT=0.5, OUTBOX_RELAY=False)
    url, key = container.config["DATABASE_URL"], 24_503
    with psycopg.connect(url, autocommit=True) as lock_owner:
        lock_owner.execute("SELECT pg_advisory_lock(%s)", (key,))
        holder = rpc.chassis_probe.wait_for_lock.call_async(key)
        eventually(
            lambda: lock_owner.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone(),
            message="the only connection held by a waiting worker",
        )
        with pytest.raises(ServiceUnavailable) as refused:
            rpc.chassis_probe.record("p-1")
        assert (refused.value.status, refused.value.message) == (503, "database unavailable")
        lock_owner.execute("SELECT pg_advisory_unlock(%s)", (key,))
    assert holder.result() == key
    rpc.chassis_probe.record("p-2")
    with psycopg.connect(url) as conn:
        assert [r[0] for r in conn.execute("SELECT probe_id FROM probe_records")] == ["p-2"]


def test_a_statement_unit_runs_without_begin_or_commit_and_refuses_events(run_service, rpc, probe_path):
    """statement() (issue 20): the INSERT is committed by itself, with no transaction
    left open around it; transaction() still opens one; an event needs transaction()."""
    container = run_service(probe_path)

    states = rpc.chassis_probe.connection_states("alone-1")

    assert states == {"transaction": "INTRANS", "statement": "IDLE", "event_refused": True}
    with psycopg.connect(container.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT note FROM probe_records WHERE probe_id = 'alone-1'").fetchall() == [("alone",)]
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
