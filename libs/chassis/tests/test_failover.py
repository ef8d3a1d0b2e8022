"""Connections as production makes them: several brokers of a RabbitMQ cluster
(``;``-separated AMQP URIs, failover on connection loss) and libpq multi-host
URLs with ``target_session_attrs=read-write`` (a failed-over PostgreSQL is
found by every service itself). Here the first broker and the first database
host refuse; a service still serves RPC, relays its outbox and consumes its
events, and migrations work on the multi-host URL. The real failovers (a
broker node killed, a standby promoted) are shown by ``make proof CLUSTER=1``."""

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from chassis import topology
from chassis.migrations import apply_migrations, drop_database, ensure_database
from chassis.testing import POSTGRES_BASE, eventually, free_port


def refusing_broker(amqp_uri: str) -> str:
    """The same vhost on a port where no broker listens."""
    parts = urlsplit(amqp_uri)
    return urlunsplit(parts._replace(netloc=f"guest:guest@127.0.0.1:{free_port()}"))


def with_refusing_host_first(postgres_url: str) -> str:
    """``postgresql://u@h:p/db`` -> ``postgresql://u@127.0.0.1:<dead>,h:p/db?target_session_attrs=read-write``."""
    parts = urlsplit(postgres_url)
    user, _, hostport = parts.netloc.rpartition("@")
    netloc = f"{user}@127.0.0.1:{free_port()},{hostport}"
    return urlunsplit(parts._replace(netloc=netloc, query="target_session_attrs=read-write"))


def test_broker_uris_splits_a_failover_list():
    a, b = "pyamqp://u:p@n1:5681/pc", "pyamqp://u:p@n2:5682/pc"
    assert topology.broker_uris(f"{a};{b}") == [a, b]
    assert topology.broker_uris(f" {a} ; {b};") == [a, b]
    assert topology.broker_uris(a) == [a]
    with pytest.raises(ValueError):
        topology.broker_uris(" ; ")


def test_connect_takes_the_next_broker_when_the_first_refuses(amqp_uri):
    failover = f"{refusing_broker(amqp_uri)};{amqp_uri}"
    connection = topology.connect(failover)
    try:
        channel = connection.channel()
        topology.declare_events_exchange(channel)  # a working channel on the broker that answered
    finally:
        connection.collect()
    with pytest.raises(OSError):
        topology.connect(refusing_broker(amqp_uri))


def test_service_serves_relays_and_consumes_through_failover_lists(
    run_service, rpc, probe_path, amqp_uri, make_database
):
    database = with_refusing_host_first(make_database(probe_path))
    run_service(probe_path, AMQP_URI=f"{refusing_broker(amqp_uri)};{amqp_uri}", DATABASE_URL=database)
    published = rpc.chassis_probe.record("failover-1")  # RPC in, a write through the pool
    effects = eventually(
        lambda: rpc.chassis_probe.effects("failover-1"), timeout=30, message="event relayed and consumed"
    )  # outbox relay out, consumer in
    assert [e["event_id"] for e in effects] == [published["event_id"]]


def test_migrations_create_and_drop_a_database_by_a_multi_host_url(probe_path):
    url = with_refusing_host_first(f"{POSTGRES_BASE}/pc_test_failover_{uuid.uuid4().hex[:10]}")
    ensure_database(url)
    try:
        assert apply_migrations(url, probe_path)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT NOT pg_is_in_recovery()").fetchone() == (True,)
            assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] > 0
    finally:
        drop_database(url)
    with psycopg.connect(f"{POSTGRES_BASE}/postgres") as conn:
        assert (
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (psycopg.conninfo.conninfo_to_dict(url)["dbname"],)
            ).fetchone()
            is None
        )


def test_handler_failure_while_the_broker_link_fails_requeues_the_event_and_the_service_lives_on(
    run_service, rpc, probe_path, amqp_uri
):
    from nameko.amqp.publish import Publisher

    from chassis.consumer import EventHandler

    container = run_service(probe_path, EVENT_MAX_ATTEMPTS=3)
    handler = next(e for e in container.entrypoints if isinstance(e, EventHandler))
    # Setting the failed delivery aside (retry or dead-letter queue) cannot reach any broker.
    handler.publisher = Publisher(refusing_broker(amqp_uri), mandatory=True)
    requeued = []
    requeue = handler.queue_consumer.requeue_message
    handler.queue_consumer.requeue_message = lambda message: (requeued.append(message), requeue(message))
    rpc.chassis_probe.set_failing("requeue-1", True)
    event_id = rpc.chassis_probe.record("requeue-1")["event_id"]
    eventually(lambda: requeued, timeout=60, interval=0.2, message="the failed delivery requeued")
    rpc.chassis_probe.set_failing("requeue-1", False)
    effects = eventually(lambda: rpc.chassis_probe.effects("requeue-1"), timeout=60, message="event handled")
    assert [e["event_id"] for e in effects] == [event_id]
    assert not container._died.ready()  # the container carried on (it used to die here)
