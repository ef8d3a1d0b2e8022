"""A rolling restart of two instances of one service under a stream of HTTP
requests: every request succeeds or fails with a clean, retryable 503, and
nothing is lost (every acknowledged change is stored once and its event is
handled once). Real processes, stopped with SIGTERM as Kubernetes does."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import eventlet
import psycopg
import requests

from chassis.testing import eventually
from chassis.tests.broker import queue_depths, rpc_consumers

HERE = Path(__file__).resolve().parent
PROBE = str(HERE.parents[1] / "libs" / "chassis" / "tests" / "chassis_probe")
if str(HERE / "support") not in sys.path:
    sys.path.insert(0, str(HERE / "support"))

CLIENTS = 6
STREAM_LIMIT_SECONDS = 120  # the stream stops by itself even if the test goes wrong


@dataclass
class Outcome:
    kind: str
    probe_id: str | None
    status: int | None
    code: str | None
    ended_at: float


class RequestStream:
    """Several clients sending requests back to back until told to stop."""

    def __init__(self, url: str):
        self.url = url
        self.outcomes: list[Outcome] = []
        self.stopping = False
        self.pool = eventlet.GreenPool(CLIENTS)

    def start(self):
        for client in range(CLIENTS):
            self.pool.spawn_n(self.client, client)

    def stop(self):
        self.stopping = True
        self.pool.waitall()

    def client(self, client: int):
        session = requests.Session()
        deadline = time.monotonic() + STREAM_LIMIT_SECONDS
        number = 0
        while not self.stopping and time.monotonic() < deadline:
            number += 1
            if number % 4 == 0:
                kind, probe_id, path = "slow", None, "/v1/test-deploy/slow"
            else:
                probe_id = f"roll-{client}-{number}"
                kind, path = "record", f"/v1/test-deploy/records/{probe_id}"
            try:
                response = session.post(self.url + path, timeout=30)
                code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
                self.outcomes.append(Outcome(kind, probe_id, response.status_code, code, time.monotonic()))
            except requests.RequestException as exc:
                self.outcomes.append(Outcome(kind, probe_id, None, repr(exc), time.monotonic()))

    def succeeded_between(self, start: float, end: float) -> int:
        return sum(1 for o in self.outcomes if o.status in (200, 201) and start <= o.ended_at <= end)


def stored(database_url: str) -> tuple[set[str], dict[str, int], int]:
    """(records, effects per record, unpublished outbox rows)."""
    with psycopg.connect(database_url) as conn:
        records = {r[0] for r in conn.execute("SELECT probe_id FROM probe_records")}
        effects: dict[str, int] = dict(
            conn.execute("SELECT probe_id, count(*) FROM probe_effects GROUP BY probe_id").fetchall()
        )
        pending = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
    return records, effects, pending


def test_rolling_restart_of_two_instances_loses_nothing_and_fails_nothing_but_clean_503(
    service_process, make_database, run_service, amqp_uri
):
    database_url = make_database(PROBE)
    instances = [service_process(PROBE, database_url=database_url).start() for _ in range(2)]
    eventually(
        lambda: rpc_consumers(amqp_uri, "rpc-chassis_probe") == 2,
        timeout=60,
        interval=0.3,
        message="both instances consuming",
    )
    from chassis.testing import free_port

    port = free_port()
    run_service(
        "gateway",
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        DOWNSTREAM_SERVICES=["chassis_probe"],
        SERVICE_CLASS="deploy_gateway:DeployProbeGateway",
        RPC_TIMEOUT=10,
    )
    stream = RequestStream(f"http://127.0.0.1:{port}")
    stream.start()
    try:
        eventlet.sleep(1.5)
        for index in range(len(instances)):
            # One instance at a time: SIGTERM, let it drain and exit, start its replacement.
            old = instances[index]
            stopped_at = time.monotonic()
            old.process.send_signal(signal.SIGTERM)
            assert old.wait_exit(timeout=30) == 0, "a graceful stop exits 0 within the stop timeout"
            instances[index] = service_process(PROBE, database_url=database_url).start()
            eventually(
                lambda: rpc_consumers(amqp_uri, "rpc-chassis_probe") == 2,
                timeout=60,
                interval=0.3,
                message="replacement consuming",
            )
            assert stream.succeeded_between(stopped_at, time.monotonic()) > 0, "traffic flowed during the restart"
            eventlet.sleep(1.0)
    finally:
        stream.stop()

    outcomes = stream.outcomes
    unclean = [
        o for o in outcomes if o.status not in (200, 201) and not (o.status == 503 and o.code == "service_unavailable")
    ]
    assert unclean == [], f"requests failed other than with a clean 503: {unclean[:5]}"
    acknowledged = {o.probe_id for o in outcomes if o.kind == "record" and o.status == 201}
    assert len(acknowledged) > 50 and any(o.kind == "slow" and o.status == 200 for o in outcomes)
    sent = {o.probe_id for o in outcomes if o.kind == "record"}

    def settled():
        records, effects, pending = stored(database_url)
        return (records, effects) if pending == 0 and set(effects) == records else None

    records, effects = eventually(settled, timeout=60, interval=0.3, message="every stored change's event handled")
    assert acknowledged <= records, "every acknowledged change is stored"
    assert records <= sent
    assert set(effects.values()) == {1}, "every event handled exactly once"
    depths = queue_depths(amqp_uri)
    assert depths["rpc-chassis_probe"] == (0, 0), "no request left behind in the queue"
    assert depths["pc.dlq.chassis_probe.on_probed"] == (0, 0)
    print(
        f"rolling restart: {len(outcomes)} requests, {len(acknowledged)} records, "
        f"{sum(o.status == 503 for o in outcomes)} clean 503s"
    )
