"""Request schemas of the notifications entrypoints (validated with chassis.validation.parse)."""
from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator

from chassis import paging
from chassis.validation import Strict
from chassis.paging import PageQuery

from . import domain


class ListQuery(PageQuery):
    """``?limit`` (default 20, clamped to 100) and ``?cursor`` (../shared/api.md, Lists):
    lists are newest first, and the cursor holds the id to continue below."""

    @property
    def before(self) -> int | None:
        found = paging.decode_cursor(self.cursor, int)   # 422 naming ``cursor`` when not one of ours
        return found[0] if found else None


class InboxQuery(ListQuery):
    """Messages newest first; ``lang`` picks the language of title, body and
    action labels (both are stored); ``unread=true`` lists unread ones only."""
    lang: Literal["ko", "en"] = "ko"
    unread: bool = False


class SecretRotation(Strict):
    """How long the previous secret keeps signing, 0 (at once) to a week."""
    overlap_hours: float = Field(domain.WEBHOOK_SECRET_OVERLAP_HOURS, ge=0, le=168)


class WebhookCreate(Strict):
    url: str = Field(max_length=2048)
    events: list[str] = Field(min_length=1, max_length=100)
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
        unknown = [e for e in value if not domain.valid_event_pattern(e)]
        if unknown:
            raise ValueError(f"unknown event types {unknown}; use partner event types, '<family>.*' or '*'")
        return sorted(set(value))


Audience = Literal["all", "booked_on", "customers"]


class ChannelMessageCreate(Strict):
    """R-NTF-3. ``audience``: ``all`` (every customer who booked or ordered
    with the partner), ``booked_on`` (customers holding a requested or
    confirmed booking on ``use_date``: on-site guidance), or ``customers``
    (the listed ``customer_ids``, each a customer of this partner)."""
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
    body: str = Field(min_length=1, max_length=2000)


class OpenConversation(Strict):
    """What reservations may send when the customer accepts a chat invitation (R-RSV-11)."""
    partner_id: str = Field(min_length=1, max_length=100)
    customer_id: str = Field(min_length=1, max_length=100)
    reservation_number: str = Field(min_length=1, max_length=100)
    invitation_id: str = Field(min_length=1, max_length=100)
    conversation_id: str | None = Field(None, max_length=100)
    customer_name_masked: str | None = Field(None, max_length=100)   # shown in the partner's list (issue 17)
