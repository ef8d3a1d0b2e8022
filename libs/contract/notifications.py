"""The notifications area of the contract (../shared/api.md, Notifications; R-NTF-1..3,
R-RSV-11): request bodies and queries (the notifications service validates with
these very classes, ``services/notifications/schemas.py``) and the answers the
gateway serialises through."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator

from chassis import paging
from chassis.contracts import NOTIFIED_EVENTS
from chassis.paging import PageQuery
from chassis.validation import Strict

from .common import Out, Page, Timestamp, examples

ERASURE_EVENTS = frozenset({"member.withdrawn", "customer.erased"})
# What a partner's webhook may subscribe to: the partner-scoped events.
WEBHOOK_EVENTS = tuple(t for t in NOTIFIED_EVENTS if t not in ERASURE_EVENTS and t != "webhook.disabled")
WEBHOOK_SECRET_OVERLAP_HOURS = 24  # default window in which the previous secret still signs


def valid_event_pattern(pattern: str) -> bool:
    """An exact partner event type, ``<family>.*`` or ``*``."""
    if pattern == "*" or pattern in WEBHOOK_EVENTS:
        return True
    return pattern.endswith(".*") and any(t.startswith(pattern[:-1]) for t in WEBHOOK_EVENTS)


class ListQuery(PageQuery):
    """``?limit`` (default 20, clamped to 100) and ``?cursor`` (../shared/api.md, Lists):
    lists are newest first, and the cursor holds the id to continue below."""

    @property
    def before(self) -> int | None:
        found = paging.decode_cursor(self.cursor, int)  # 422 naming ``cursor`` when not one of ours
        return found[0] if found else None


class InboxQuery(ListQuery):
    """Messages newest first; ``lang`` picks the language of title, body and
    action labels (both are stored); ``unread=true`` lists unread ones only."""

    lang: Literal["ko", "en"] = "ko"
    unread: bool = False


class SecretRotation(Strict):
    """How long the previous secret keeps signing, 0 (at once) to a week."""

    overlap_hours: float = Field(WEBHOOK_SECRET_OVERLAP_HOURS, ge=0, le=168)


# An event type (``order.received``), a family (``order.*``) or ``*``: the document lists them
# all (the validator below says which one is unknown).
EVENT_PATTERNS = ("*", *sorted({t.split(".", 1)[0] + ".*" for t in WEBHOOK_EVENTS}), *WEBHOOK_EVENTS)
EventPattern = Annotated[
    str, Field(pattern=r"^(\*|[a-z_]+\.(\*|[a-z_.]+))$", json_schema_extra={"enum": list(EVENT_PATTERNS)})
]


class WebhookCreate(Strict):
    model_config = examples(
        {
            "url": "https://partner.example.com/hooks/pc",
            "events": ["reservation.*", "order.received"],
            "description": "예약·주문 알림",
        }
    )

    url: str = Field(
        max_length=2048, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^ ]*)?$"
    )  # http(s), a host
    events: list[EventPattern] = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=200)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http or https URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; the signature authenticates the sender")
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if not valid_event_pattern(e)]
        if unknown:
            raise ValueError(f"unknown event types {unknown}; use partner event types, '<family>.*' or '*'")
        return sorted(set(value))


Audience = Literal["all", "booked_on", "customers"]


class ChannelMessageCreate(Strict):
    """R-NTF-3. ``audience``: ``all`` (every customer who booked or ordered
    with the partner), ``booked_on`` (customers holding a requested or
    confirmed booking on ``use_date``: on-site guidance), or ``customers``
    (the listed ``customer_ids``, each a customer of this partner)."""

    model_config = examples(
        {
            "audience": "booked_on",
            "use_date": "2026-12-08",
            "kind": "notice",
            "title": "주차 안내",
            "body": "주차는 건물 뒤편을 이용해 주세요.",
        }
    )

    audience: Audience
    kind: Literal["coupon", "notice"]
    body: str = Field(min_length=1, max_length=1000)
    title: str | None = Field(None, min_length=1, max_length=100)
    coupon_code: str | None = Field(None, min_length=1, max_length=50, validate_default=True)
    use_date: dt.date | None = Field(None, validate_default=True)
    customer_ids: list[str] | None = Field(None, max_length=1000, validate_default=True)

    @field_validator("coupon_code")
    @classmethod
    def _code_for_coupons(cls, value, info: ValidationInfo):
        """A coupon message names its coupon (the gateway checks it is live, issue 18)."""
        if info.data.get("kind") == "coupon" and not value:
            raise ValueError("required for a coupon message: the code of one of your live coupons")
        if info.data.get("kind") == "notice" and value:
            raise ValueError("only for coupon messages")
        return value

    @field_validator("use_date")
    @classmethod
    def _date_for_booked_on(cls, value, info: ValidationInfo):
        if info.data.get("audience") == "booked_on" and value is None:
            raise ValueError("required when audience is booked_on")
        if info.data.get("audience") not in (None, "booked_on") and value is not None:
            raise ValueError("only for audience booked_on")
        return value

    @field_validator("customer_ids")
    @classmethod
    def _ids_for_customers(cls, value, info: ValidationInfo):
        if info.data.get("audience") == "customers" and not value:
            raise ValueError("required (at least one) when audience is customers")
        if info.data.get("audience") not in (None, "customers") and value is not None:
            raise ValueError("only for audience customers")
        if value and any(not isinstance(v, str) or not v or len(v) > 100 for v in value):
            raise ValueError("each must be a customer id")
        return value


class ConversationMessageCreate(Strict):
    model_config = examples({"body": "도착하시면 카운터로 와 주세요."})

    body: str = Field(min_length=1, max_length=2000)


class ChannelMessageIn(ChannelMessageCreate):
    """What a partner sends (R-NTF-3): ``ChannelMessageCreate`` or, with ``audience``
    ``segment`` (issue #11), a ``segment`` the insights service resolves into the
    partner's customers (422 naming ``segment`` when invalid, empty or over 1,000)."""

    audience: Literal["all", "booked_on", "customers", "segment"]  # type: ignore[assignment]  # one audience more
    segment: dict[str, Any] | None = Field(
        None, description="audience segment only: {visited_within_days, min_visits, min_total_spent}"
    )


class EventsQuery(Strict):
    """The live events stream: the inbox's language and where to resume (or the
    ``Last-Event-ID`` header, which browsers send by themselves)."""

    lang: Literal["ko", "en"] | None = None
    last_event_id: str | None = Field(None, description="resume after this message id (as Last-Event-ID)")


# --- answers --------------------------------------------------------------------------------


class MessageActionOut(Out):
    kind: str = Field(description="view, accept, decline, open_chat, ...")
    method: str
    href: str
    label: str


class MessageOut(Out):
    """An inbox message (R-NTF-1, R-NTF-3) in the language asked for (``?lang=ko|en``)."""

    id: str
    partner_id: str | None
    kind: str = Field(
        description="what it is about: the event type (reservation.requested, staff.invited, ...) "
        "or channel.notice / channel.coupon"
    )
    title: str
    body: str
    actions: list[MessageActionOut]
    created_at: Timestamp
    read_at: Timestamp | None


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    description: str
    status: Literal["active", "disabled"]
    consecutive_failures: int
    disabled_at: Timestamp | None
    disabled_reason: str | None
    created_at: Timestamp


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="signs every delivery (X-Signature); shown only here")


