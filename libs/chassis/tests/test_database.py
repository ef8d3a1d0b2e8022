"""The database provider: cooperative queries, refusal to block, atomic units of work."""
import time

import psycopg
import psycopg.waiting
import pytest

from chassis.db import BlockingWaitFunction
from chassis.errors import Conflict


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
    assert (raised.value.code, raised.value.status, raised.value.details) == ("probe_conflict", 409, {"probe_id": "p-1"})
    with psycopg.connect(container.config["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM probe_records").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
