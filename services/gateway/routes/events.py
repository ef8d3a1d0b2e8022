"""Live events for staff (api.md v1.1): ``GET /v1/partners/{pid}/events``.

A server-sent event stream of the calling staff member's new notifications
from this partner (new bookings and orders, cancellations, chats accepted,
products reviewed, ...: whatever notifications puts in the member's inbox,
R-NTF-1), for open consoles and partners' own systems signed in as a member.

The stream is fed by the notifications service's inbox, asked once a second
(``EVENTS_POLL_SECONDS``): the gateway keeps no state and needs no queue of
its own, and an inbox read is one indexed query. Each event is

    id: <message id>
    event: notification
    data: {"id", "kind", "title", "body", "actions", "created_at", ...}

(the inbox's own message, in Korean unless ``?lang=en`` or an English
``Accept-Language``). The first event, ``ready``, carries the newest message
id (``0`` when the inbox is empty), so a client that reconnects with
``Last-Event-ID`` (browsers do it by themselves) gets exactly what it missed,
oldest first. An id the gateway no longer finds within the newest
``RESUME_SCAN`` messages gets ``event: reset`` (reload your lists) and the
stream goes on from now.

A stream lasts ``EVENTS_STREAM_SECONDS`` (55 s) and ends with ``retry``, so
the client reconnects and is authorised again: a staff member removed from
the partner stops receiving within a minute. An API key has no inbox (403
``member_inbox_only``, as for the inbox itself).
"""

from __future__ import annotations

import json
import time

import eventlet
from werkzeug.wrappers import Response

from chassis.errors import DomainError
from chassis.logging import get_logger
from contract.notifications import EventsQuery

from ..http import route
from .notifications import inbox_owner, inbox_query

log = get_logger(__name__)

P = "/v1/partners/<pid>"
FROM_THE_START = "0"  # the ready event's id when the inbox is empty: everything after it is new
PAGE = 100  # the inbox's largest page
RESUME_SCAN = 5 * PAGE  # how far back a Last-Event-ID is looked for
RECONNECT_MS = 1000


def sse(event: str, data: dict, event_id: str | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, ensure_ascii=False, default=str)}"]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def unseen(pages, last_id: str | None, scan_limit: int = RESUME_SCAN) -> tuple[list[dict], bool]:
    """The messages newer than ``last_id``, oldest first, read from ``pages``
    (newest first, as the inbox lists them), and whether ``last_id`` was found.
    ``None`` means everything is new (the client saw an empty inbox)."""
    newer: list[dict] = []
    for page in pages:
        for message in page:
            if message["id"] == last_id:
                return newer[::-1], True
            newer.append(message)
            if len(newer) >= scan_limit:
                return [], False
    return newer[::-1], last_id is None


class InboxFeed:
    """Reads one member's inbox from this partner, newest first, page by page."""

    def __init__(self, notifications, partner_id: str, actor: dict, query: dict):
        self.notifications = notifications
        self.partner_id = partner_id
        self.actor = actor
        self.query = {key: value for key, value in query.items() if key == "lang"}

    def pages(self, first_limit: int = 20):
        cursor, limit = None, first_limit
        while True:
            query = {**self.query, "limit": limit, **({"cursor": cursor} if cursor else {})}
            page = self.notifications.list_partner_notifications(self.partner_id, self.actor, query)
            yield page["items"]
            cursor, limit = page["next_cursor"], PAGE
            if not cursor:
                return

    def newest_id(self) -> str:
        for page in self.pages(first_limit=1):
            return page[0]["id"] if page else FROM_THE_START
        return FROM_THE_START


def event_stream(feed: InboxFeed, start_id: str, resumed: bool, poll_seconds: float, lifetime_seconds: float):
    """The body of the stream (runs after the worker has answered, in the web
    server's green thread). A service that stops answering ends the stream;
    the client reconnects after ``retry``."""
    last_id = start_id
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    yield sse("ready", {"last_event_id": last_id}, last_id)
    ends_at = time.monotonic() + lifetime_seconds
    first = resumed
    while True:
        if not first:
            eventlet.sleep(poll_seconds)
        first = False
        try:
            messages, found = unseen(feed.pages(), None if last_id == FROM_THE_START else last_id)
            if not found:
                last_id = feed.newest_id()
                yield sse("reset", {"last_event_id": last_id}, last_id)
                messages = []
        except DomainError as exc:
            log.info("event_stream_ended", partner_id=feed.partner_id, code=exc.code)
            return
        except Exception as exc:
            log.warning("event_stream_failed", partner_id=feed.partner_id, error=repr(exc)[:300])
            return
        for message in messages:
            last_id = message["id"]
            yield sse("notification", message, last_id)
        if not messages:
            yield b": idle\n\n"  # keeps proxies from closing a quiet stream; tells us the client left
        if time.monotonic() >= ends_at:
            return


class EventsRoutes:
    @route(
        "GET",
        f"{P}/events",
        access="partner:read",
        query_model=EventsQuery,
        stream="text/event-stream",
        errors={403: ["member_inbox_only"]},
        description="Server-sent events (text/event-stream), R-NTF-1: first ``event: ready`` with "
        "``{last_event_id}``, then ``event: notification`` whose data is an inbox message (the "
        "MessageOut shape of the inbox) with ``id:`` its message id, ``event: reset`` when a "
        "Last-Event-ID is no longer found (reload your lists), ``: idle`` comments while quiet. "
        "A stream lasts about a minute and ends with ``retry``; the client reconnects with "
        "Last-Event-ID (header, or ``?last_event_id=``) and gets what it missed.",
        summary="server-sent events: my new notifications from this partner (bookings, orders, "
        "cancellations, chats); resumes from Last-Event-ID; ?lang=ko|en",
    )
    def partner_events(self, request, pid):
        request.environ["eventlet.minimum_write_chunk_size"] = 0  # each event leaves at once, not per 4 KiB
        feed = InboxFeed(self.services.notifications, pid, inbox_owner(request), inbox_query(request))
        given = (request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or "").strip()
        start_id = given[:64] if given else feed.newest_id()  # asked here, so a refusal is a clean 4xx
        body = event_stream(
            feed,
            start_id,
            bool(given),
            float(self.config.get("EVENTS_POLL_SECONDS", 1)),
            float(self.config.get("EVENTS_STREAM_SECONDS", 55)),
        )
        return Response(
            body,
            status=200,
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
