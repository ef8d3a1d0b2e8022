"""The idempotent consumer: duplicates have one effect, failures are retried
(database down) and finally dead-lettered, never dropped."""

import subprocess
from pathlib import Path

from chassis.contracts import Subscription
from chassis.deadletters import list_dead_letters, replay_dead_letters
from chassis.envelope import Envelope
from chassis.errors import ServiceUnavailable
from chassis.testing import eventually
from chassis.topology import dead_letter_queue, main_queue, retry_queue

from .broker import publish_envelope, queue_depths

PROBE_SUB = Subscription("chassis.probed", "chassis_probe", "on_probed")


def probed(probe_id: str, correlation_id: str | None = None) -> Envelope:
    return Envelope(type="chassis.probed", source="test", payload={"probe_id": probe_id}, correlation_id=correlation_id)


def queue_settled(amqp_uri, queue):
    return queue_depths(amqp_uri).get(queue) == (0, 0)


def test_the_same_event_delivered_twice_has_one_effect(run_service, rpc, probe_path, amqp_uri):
    run_service(probe_path)
    event = probed("dup-1")
    publish_envelope(amqp_uri, event)
    publish_envelope(amqp_uri, event)
    # Both deliveries consumed and acked (neither waiting nor in flight) ...
    eventually(lambda: queue_settled(amqp_uri, main_queue(PROBE_SUB)), message="both deliveries handled")
    # ... and only one had an effect.
    assert [e["event_id"] for e in rpc.chassis_probe.effects("dup-1")] == [str(event.event_id)]
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (0, 0)


def test_correlation_id_crosses_rpc_and_events(run_service, amqp_uri, probe_path):
    from nameko.standalone.rpc import ClusterRpcProxy

    run_service(probe_path)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data={"correlation_id": "req-42"}) as rpc:
        assert rpc.chassis_probe.correlation() == "req-42"
        published = rpc.chassis_probe.record("corr-1")
        assert published["correlation_id"] == "req-42"
        effects = eventually(lambda: rpc.chassis_probe.effects("corr-1"), message="event handled")
    assert effects[0]["correlation_id"] == "req-42"


def postgres_cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        timeout=120,
    )


def test_handler_failing_while_postgres_is_stopped_processes_the_event_once_it_is_back(
    run_service, rpc, probe_path, amqp_uri
):
    run_service(probe_path, EVENT_MAX_ATTEMPTS=12, EVENT_RETRY_BASE_MS=100, DB_POOL_TIMEOUT=2)
    event = probed("pg-down-1")
    postgres_cluster("stop")
    try:
        publish_envelope(amqp_uri, event)
        # The handler fails (no database) and the delivery waits out its backoff in the retry queue.
        eventually(
            lambda: queue_depths(amqp_uri)[retry_queue(PROBE_SUB)][0] == 1,
            timeout=30,
            interval=0.2,
            message="failed delivery scheduled for retry",
        )
    finally:
        postgres_cluster("start")
    effects = eventually(
        lambda: effects_once_reachable(rpc, "pg-down-1"),
        timeout=60,
        interval=0.2,
        message="event processed after PostgreSQL came back",
    )
    assert [e["event_id"] for e in effects] == [str(event.event_id)]
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (0, 0)


def effects_once_reachable(rpc, probe_id: str) -> list | None:
    """The probe's effects, or None while its pool is still reconnecting (psycopg_pool
    retries with growing pauses, so the first seconds after a restart may be a 503)."""
    try:
        return rpc.chassis_probe.effects(probe_id)
    except ServiceUnavailable:
        return None


def test_handler_that_always_fails_is_dead_lettered_and_replayed_once_fixed(run_service, rpc, probe_path, amqp_uri):
    run_service(probe_path, EVENT_MAX_ATTEMPTS=3, EVENT_RETRY_BASE_MS=50)
    rpc.chassis_probe.set_failing("always-1", True)
    event_id = rpc.chassis_probe.record("always-1")["event_id"]

    parked = eventually(
        lambda: queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)][0] == 1,
        timeout=30,
        message="delivery parked in the dead-letter queue",
    )
    assert parked
    letters = list_dead_letters(amqp_uri, PROBE_SUB)
    assert [(letter["envelope"]["event_id"], letter["attempts"]) for letter in letters] == [(event_id, 3)]
    assert "ProbeFailure" in letters[0]["error"]
    assert rpc.chassis_probe.effects("always-1") == []  # every failed attempt rolled back
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (1, 0)  # listing leaves it parked

    rpc.chassis_probe.set_failing("always-1", False)  # ops fix the cause, then replay
    assert replay_dead_letters(amqp_uri, PROBE_SUB) == 1
    effects = eventually(lambda: rpc.chassis_probe.effects("always-1"), message="replayed event processed")
    assert [e["event_id"] for e in effects] == [event_id]
    assert queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)] == (0, 0)


def test_unreadable_message_is_parked_not_dropped(run_service, probe_path, amqp_uri):
    from kombu import Connection, Exchange, Producer

    run_service(probe_path)
    with Connection(amqp_uri) as connection:
        Producer(connection.default_channel).publish(
            {"not": "an envelope"},
            exchange=Exchange("pc.events", type="topic", durable=True),
            routing_key="chassis.probed",
            serializer="json",
        )
    eventually(
        lambda: queue_depths(amqp_uri)[dead_letter_queue(PROBE_SUB)][0] == 1, message="unreadable message parked"
    )
    assert "unreadable envelope" in list_dead_letters(amqp_uri, PROBE_SUB)[0]["error"]
