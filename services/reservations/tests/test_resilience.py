"""R-RSV-3 and the booking's safety under concurrency, retries and crashes,
through the gateway with real service processes:

* oversell: 200 customers at once on one slot of capacity C, two reservations
  and two catalog processes: exactly C bookings, the rest 409
  capacity_exhausted, no 5xx, the board shows C; with cancellations
  interleaved a freed seat is booked again, never twice;
* idempotency: one key sent 50 times at once books once, 50 identical answers;
* crash: kill -9 of reservations during a stream of bookings loses no accepted
  booking (requests in flight are redelivered to the restarted process, which
  finishes them; retries with their key book once); then, deterministically, a
  process that dies right after the catalog held (PC_FAULT_INJECT) leaves a
  hold without a reservation: retried in time it becomes the booking, never
  retried the timer pass abandons it and gives the capacity back.
"""

import subprocess
import uuid

import eventlet
import psycopg
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from chassis.testing import eventually
from chassis.tests.broker import rpc_consumers
from support.api import Platform, expect
from support.fixtures import CHEAP_PASSWORD_HASHING, NO_RATE_LIMITS

from .helpers import booking_body, day, live_product

CUSTOMERS = 200
# Few workers each: the shared PostgreSQL has 100 connections for every test running.
QUIET = {"PC_LOG_LEVEL": "WARNING", "PC_RESERVATIONS_TIMERS": "false", "PC_MAX_WORKERS": "5"}


