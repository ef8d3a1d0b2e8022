"""Webhooks cannot reach inside (issue 16): each non-global address class is
refused at registration; a name that re-binds to 127.0.0.1 after its check
cannot reach it (one lookup, the connection goes to the checked address;
tested with a stub resolver, no outside traffic); answers are read only up to
a cap; secrets are sealed at rest and rotate with an overlap."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from chassis.errors import ValidationFailed
from chassis.testing import eventually, free_port
from notifications import channels, domain

from .support import event, new_id, publish, reservation

NOT_GLOBAL = [
    "10.0.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "192.0.0.192",
    "192.168.1.1",
    "172.16.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "203.0.113.5",
    "198.18.0.1",
    "[::1]",
    "[fc00::1]",
    "[fe80::1]",
    "[::ffff:10.0.0.1]",
    "localhost",
    "metadata.internal",
]


class Endpoint:
    """An HTTP endpoint on one loopback address; ``endless`` streams an answer that never ends."""

    def __init__(self, address: str, port: int, endless: bool = False):
        self.requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.end_headers()
                try:
                    while endless:
                        self.wfile.write(b"x" * 65536)
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_every_non_global_address_class_is_refused_at_registration(start_notifications, rpc, monkeypatch):
    partner_id = new_id("p")
    start_notifications(partner_id, WEBHOOK_ALLOW_PRIVATE=False)
    monkeypatch.setattr(
        channels.WebhookChannel,
        "resolver",
        staticmethod(lambda host, port: {"inside.example": ["10.1.2.3"]}.get(host, ["93.184.216.34"])),
    )
    for host in NOT_GLOBAL + ["inside.example"]:
        with pytest.raises(ValidationFailed) as refused:
            rpc.notifications.create_webhook(partner_id, {"url": f"https://{host}/hook", "events": ["*"]})
        assert "url" in refused.value.details["fields"], host
    assert rpc.notifications.create_webhook(partner_id, {"url": "https://8.8.8.8/hook", "events": ["*"]})["id"]
    assert rpc.notifications.create_webhook(partner_id, {"url": "https://hooks.partner.example/x", "events": ["*"]})[
        "id"
    ]


def test_a_rebinding_name_cannot_reach_127_0_0_1_and_answers_are_read_up_to_a_cap(
    start_notifications, rpc, amqp_uri, monkeypatch
):
    partner_id, customer_id = new_id("p"), new_id("c")
    start_notifications(partner_id, WEBHOOK_ALLOW_PRIVATE=False)
    # The pretend internet is 127.0.0.2; 127.0.0.1 is the inside the name re-binds to after two answers.
    monkeypatch.setattr(domain, "address_refusal", lambda a: None if a == "127.0.0.2" else "not a global address")
    lookups = []

    def rebinding(host, port):
        lookups.append(host)
        return ["127.0.0.2"] if len(lookups) <= 2 else ["127.0.0.1"]

    monkeypatch.setattr(channels.WebhookChannel, "resolver", staticmethod(rebinding))
    port = free_port()
    outside, inside = Endpoint("127.0.0.2", port, endless=True), Endpoint("127.0.0.1", port)
    try:
        hook = rpc.notifications.create_webhook(
            partner_id, {"url": f"http://rebind.test:{port}/hook", "events": ["reservation.*"]}
        )  # lookup 1
        publish(amqp_uri, [event("reservation.requested", reservation(partner_id, customer_id))])
        log = eventually(
            lambda: [
                d
                for d in rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"]
                if d["status"] == "delivered"
            ],
            timeout=20,
            message="delivered",
        )  # lookup 2
        assert len(outside.requests) == 1 and inside.requests == []
        assert outside.requests[0]["headers"]["Host"] == f"rebind.test:{port}"
        assert log[0]["attempt_log"][0]["status_code"] == 200  # an endless answer, read up to the cap
        assert lookups == ["rebind.test", "rebind.test"]  # no second lookup for the connection

        # The next delivery's one lookup answers 127.0.0.1: refused, nothing reaches the inside.
        publish(amqp_uri, [event("reservation.cancelled", reservation(partner_id, customer_id, actor="customer"))])
        eventually(
            lambda: any(
                "not a global address" in (a["error"] or "")
                for d in rpc.notifications.webhook_deliveries(partner_id, hook["id"])["items"]
                for a in d["attempt_log"]
            ),
            timeout=20,
            message="refused at delivery",
        )
        assert inside.requests == [] and len(outside.requests) == 1
    finally:
        outside.close()
        inside.close()


def test_secrets_are_sealed_at_rest_and_rotate_with_an_overlap(start_notifications, rpc, amqp_uri):
    partner_id, customer_id = new_id("p"), new_id("c")
    db = start_notifications(partner_id)
    port = free_port()
    receiver = Endpoint("127.0.0.1", port)
    try:
        hook = rpc.notifications.create_webhook(
            partner_id, {"url": f"http://127.0.0.1:{port}/h", "events": ["reservation.*"]}
        )
        with psycopg.connect(db) as conn:
            clear, sealed = conn.execute("SELECT secret, secret_sealed FROM webhooks").fetchone()
        assert clear is None and hook["secret"].encode() not in bytes(sealed)

        rotated = rpc.notifications.rotate_webhook_secret(partner_id, hook["id"], {"overlap_hours": 1})
        assert rotated["secret"] != hook["secret"] and rotated["previous_secret_valid_until"]
        publish(amqp_uri, [event("reservation.requested", reservation(partner_id, customer_id))])
        eventually(lambda: len(receiver.requests) == 1, timeout=20, message="delivered during the overlap")
        request = receiver.requests[0]
        signature, timestamp = (
            request["headers"][domain.SIGNATURE_HEADER],
            int(request["headers"][domain.TIMESTAMP_HEADER]),
        )
        assert signature.count("sha256=") == 2
        for secret in (rotated["secret"], hook["secret"]):  # the receiver may still hold either
            assert domain.verify(secret, timestamp, request["body"], signature)

        final = rpc.notifications.rotate_webhook_secret(partner_id, hook["id"], {"overlap_hours": 0})
        publish(amqp_uri, [event("reservation.cancelled", reservation(partner_id, customer_id, actor="customer"))])
        eventually(lambda: len(receiver.requests) == 2, timeout=20, message="delivered after the overlap")
        request = receiver.requests[1]
        timestamp = int(request["headers"][domain.TIMESTAMP_HEADER])
        assert domain.verify(final["secret"], timestamp, request["body"], request["headers"][domain.SIGNATURE_HEADER])
        assert not domain.verify(
            rotated["secret"], timestamp, request["body"], request["headers"][domain.SIGNATURE_HEADER]
        )
        assert json.loads(request["body"])["type"] == "reservation.cancelled"
        with pytest.raises(ValidationFailed):
            rpc.notifications.rotate_webhook_secret(partner_id, hook["id"], {"overlap_hours": 1000})
    finally:
        receiver.close()


def test_a_host_or_port_no_lookup_can_take_is_refused_not_a_500():
    """Found by schemathesis (issue 15): a 64-character label failed in the idna codec, a 500."""
    for url in ("https://" + "a" * 64 + ".example/hook", "https://hooks.example:99999/hook"):
        with pytest.raises(channels.BlockedAddress):
            channels.checked_address(url, allow_private=False)
