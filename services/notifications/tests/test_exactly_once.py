"""R-NTF-1 under fire: 2,000 events, every one delivered twice, and the
service killed with kill -9 mid-stream then restarted, yield exactly one
message per recipient per event, one messenger push per message and one
webhook delivery per subscribed event: counted, not sampled."""

import random

from nameko.standalone.rpc import ClusterRpcProxy

from chassis.testing import eventually

from .support import WebhookReceiver, event, new_id, order, parked, publish, query, queues_settled, reservation, scalar

EVENTS = 2000
# kind -> messages per event with the fake accounts' three staff members
MIX = {"reservation.requested": 4, "order.received": 4, "reservation.completed": 1, "product.approved": 2}


def build_events(partner_id: str) -> list:
    kinds = list(MIX)
    events = []
    for i in range(EVENTS):
        kind = kinds[i % len(kinds)]
        customer_id = f"c-{i % 97}"
        if kind.startswith("reservation."):
            payload = reservation(partner_id, customer_id, number=f"R{i:05d}", status=kind.split(".")[1])
        elif kind == "order.received":
            payload = order(partner_id, customer_id)
        else:
            payload = {"partner_id": partner_id, "product_id": f"prod-{i}", "name": f"상품 {i}", "kind": "goods"}
        events.append(event(kind, payload))
    return events


def answers(amqp_uri) -> bool:
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=2) as rpc:
            return rpc.notifications.health()["status"] == "ok"
    except Exception:
        return False


def test_2000_events_each_delivered_twice_with_a_kill_9_mid_stream_give_exactly_one_message_per_recipient(
    start_accounts, service_process, make_database, amqp_uri, rpc
):
    partner_id = new_id("p")
    start_accounts(partner_id)
    db = make_database("notifications")
    # Deliveries leased by the killed process come back after 4 s instead of 35.
    env = {
        "PC_NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "true",
        "PC_NOTIFICATIONS_DELIVERY_POLL_INTERVAL": "0.1",
        "PC_NOTIFICATIONS_WEBHOOK_TIMEOUT": "2",
        "PC_NOTIFICATIONS_DELIVERY_LEASE_S": "4",
        "PC_LOG_LEVEL": "WARNING",
    }
    notifications = service_process("notifications", database_url=db, **env).start()
    eventually(lambda: answers(amqp_uri), timeout=30, interval=0.3, message="notifications up")

    with WebhookReceiver() as receiver:
        rpc.notifications.create_webhook(partner_id, {"url": receiver.url, "events": ["reservation.requested"]})
        events = build_events(partner_id)
        second_pass = events[:]
        random.Random(3).shuffle(second_pass)  # the duplicates arrive in another order, interleaved
        publish(amqp_uri, events + second_pass)

        expected_messages = sum(MIX[e.type] for e in events)
        eventually(
            lambda: scalar(db, "SELECT count(*) FROM messages") >= expected_messages // 4,
            timeout=60,
            interval=0.02,
            message="a quarter of the messages stored",
        )
        notifications.kill9()
        stored_at_kill = scalar(db, "SELECT count(*) FROM messages")
        assert 0 < stored_at_kill < expected_messages, "killed mid-stream"

        notifications.start(**env)
        eventually(
            lambda: scalar(db, "SELECT count(*) FROM messages") == expected_messages and queues_settled(amqp_uri, MIX),
            timeout=180,
            interval=0.5,
            message="every event handled after the restart",
        )

        # Counted: per event, exactly its recipients; over all, nothing twice and nothing missing.
        per_event = {
            r["source_id"]: r["n"]
            for r in query(db, "SELECT source_id::text, count(*) AS n FROM messages GROUP BY source_id")
        }
        assert len(per_event) == EVENTS
        assert all(per_event[str(e.event_id)] == MIX[e.type] for e in events)
        assert (
            query(
                db,
                """SELECT source_id, recipient_kind, recipient_id FROM messages
                            GROUP BY 1, 2, 3 HAVING count(*) > 1""",
            )
            == []
        )
        assert scalar(db, "SELECT count(*) FROM inbox") == EVENTS
        assert parked(amqp_uri) == {}

        # One messenger push per message, one webhook delivery per subscribed event, all sent.
        requested = [e for e in events if e.type == "reservation.requested"]
        eventually(
            lambda: scalar(db, "SELECT count(*) FROM deliveries WHERE status <> 'delivered'") == 0,
            timeout=120,
            interval=0.5,
            message="every delivery sent",
        )
        assert scalar(db, "SELECT count(*) FROM deliveries WHERE channel = 'messenger'") == expected_messages
        assert scalar(db, "SELECT count(DISTINCT message_id) FROM deliveries") == expected_messages
        assert scalar(db, "SELECT count(*) FROM deliveries WHERE channel = 'webhook'") == len(requested)
        # The endpoint got every delivery; it may see one twice only if the kill fell mid-send (at least once).
        received = {b["event_id"] for b in receiver.bodies()}
        assert received == {str(e.event_id) for e in requested}
        assert receiver.count() - len(received) <= 20
