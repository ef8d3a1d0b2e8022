"""The transactional outbox and its relay: nothing committed is lost, even to
kill -9; two relays never publish a row twice; unroutable events stay pending."""

import json
from contextlib import contextmanager

import eventlet
import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from chassis import contracts
from chassis.contracts import Subscription
from chassis.envelope import Envelope
from chassis.outbox import Relay
from chassis.testing import eventually, wait_until_serving
from chassis.topology import connect, declare_subscription, main_queue

from .broker import queue_depths


def pending_outbox(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]


def test_event_committed_before_a_kill_9_is_delivered_after_restart(
    service_process, make_database, probe_path, amqp_uri, rpc
):
    url = make_database(probe_path)
    probe = service_process(probe_path, database_url=url)
    # The relay kills its own process with SIGKILL right after the business
    # transaction committed and before anything was published.
    probe.start(PC_FAULT_INJECT="kill_before_publish")
    wait_until_serving(rpc, "chassis_probe")
    rpc.chassis_probe.record.call_async("crash-1")  # no reply expected: the process dies first
    assert probe.wait_exit(timeout=30) == -9
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT note FROM probe_records WHERE probe_id = 'crash-1'").fetchone() == ("",)
    assert pending_outbox(url) == 1

    probe.start()  # restarted without the fault
    effects = eventually(lambda: rpc.chassis_probe.effects("crash-1"), timeout=30, message="event delivered")
    assert len(effects) == 1
    assert pending_outbox(url) == 0


@pytest.fixture
def collector(amqp_uri):
    """A subscriber queue of the tests' own, to count what the relays publish."""
    sub = contracts.subscribe("chassis.probed", "test_collector", "collect")
    connection = connect(amqp_uri)
    declare_subscription(connection.channel(), sub)
    connection.collect()
    yield sub
    contracts.SUBSCRIPTIONS.discard(sub)


def drain(amqp_uri, queue):
    connection = connect(amqp_uri)
    channel = connection.channel()
    ids = []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        ids.append(json.loads(message.body)["event_id"])
    connection.collect()
    return ids


def fill_outbox(url, count, event_type="chassis.probed"):
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO outbox (event_id, event_type, body) VALUES (%s, %s, %s)",
            [
                (e.event_id, e.type, Jsonb(e.model_dump(mode="json")))
                for e in (Envelope(type=event_type, source="test", payload={"probe_id": f"p{i}"}) for i in range(count))
            ],
        )


@contextmanager
def relay_on(url, amqp_uri, batch_size):
    pool = ConnectionPool(url, min_size=1, max_size=2, kwargs={"row_factory": dict_row}, open=True)
    relay = Relay(pool.connection, amqp_uri, batch_size=batch_size)
    try:
        yield relay
    finally:
        relay.close()
        pool.close()


def test_two_relays_running_at_once_publish_each_event_once(make_database, amqp_uri, collector, probe_path):
    url = make_database(probe_path)
    fill_outbox(url, 3000)
    claimed = {"a": 0, "b": 0}

    def run(name):
        with relay_on(url, amqp_uri, batch_size=100) as relay:
            while (n := relay.relay_batch()) > 0:
                claimed[name] += n
                eventlet.sleep(0)

    threads = [eventlet.spawn(run, name) for name in claimed]
    for thread in threads:
        thread.wait()

    published = drain(amqp_uri, main_queue(collector))
    assert len(published) == 3000
    assert len(set(published)) == 3000
    assert claimed["a"] > 0 and claimed["b"] > 0, claimed  # both relays really worked side by side
    assert claimed["a"] + claimed["b"] == 3000
    assert pending_outbox(url) == 0


def outbox_rows(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT published_at IS NOT NULL, attempts, last_error FROM outbox ORDER BY id").fetchall()


def test_event_that_comes_back_unroutable_stays_pending_with_the_reason(make_database, amqp_uri, collector, probe_path):
    url = make_database(probe_path)
    fill_outbox(url, 1)
    with relay_on(url, amqp_uri, batch_size=10) as relay:
        assert relay.relay_batch() == 1  # declares the subscribers' queues, then publishes
        connection = connect(amqp_uri)  # the queues vanish behind the relay's back
        channel = connection.channel()
        for sub in contracts.subscribers_of("chassis.probed"):
            channel.queue_delete(main_queue(sub))
        connection.collect()
        fill_outbox(url, 1)
        assert relay.relay_batch() == 1
        assert relay.relay_batch() == 0  # backing off, not hammering the broker
    (first, second) = outbox_rows(url)
    assert first == (True, 0, None)
    assert second[0] is False and second[1] == 1 and second[2].startswith("unroutable")


def test_event_type_nobody_subscribes_to_is_settled_not_retried_forever(
    make_database, amqp_uri, probe_path, monkeypatch
):
    url = make_database(probe_path)
    monkeypatch.setattr(contracts, "SUBSCRIPTIONS", set())
    fill_outbox(url, 2)
    with relay_on(url, amqp_uri, batch_size=10) as relay:
        assert relay.relay_batch() == 2
        assert relay.relay_batch() == 0
    assert outbox_rows(url) == [(True, 0, "no subscribers")] * 2


def test_relay_declares_subscriber_queues_so_a_late_consumer_still_gets_the_event(
    run_service, rpc, probe_path, amqp_uri, make_database
):
    url = make_database(probe_path)
    fill_outbox(url, 1)
    with relay_on(url, amqp_uri, batch_size=10) as relay:  # the consumer has never started
        assert relay.relay_batch() == 1
    assert queue_depths(amqp_uri)[main_queue(Subscription("chassis.probed", "chassis_probe", "on_probed"))] == (1, 0)
    run_service(probe_path, DATABASE_URL=url)
    eventually(lambda: rpc.chassis_probe.effects("p0"), message="late consumer got the event")