def scalar(url: str, sql: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture
def start_platform(run_service, gateway, service_process, make_database, amqp_uri, dev_issuer_key_file):
    """``start_platform(catalogs=, reservations=, gateway_config=None)``: accounts and the gateway in
    this process; reservations then catalog as real processes. (platform, reservations' database, processes)."""

    def start(*, catalogs: int, reservations: int, gateway_config: dict | None = None) -> tuple[Platform, str, list]:
        accounts = run_service("accounts", **CHEAP_PASSWORD_HASHING)
        catalog_url, reservations_url = make_database("catalog"), make_database("reservations")
        processes = [
            service_process("reservations", database_url=reservations_url, **QUIET).start() for _ in range(reservations)
        ]
        processes += [service_process("catalog", database_url=catalog_url, **QUIET).start() for _ in range(catalogs)]
        eventually(
            lambda: (
                rpc_consumers(amqp_uri, "rpc-catalog") == catalogs
                and rpc_consumers(amqp_uri, "rpc-reservations") == reservations
            ),
            timeout=90,
            interval=0.5,
            message="service processes consuming",
        )
        url = gateway(
            downstream=["accounts", "catalog", "reservations"],
            **{**NO_RATE_LIMITS, "OIDC_DEV_KEY_FILE": dev_issuer_key_file, **(gateway_config or {})},
        )
        return Platform(url, {"accounts": accounts}, dev_issuer_key_file), reservations_url, processes

    return start


def customers(pc: Platform, count: int) -> list:
    pool = eventlet.GreenPool(20)
    return list(pool.imap(lambda _: pc.customer_session(), range(count)))


def all_at_once(calls) -> list[requests.Response]:
    pool = eventlet.GreenPool(len(calls))
    return list(pool.imap(lambda call: call(), calls))


def outcome(responses) -> dict:
    counts: dict = {}
    for r in responses:
        key = r.status_code if r.status_code != 409 else f"409 {r.json()['error']['code']}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def booking_call(customer, product, time, key=None):
    body = booking_body(product, time=time)
    key = key or uuid.uuid4().hex
    return lambda: customer.client.post("/v1/shop/reservations", json=body, headers={"Idempotency-Key": key})


def slot_of(partner, product, time) -> dict:
    board = expect(
        partner.admin.client.get(
            f"{partner.path}/reservation-board?product_id={product['product_id']}&from={day()}&to={day()}"
        ),
        200,
    )
    return next(s for s in board["slots"] if s["time"] == time)


def test_r_rsv_3_no_oversell_with_two_processes_each_and_one_key_sent_50_times_books_once(
    start_platform,
):
    pc, url, processes = start_platform(catalogs=2, reservations=2, gateway_config={"RPC_TIMEOUT": 30})
    partner = pc.create_partner(category="exhibition")
    capacities = {"09:00": 1, "10:00": 25, "12:00": 10}
    product = live_product(
        pc, partner, slots=[{"date": day(), "time": t, "capacity": c} for t, c in capacities.items()]
    )
    people = customers(pc, CUSTOMERS)

    for time in ("09:00", "10:00"):
        capacity = capacities[time]
        counts = outcome(all_at_once([booking_call(c, product, time) for c in people]))
        assert counts == {201: capacity, "409 capacity_exhausted": CUSTOMERS - capacity}, (time, counts)
        slot = slot_of(partner, product, time)
        assert (slot["requested"], slot["booked_quantity"], slot["taken"], slot["remaining"]) == (
            capacity,
            capacity,
            capacity,
            0,
        )

    # Cancellations interleaved with a storm of new bookings: a freed seat is booked again, never twice.
    time, capacity = "12:00", capacities["12:00"]
    first = all_at_once([booking_call(c, product, time) for c in people[:capacity]])
    assert outcome(first) == {201: capacity}
    holders = {r.json()["number"]: c for r, c in zip(first, people[:capacity], strict=True)}
    cancels = [lambda n=n, c=c: c.client.post(f"/v1/shop/reservations/{n}/cancel", json={}) for n, c in holders.items()]
    storm = all_at_once(cancels + [booking_call(c, product, time) for c in people[capacity:]])
    assert all(r.status_code == 200 for r in storm[:capacity])
    rebooked = outcome(storm[capacity:])
    assert set(rebooked) <= {201, "409 capacity_exhausted"}, rebooked
    again = outcome(all_at_once([booking_call(c, product, time) for c in people[:50]]))
    assert rebooked.get(201, 0) + again.get(201, 0) == capacity, (rebooked, again)
    assert set(again) <= {201, "409 capacity_exhausted"}, again
    slot = slot_of(partner, product, time)
    assert (slot["requested"], slot["taken"], slot["remaining"]) == (capacity, capacity, 0)
    assert (
        scalar(url, "SELECT count(*) FROM reservations WHERE use_time = '12:00' AND status = 'requested'") == capacity
    )

    # Idempotency: one key, one body, 50 times at once (on both processes): one booking, one answer.
    widened = live_product(pc, partner, name="Wide", slots=[{"date": day(), "time": "10:00", "capacity": 100}])
    customer = people[0]
    replies = all_at_once([booking_call(customer, widened, "10:00", key="the-one-key")] * 50)
    assert {r.status_code for r in replies} == {201}
    assert len({r.text for r in replies}) == 1
    assert scalar(url, "SELECT count(*) FROM reservations WHERE product_id = %s", (widened["product_id"],)) == 1
    assert slot_of(partner, widened, "10:00")["taken"] == 1
    assert scalar(url, "SELECT count(*) FROM booking_intents WHERE state = 'pending'") == 0
    for process in processes:
        process.kill9()  # nothing left to finish: a quicker teardown than a graceful stop


def test_kill_9_during_a_booking_stream_loses_no_accepted_booking_and_leaks_no_capacity(
    start_platform, service_process, amqp_uri
):
    pc, url, (first, catalog) = start_platform(catalogs=1, reservations=1, gateway_config={"RPC_TIMEOUT": 3})
    partner = pc.create_partner(category="exhibition")
    product = live_product(
        pc, partner, slots=[{"date": day(), "time": "10:00", "capacity": 5000}], settings={"confirmation": "auto"}
    )
    people = customers(pc, 20)
    sent: list[tuple] = []  # (customer, key, response status, body)
    running = [True]

    def client(customer):
        while running[0]:
            key = uuid.uuid4().hex
            try:
                response = booking_call(customer, product, "10:00", key)()
                sent.append((customer, key, response.status_code, response.json()))
            except requests.RequestException:
                sent.append((customer, key, None, None))

    pool = eventlet.GreenPool(len(people))
    for customer in people:
        pool.spawn(client, customer)
    eventually(lambda: sum(1 for s in sent if s[2] == 201) >= 60, timeout=60, message="bookings flowing")
    first.kill9()
    eventlet.sleep(4)  # the stream goes on against no reservations process (503s)
    running[0] = False
    pool.waitall()
    second = restart(service_process, url, amqp_uri)

    accepted = [s for s in sent if s[2] == 201]
    refused = [s for s in sent if s[2] != 201]
    assert accepted and refused and {s[2] for s in refused} <= {503, None}, {s[2] for s in refused}
    # Every accepted booking survived the crash.
    for _, _, _, body in accepted:
        assert (
            expect(partner.admin.client.get(f"{partner.path}/reservations/{body['number']}"), 200)["status"]
            == "confirmed"
        )
    # Half of the failed requests are retried with their key: each books once (or replays).
    for customer, key, _, _ in refused[::2]:
        assert booking_call(customer, product, "10:00", key)().status_code == 201

    # Deterministic: a process that dies right after the catalog held, twice (keys K1, K2).
    second.kill9()
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:

        def taken():
            return rpc.catalog.slot_board(partner.partner_id, product["product_id"], day(), day())["slots"][0]["taken"]

        held_before = taken()
        for key in ("K1", "K2"):
            doomed = restart(service_process, url, amqp_uri, PC_FAULT_INJECT="kill_after_hold")
            assert booking_call(people[0], product, "10:00", key)().status_code == 503
            assert doomed.wait_exit() == -9
            # The request would be redelivered to the next process, which would finish it; drop it,
            # as if its caller had given up, so the attempt stays half done.
            subprocess.run(
                ["rabbitmqctl", "-q", "purge_queue", "-p", amqp_uri.rsplit("/", 1)[1], "rpc-reservations"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        assert taken() == held_before + 2  # held, and no reservation: leaked until reconciled
    third = restart(service_process, url, amqp_uri)
    k2 = booking_call(people[0], product, "10:00", "K2")()  # retried in time: the same hold becomes the booking
    assert k2.status_code == 201
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        # K1 is never retried: the pass abandons it (with the attempts of the stream that died) and
        # gives its hold back.
        abandoned = rpc.reservations.run_timers({"abandon_after_seconds": 0})["abandoned_attempts"]
        assert abandoned >= 1

        def consistent():
            rpc.reservations.run_timers({"abandon_after_seconds": 0})
            held = slot_of(partner, product, "10:00")["taken"]
            booked = scalar(url, "SELECT count(*) FROM reservations")
            pending = scalar(url, "SELECT count(*) FROM booking_intents WHERE state = 'pending'")
            return (held, booked) if held == booked and pending == 0 else None

        held, booked = eventually(consistent, timeout=60, interval=1, message="capacity held == bookings")
    assert booked >= len(accepted) + len(refused[::2]) + 1
    assert scalar(url, "SELECT count(*) FROM pending_releases") == 0
    # K1 retried after it was abandoned books afresh, with the next hold id; K2 replays.
    k1 = booking_call(people[0], product, "10:00", "K1")()
    assert k1.status_code == 201 and booking_call(people[0], product, "10:00", "K2")().json() == k2.json()
    assert slot_of(partner, product, "10:00")["taken"] == held + 1 == scalar(url, "SELECT count(*) FROM reservations")
    third.kill9()
    catalog.kill9()


def restart(service_process, url: str, amqp_uri: str, **env):
    process = service_process("reservations", database_url=url, **{**QUIET, **env}).start()
    eventually(
        lambda: rpc_consumers(amqp_uri, "rpc-reservations") == 1,
        timeout=90,
        interval=0.5,
        message="reservations started",
    )
    return process
