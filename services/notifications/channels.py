"""Delivery channels behind one small interface.

The in-app inbox is always written, in the consumer's own transaction (it is
the ``messages`` table). Every other channel is asynchronous: the consumer
queues a row in ``deliveries`` and the delivery worker (``worker.py``) calls
``Channel.send`` outside any transaction, retrying on failure. A channel only
sends and reports what happened; retries, logging of attempts and the webhook
disable rule are the worker's.

- ``WebhookChannel``: partner webhooks, signed with HMAC-SHA256.
- ``MessengerAdapter``: what a real KakaoTalk/SMS sender implements;
  ``LoggingMessenger`` is the default (it writes one log line per message).
  Another adapter is named in config: ``MESSENGER_ADAPTER: module:Class``.
"""

from __future__ import annotations

import importlib
import json
import socket
import time
from typing import Any
from abc import ABC, abstractmethod
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import eventlet
import urllib3

from chassis.logging import get_logger

from . import domain

log = get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


class Channel(ABC):
    name: str

    def __init__(self, config: dict):
        self.config = config

    @abstractmethod
    def send(self, delivery: dict) -> Outcome:
        """Send one delivery (a ``deliveries`` row: ``payload``, ``attempts``,
        and for webhooks ``url`` and ``secret``). Must not raise for an
        endpoint's failure: report it in the Outcome."""


class MessengerAdapter(Channel):
    """A push to the recipient's messenger. ``delivery["payload"]`` holds
    ``recipient_kind`` ("member" or "customer"), ``recipient_id``, ``content``
    (``{"ko": {"title", "body"}, "en": {...}}``) and ``actions`` (links). A
    real adapter looks up the recipient's contact and language and calls its
    provider; an answer other than success is a failed Outcome (retried)."""

    name = "messenger"


class LoggingMessenger(MessengerAdapter):
    def send(self, delivery: dict) -> Outcome:
        payload = delivery["payload"]
        log.info(
            "messenger_message",
            recipient_kind=payload.get("recipient_kind"),
            recipient_id=payload.get("recipient_id"),
            title=payload.get("content", {}).get("ko", {}).get("title"),
            delivery_id=delivery["id"],
        )
        return Outcome(True)


def load_messenger(config: dict) -> MessengerAdapter | None:
    """The adapter named by ``MESSENGER_ADAPTER`` (``none`` switches the channel off)."""
    dotted = str(config.get("MESSENGER_ADAPTER") or "notifications.channels:LoggingMessenger")
    if dotted.lower() in ("none", "off", "false"):
        return None
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)(config)


class BlockedAddress(Exception):
    pass


MAX_RESPONSE_BYTES = 16 * 1024  # an answer's status is what counts; its body is read only this far


def resolve(host: str | None, port: int) -> list[str]:
    """The addresses ``host`` resolves to (one lookup; tests put a stub resolver here)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def checked_address(url: str, allow_private: bool, resolver=None) -> str:
    """The one address a webhook URL is called at: its host resolved once, and
    every address it resolves to global (``ipaddress.is_global``: not private,
    loopback, link-local, shared 100.64.0.0/10, 192.0.0.0/24, documentation,
    multicast...), unless ``allow_private`` (tests, local development). The
    connection then goes to this address, never through a second lookup, so a
    name that re-binds to an inside address after the check cannot reach it."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = (resolver or resolve)(parts.hostname, port)
    except (OSError, ValueError) as exc:  # ValueError: a port out of range, a label idna cannot encode (was a 500)
        raise BlockedAddress(f"cannot resolve {parts.hostname}: {exc}") from None
    if not addresses:
        raise BlockedAddress(f"{parts.hostname} has no address")
    if not allow_private:
        refused = [a for a in addresses if domain.address_refusal(a)]
        if refused:
            raise BlockedAddress(f"{parts.hostname} resolves to {refused[0]}: {domain.address_refusal(refused[0])}")
    return addresses[0]


def post_pinned(url: str, address: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST ``body`` to ``url`` over a connection to ``address`` (the checked
    one), with the URL's host in ``Host`` and, for https, in SNI and the
    certificate check. Redirects are not followed; the answer's body is read
    up to ``MAX_RESPONSE_BYTES``. Returns the status."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    options: dict[str, Any] = {
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    host = f"{parts.hostname}" if parts.port is None else f"{parts.hostname}:{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            response.read(MAX_RESPONSE_BYTES, decode_content=False)
        finally:
            response.release_conn()
        return response.status
    finally:
        pool.close()


def allows_private(config: dict) -> bool:
    """``WEBHOOK_ALLOW_PRIVATE``: tests and local development call endpoints on this machine."""
    return str(config.get("WEBHOOK_ALLOW_PRIVATE", False)).lower() in ("true", "1", "yes")


def destination_refusal(url: str, allow_private: bool) -> str | None:
    """Why a webhook may not be made for ``url``, or None (issue 16): a literal
    address must be global, and a name must resolve only to global addresses
    now. A name that does not resolve yet is taken: each delivery resolves and
    checks again, on the address it connects to (``checked_address``)."""
    if allow_private:
        return None
    refusal = domain.host_refusal(urlsplit(url).hostname or "")
    if refusal is not None:
        return refusal
    try:
        checked_address(url, allow_private, WebhookChannel.resolver)
    except BlockedAddress as exc:
        return None if str(exc).startswith("cannot resolve") else str(exc)
    return None


class WebhookChannel(Channel):
    """POSTs the event as JSON with ``X-PC-Timestamp`` and ``X-PC-Signature``
    (``sha256=`` HMAC of ``"<timestamp>.<body>"`` with the webhook's secret;
    while a rotated secret overlaps, a second ``,sha256=`` signature with the
    previous one). Only a 2xx answer counts as delivered; redirects are not
    followed. The whole exchange has one deadline (``WEBHOOK_TIMEOUT``), so an
    endpoint that trickles its answer cannot hold a worker slot, and only
    ``MAX_RESPONSE_BYTES`` of an answer are read. The address is checked and
    pinned (``checked_address``): a partner must not make the platform call
    into its own network."""

    name = "webhook"
    resolver = None  # None: the system's (socket.getaddrinfo); tests set a stub

    def __init__(self, config: dict):
        super().__init__(config)
        self.timeout = float(config.get("WEBHOOK_TIMEOUT", 5))
        self.allow_private = allows_private(config)

    def send(self, delivery: dict) -> Outcome:
        body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "partner-center-webhooks/1",
            domain.TIMESTAMP_HEADER: str(timestamp),
            domain.SIGNATURE_HEADER: ",".join(domain.sign(secret, timestamp, body) for secret in delivery["secrets"]),
            domain.EVENT_HEADER: delivery["source_type"],
            domain.DELIVERY_HEADER: delivery["id"],
        }
        try:
            address = checked_address(delivery["url"], self.allow_private, self.resolver)
            with eventlet.Timeout(self.timeout + 0.5):
                status = post_pinned(delivery["url"], address, body, headers, self.timeout)
        except eventlet.Timeout:
            return Outcome(False, None, f"timeout after {self.timeout}s")
        except BlockedAddress as exc:
            return Outcome(False, None, str(exc))
        except urllib3.exceptions.TimeoutError:
            return Outcome(False, None, f"timeout after {self.timeout}s")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= status < 300:
            return Outcome(True, status)
        return Outcome(False, status, f"HTTP {status}")
