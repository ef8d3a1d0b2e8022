"""The production queue topology on the real broker: a vhost whose default
queue type is quorum (as the Vhost resource declares it) and the per-
subscription policies from ``pcops rabbitmq apply``. The chassis runs on it
unchanged: RPC, events, its own retry and parking, replay; and a delivery the
broker saw fail too often (a handler that kills its process every time, which
the chassis' own attempt count never sees) is dead-lettered by the broker into
the same dead-letter queue, where ops find and replay it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from chassis import topology
from chassis.config import DEFAULT_AMQP_URI
from chassis.contracts import Subscription
from chassis.envelope import Envelope
from chassis.testing import eventually, rabbitmqctl
from chassis.tests.broker import publish_envelope, queue_depths, vhost_of

REPO = Path(__file__).resolve().parents[2]
PROBE = str(REPO / "libs" / "chassis" / "tests" / "chassis_probe")
PROBE_SUB = Subscription("chassis.probed", "chassis_probe", "on_probed")
DELIVERY_LIMIT = 3


@pytest.fixture
def amqp_uri():
    """This module's vhost: quorum queues by default, as in production."""
    vhost = f"pc_test_quorum_{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost, "--default-queue-type", "quorum")
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"{os.environ.get('PC_AMQP_URI', DEFAULT_AMQP_URI).rstrip('/')}/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


def pcops(*args: str, amqp_uri: str) -> dict | str:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "pcops.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PC_AMQP_URI": amqp_uri},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


def queues(amqp_uri: str) -> dict[str, tuple[str, str]]:
    """queue -> (type, policy)."""
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost_of(amqp_uri), "--no-table-headers", "name", "type", "policy"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return {
        cols[0]: (cols[1], cols[2] if len(cols) > 2 else "") for cols in (line.split("\t") for line in out.splitlines())
    }


def crash_while_handling(amqp_uri: str, queue: str) -> bool:
    """A consumer takes the delivery and dies before acking; False once none is left."""
    connection = topology.connect(amqp_uri)
    try:
        channel = connection.channel()
        message = channel.basic_get(queue, no_ack=False)
        return message is not None  # closing without an ack returns it to the queue
    finally:
        connection.collect()


def test_quorum_queues_with_delivery_limit_and_dead_lettering(run_service, rpc, amqp_uri):
    vhost = vhost_of(amqp_uri)
    out = pcops(
        "rabbitmq",
        "apply",
        "--vhost",
        vhost,
        "--service",
        PROBE,
        "--delivery-limit",
        str(DELIVERY_LIMIT),
        amqp_uri=amqp_uri,
    )
    assert "1 policies set" in out
    container = run_service(PROBE, EVENT_MAX_ATTEMPTS=2, EVENT_RETRY_BASE_MS=50)

    # Every durable queue of the chassis and nameko is a quorum queue; the event queue carries the policy.
    found = queues(amqp_uri)
    for name in (
        topology.main_queue(PROBE_SUB),
        topology.retry_queue(PROBE_SUB),
        topology.dead_letter_queue(PROBE_SUB),
        "rpc-chassis_probe",
    ):
        assert found[name][0] == "quorum", (name, found[name])
    assert found[topology.main_queue(PROBE_SUB)][1] == "pc-evt-chassis-probe-on-probed"

    # RPC, events and the chassis' own retry-then-park work unchanged on quorum queues.
    recorded = rpc.chassis_probe.record("q-1")["event_id"]
    assert [e["event_id"] for e in eventually(lambda: rpc.chassis_probe.effects("q-1"))] == [recorded]
    rpc.chassis_probe.set_failing("q-2", True)
    failing = rpc.chassis_probe.record("q-2")["event_id"]
    eventually(
        lambda: queue_depths(amqp_uri)[topology.dead_letter_queue(PROBE_SUB)][0] == 1,
        timeout=30,
        message="chassis parked the failing event (retry queue TTL works on quorum)",
    )

    # A delivery that kills its consumer every time: the broker's delivery limit parks it.
    container.stop()
    poison = Envelope(type="chassis.probed", source="test", payload={"probe_id": "q-3"})
    publish_envelope(amqp_uri, poison)
    crashes = 0
    while crash_while_handling(amqp_uri, topology.main_queue(PROBE_SUB)):
        crashes += 1
        assert crashes <= DELIVERY_LIMIT + 1, "the delivery limit did not stop the redeliveries"
    assert crashes == DELIVERY_LIMIT + 1
    parked = eventually(
        lambda: (
            pcops("deadletters", "list", PROBE, "--json", amqp_uri=amqp_uri)
            if queue_depths(amqp_uri)[topology.dead_letter_queue(PROBE_SUB)][0] == 2
            else None
        ),
        message="broker dead-lettered the poison delivery",
    )
    assert {p["event_id"] for p in parked} == {failing, str(poison.event_id)}

    # Ops fix the causes and replay both: each has exactly one effect.
    run_service(PROBE, DATABASE_URL=container.config["DATABASE_URL"])
    rpc.chassis_probe.set_failing("q-2", False)
    assert pcops("deadletters", "replay", PROBE, "--json", amqp_uri=amqp_uri)["replayed"] == {"on_probed": 2}
    for probe_id, event_id in (("q-2", failing), ("q-3", str(poison.event_id))):
        effects = eventually(
            lambda probe_id=probe_id: rpc.chassis_probe.effects(probe_id), message=f"{probe_id} replayed"
        )
        assert [e["event_id"] for e in effects] == [event_id]
    # quorum queues report their depth with a few seconds' delay
    eventually(
        lambda: queue_depths(amqp_uri)[topology.dead_letter_queue(PROBE_SUB)] == (0, 0),
        message="dead-letter queue empty after the replay",
    )
