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
import ipaddress
import json
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from urllib.parse import urlsplit

import eventlet
import requests

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
        log.info("messenger_message", recipient_kind=payload.get("recipient_kind"),
                 recipient_id=payload.get("recipient_id"), title=payload.get("content", {}).get("ko", {}).get("title"),
                 delivery_id=delivery["id"])
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


class WebhookChannel(Channel):
    """POSTs the event as JSON with ``X-PC-Timestamp`` and ``X-PC-Signature``
    (``sha256=`` HMAC of ``"<timestamp>.<body>"`` with the webhook's secret).
    Only a 2xx answer counts as delivered; redirects are not followed. The
    whole exchange has one deadline (``WEBHOOK_TIMEOUT``), so an endpoint
    that trickles its answer cannot hold a worker slot. Private, loopback and
    link-local addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE`` (tests,
    local development): a partner must not make the platform call into its
    own network."""

    name = "webhook"

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
            domain.SIGNATURE_HEADER: domain.sign(delivery["secret"], timestamp, body),
            domain.EVENT_HEADER: delivery["source_type"],
            domain.DELIVERY_HEADER: delivery["id"],
        }
        try:
            self._check_address(delivery["url"])
            with eventlet.Timeout(self.timeout + 0.5):
                response = requests.post(delivery["url"], data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except eventlet.Timeout:
            return Outcome(False, None, f"timeout after {self.timeout}s")
        except requests.Timeout:
            return Outcome(False, None, f"timeout after {self.timeout}s")
        except BlockedAddress as exc:
            return Outcome(False, None, str(exc))
        except requests.RequestException as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code)
        return Outcome(False, response.status_code, f"HTTP {response.status_code}")

    def _check_address(self, url: str) -> None:
        if not self.allow_private:
            check_public_address(url)


def allows_private(config: dict) -> bool:
    return str(config.get("WEBHOOK_ALLOW_PRIVATE", False)).lower() in ("true", "1", "yes")


def check_public_address(url: str) -> None:
    """BlockedAddress unless every address the URL's host resolves to is public:
    checked when a webhook is created (issue 17 item 10: refused at once, not
    failing every delivery) and again on every delivery (DNS may change)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise BlockedAddress(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified):
            raise BlockedAddress(f"{parts.hostname} resolves to a non-public address")
