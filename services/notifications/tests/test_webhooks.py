"""Partner webhooks against a local HTTP receiver: signed deliveries, retries
on 500 and on timeout with backoff, disable after the failure limit with a
notice to the partner, and a slow endpoint never holding up the bus."""

import json
from itertools import pairwise

import pytest

from chassis.errors import NotFound, ValidationFailed
from chassis.testing import eventually
from notifications import domain

from .support import FAST, WebhookReceiver, event, new_id, order, publish, query, reservation, scalar


def assert_signed(request: dict, secret: str) -> dict:
    headers = request["headers"]
    timestamp = int(headers[domain.TIMESTAMP_HEADER])
    assert domain.verify(secret, timestamp, request["body"], headers[domain.SIGNATURE_HEADER])
    assert headers[domain.SIGNATURE_HEADER].startswith("sha256=")
    return json.loads(request["body"])


def test_deliveries_are_signed_logged_and_a_slow_endpoint_does_not_hold_up_the_inboxes(
    start_notifications, rpc, amqp_uri
):
    partner_id, customer_id = new_id("p"), new_id("c")
    db = start_notifications(partner_id, WEBHOOK_TIMEOUT=30)
    with WebhookReceiver(script=[("hold", 200), 200]) as receiver:
        hook = rpc.notifications.create_webhook(
            partner_id, {"url": receiver.url, "events": ["reservation.*"], "description": "PMS sync"}
        )
        assert hook["secret"].startswith("whsec_") and hook["status"] == "active"
        assert "secret" not in rpc.notifications.list_webhooks(partner_id)["items"][0]  # shown once
        first = event("reservation.requested", reservation(partner_id, customer_id))
        publish(amqp_uri, [first])
        eventually(lambda: receiver.count() == 1, message="first delivery reached the endpoint")

        # The endpoint holds the first request; events keep flowing into the inboxes meanwhile.
        more = [event("order.received", order(partner_id, customer_id)) for _ in range(20)]
        publish(amqp_uri, more)
        eventually(
            lambda: (
                scalar(db, "SELECT count(DISTINCT source_id) FROM messages WHERE source_type = 'order.received'") == 20
            ),
            message="inboxes filled while the webhook hangs",
        )
        assert not receiver.released.is_set() and receiver.count() == 1  # still held: the bus did not wait for it
        assert scalar(db, "SELECT count(*) FROM deliveries WHERE channel = 'webhook'") == 1  # orders not subscribed

        receiver.release()
        second = event("reservation.cancelled", reservation(partner_id, customer_id, actor="customer"))
        publish(amqp_uri, [second])
        eventually(lambda: receiver.count() == 2, message="second delivery")
        bodies = [assert_signed(r, hook["secret"]) for r in receiver.requests]
        assert [b["event_id"] for b in bodies] == [str(first.event_id), str(second.event_id)]
        assert bodies[0]["type"] == "reservation.requested" and bodies[0]["partner_id"] == partner_id
        assert bodies[0]["data"]["reservation_number"] == first.payload["reservation_number"]
        assert receiver.requests[0]["headers"][domain.EVENT_HEADER] == "reservation.requested"

        log = eventually(
            lambda: (
                lambda items: items if all(i["status"] == "delivered" for i in items) and len(items) == 2 else None
            )(rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"]),
            message="both logged delivered",
        )
        assert [i["event_id"] for i in log] == [str(second.event_id), str(first.event_id)]  # newest first
        assert [(a["attempt"], a["status_code"], a["error"]) for a in log[1]["attempt_log"]] == [(1, 200, None)]
        assert receiver.requests[0]["headers"][domain.DELIVERY_HEADER] == log[1]["id"]

    # Tenancy and validation: another partner sees no webhook; bad bodies name the field.
    with pytest.raises(NotFound):
        rpc.notifications.webhook_deliveries(new_id("p"), hook["id"])
    with pytest.raises(NotFound):
        rpc.notifications.enable_webhook(partner_id, "not-a-uuid")
    for bad, field in (
        ({"url": "ftp://x", "events": ["*"]}, "url"),
        ({"url": "https://x.example", "events": ["customer.erased"]}, "events"),
        ({"url": "https://x.example", "events": []}, "events"),
        ({"url": "https://x.example", "events": ["*"], "secret": "mine"}, "secret"),
    ):
        with pytest.raises(ValidationFailed) as failure:
            rpc.notifications.create_webhook(partner_id, bad)
        assert field in failure.value.details["fields"]


def test_retries_on_timeout_and_500_back_off_then_deliver_the_same_signed_delivery(start_notifications, rpc, amqp_uri):
    partner_id = new_id("p")
    start_notifications(partner_id, WEBHOOK_TIMEOUT=0.5)
    with WebhookReceiver(script=[("sleep", 2, 200), 500, 200]) as receiver:
        hook = rpc.notifications.create_webhook(partner_id, {"url": receiver.url, "events": ["order.received"]})
        publish(amqp_uri, [event("order.received", order(partner_id, new_id("c")))])
        eventually(
            lambda: (
                [d["status"] for d in rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"]]
                == ["delivered"]
            ),
            timeout=20,
            message="delivered on the third attempt",
        )
        delivery = rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"][0]
        assert [(a["attempt"], a["status_code"]) for a in delivery["attempt_log"]] == [(1, None), (2, 500), (3, 200)]
        assert "timeout" in delivery["attempt_log"][0]["error"]
        assert delivery["attempts"] == 3 and receiver.count() == 3
        ids = {r["headers"][domain.DELIVERY_HEADER] for r in receiver.requests}
        assert ids == {delivery["id"]}  # one delivery, retried: receivers dedupe by it
        for request in receiver.requests:
            assert_signed(request, hook["secret"])
        # Backoff: the n-th retry never comes sooner than half its nominal delay (0.2 s doubling).
        policy = domain.RetryPolicy(FAST["WEBHOOK_RETRY_BASE_S"], FAST["WEBHOOK_RETRY_CAP_S"], 5)
        starts = [a["started_at"] for a in delivery["attempt_log"]]
        from datetime import datetime

        gaps = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in pairwise(starts)]
        assert gaps[0] >= 0.5 + policy.nominal_delay(1) / 2  # the timed-out attempt took its 0.5 s first
        assert gaps[1] >= policy.nominal_delay(2) / 2


def test_failing_endpoint_is_retried_with_growing_gaps_then_disabled_and_the_managers_told(
    start_notifications, rpc, amqp_uri
):
    partner_id, customer_id = new_id("p"), new_id("c")
    db = start_notifications(partner_id)
    with WebhookReceiver(script=[500]) as receiver:
        hook = rpc.notifications.create_webhook(partner_id, {"url": receiver.url, "events": ["*"]})
        publish(amqp_uri, [event("reservation.completed", reservation(partner_id, customer_id))])
        eventually(
            lambda: rpc.notifications.get_webhook(partner_id, hook["id"])["status"] == "disabled",
            timeout=30,
            message="webhook disabled after the failure limit",
        )
        assert receiver.count() == FAST["WEBHOOK_MAX_ATTEMPTS"] == FAST["WEBHOOK_FAILURE_LIMIT"]

        # No retry storm: the n-th gap is at least half of 0.2 s * 2^(n-1), whatever the jitter, so the
        # schedule backs off (0.1, 0.2, 0.4, 0.8 s at least), and nothing more comes once it gave up.
        times = [r["at"] for r in receiver.requests]
        gaps = [b - a for a, b in pairwise(times)]
        policy = domain.RetryPolicy(FAST["WEBHOOK_RETRY_BASE_S"], FAST["WEBHOOK_RETRY_CAP_S"], 5)
        assert all(gap >= policy.nominal_delay(n) / 2 - 0.01 for n, gap in enumerate(gaps, 1)), gaps

        # The admin and the master are told, with links to the log and to enable it again; a member is not.
        def notices(member):
            items = rpc.notifications.list_partner_notifications(partner_id, f"{partner_id}-{member}", {"lang": "en"})
            return [m for m in items["items"] if m["kind"] == "webhook.disabled"]

        notice = eventually(lambda: notices("admin"), message="disable notice to the admin")[0]
        assert notice["title"] == "Webhook disabled" and receiver.url in notice["body"]
        assert [a["kind"] for a in notice["actions"]] == ["deliveries", "enable"]
        assert len(notices("master")) == 1 and notices("member") == []

        # Disabled: later events are not queued for it and nothing more reaches the endpoint.
        publish(amqp_uri, [event("reservation.requested", reservation(partner_id, customer_id))])
        eventually(lambda: scalar(db, "SELECT count(*) FROM inbox") == 3, message="later event handled")
        assert scalar(db, "SELECT count(*) FROM deliveries WHERE channel = 'webhook'") == 1
        log = rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"]
        assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("failed", 5, 500)]
        assert receiver.count() == 5

        # Enabled again by the partner: a fresh streak, and the next event goes out.
        receiver.script[:] = [200]
        enabled = rpc.notifications.enable_webhook(partner_id, hook["id"])
        assert enabled["status"] == "active" and enabled["consecutive_failures"] == 0
        publish(amqp_uri, [event("order.received", order(partner_id, customer_id))])
        eventually(lambda: receiver.count() == 6, message="delivered after re-enabling")
        eventually(
            lambda: (
                query(db, "SELECT status FROM deliveries WHERE channel = 'webhook' AND source_type = 'order.received'")
                == [{"status": "delivered"}]
            ),
            message="recorded delivered",
        )