class DeliveryAttemptOut(Out):
    attempt: int
    started_at: Timestamp
    duration_ms: int
    status_code: int | None
    error: str | None


class DeliveryOut(Out):
    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "abandoned"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    attempt_log: list[DeliveryAttemptOut]


class AudienceOut(Out):
    audience: Literal["all", "booked_on", "customers"]
    use_date: dt.date | None
    customer_ids: list[str] | None


class ChannelMessageOut(Out):
    id: str
    kind: Literal["coupon", "notice"]
    audience: AudienceOut
    title: str
    body: str
    recipient_count: int
    created_at: Timestamp


class LastMessageOut(Out):
    author: Literal["partner", "customer"]
    body: str
    redacted: bool
    created_at: Timestamp


class ConversationOut(Out):
    """A conversation opened by an accepted chat invitation (R-RSV-11)."""

    id: str
    partner_id: str
    reservation_number: str
    unread: int
    last_message_at: Timestamp | None
    created_at: Timestamp
    customer_id: str | None = Field(None, description="the partner's list only")
    customer_name: str | None = Field(None, description="the partner's list only: masked")
    last_message: LastMessageOut | None = Field(None, description="left out while nothing was written")


class ChatMessageOut(Out):
    id: str
    author: Literal["partner", "customer"]
    body: str
    redacted: bool
    created_at: Timestamp
    member_id: str | None = Field(None, description="the partner's view: which colleague wrote it")


MessagePage = Page[MessageOut]
WebhookPage = Page[WebhookOut]
DeliveryPage = Page[DeliveryOut]
ChannelMessagePage = Page[ChannelMessageOut]
ConversationPage = Page[ConversationOut]
ChatMessagePage = Page[ChatMessageOut]
