"""Live events for staff (issue 22, api.md v1.1): ``GET /v1/partners/{pid}/events``
streams the member's new notifications (R-NTF-1) and resumes from Last-Event-ID."""

from __future__ import annotations

import json
from typing import Any

import requests

from gateway.routes.events import unseen
from reservations.tests.helpers import booked, live_product


def read_events(response, wanted: int) -> list[tuple[str, str, dict]]:
    """(id, event, data) of the next ``wanted`` events of an open stream."""
    if not hasattr(response, "sse_lines"):  # one line reader per stream: it keeps what it has read ahead
        response.sse_lines = response.iter_lines(chunk_size=1, decode_unicode=True)
    events: list[tuple[Any, str, Any]] = []
    current: dict[str, str] = {}
    for line in response.sse_lines:
        if line == "":
            if "event" in current:
                events.append((current.get("id"), current["event"], json.loads(current["data"])))
                if len(events) == wanted:
                    return events
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events


def open_stream(pc, member, partner, last_event_id=None):
    headers = {"Authorization": f"Bearer {member.token}", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    response = requests.get(f"{pc.url}{partner.path}/events", headers=headers, stream=True, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


def test_R_NTF_1_a_new_booking_reaches_an_open_stream_and_a_reconnect_gets_what_it_missed(partner_center):
    pc = partner_center(
        "catalog",
        "reservations",
        "notifications",
        gateway_config={"EVENTS_POLL_SECONDS": 0.2, "EVENTS_STREAM_SECONDS": 30},
    )
    partner = pc.create_partner(category="salon")
    product = live_product(pc, partner)
    customer = pc.customer_session()

    stream = open_stream(pc, partner.admin, partner)
    ((ready_id, kind, _),) = read_events(stream, 1)
    assert kind == "ready"
    first = booked(customer, product)
    ((first_id, kind, message),) = read_events(stream, 1)
    assert kind == "notification" and message["kind"] == "reservation.requested"
    assert first["number"] in message["body"] + json.dumps(message["actions"])
    stream.close()

    second, third = booked(customer, product), booked(customer, product)
    resumed = open_stream(pc, partner.admin, partner, last_event_id=first_id)
    events = read_events(resumed, 3)
    resumed.close()
    assert [e[1] for e in events] == ["ready", "notification", "notification"]
    numbers = [e[2]["body"] + json.dumps(e[2]["actions"]) for e in events[1:]]
    assert second["number"] in numbers[0] and third["number"] in numbers[1]  # oldest first


def test_events_are_refused_to_an_api_key_and_to_another_partners_staff(partner_center):
    pc = partner_center("notifications")
    partner, other = pc.create_partner(), pc.create_partner()
    assert pc.api_key(partner).get(f"{partner.path}/events").status_code == 403
    outsider = requests.get(
        f"{pc.url}{partner.path}/events", timeout=10, headers={"Authorization": f"Bearer {other.admin.token}"}
    )
    assert outsider.status_code == 404


def test_unseen_reads_back_to_the_last_id_and_reports_an_unknown_one():
    pages = [[{"id": "c"}, {"id": "b"}], [{"id": "a"}]]
    assert unseen(iter(pages), "a") == ([{"id": "b"}, {"id": "c"}], True)
    assert unseen(iter(pages), "c") == ([], True)
    assert unseen(iter(pages), None) == ([{"id": "a"}, {"id": "b"}, {"id": "c"}], True)
    assert unseen(iter(pages), "zzz") == ([{"id": "a"}, {"id": "b"}, {"id": "c"}], False)
