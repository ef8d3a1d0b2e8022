"""Request bodies of the accounts routes (api.md, Accounts). Strict: unknown
fields, wrong types and NUL characters are a 422 naming the field."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StrictStr, field_validator, model_validator

from chassis.scopes import ALL_SCOPES
from chassis.validation import Strict
from chassis.paging import PageQuery

from .domain import CATEGORIES

LoginId = Annotated[StrictStr, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")]
Password = Annotated[StrictStr, Field(min_length=8, max_length=128)]
PersonName = Annotated[StrictStr, Field(min_length=1, max_length=50)]
Phone = Annotated[StrictStr, Field(min_length=8, max_length=20, pattern=r"^\+?[0-9][0-9 -]{6,18}[0-9]$")]
Role = Literal["admin", "master", "member"]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Text = Annotated[StrictStr, Field(min_length=1, max_length=200)]
LongText = Annotated[StrictStr, Field(max_length=5000)]


class SignUp(Strict):
    login_id: LoginId
    password: Password
    name: PersonName
    phone: Phone
    agree_terms: StrictBool

    @field_validator("agree_terms")
    @classmethod
    def _agreed(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("the terms of service must be agreed to (R-ACC-1)")
        return value


class PasswordChange(Strict):
    """R-ACC-16: the old password proves it is the member; the new one differs."""
    old_password: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    new_password: Password

    @model_validator(mode="after")
    def _differs(self):
        if self.old_password == self.new_password:
            raise ValueError("new_password must differ from old_password")
        return self


class Login(Strict):
    login_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class ProfileUpdate(Strict):
    name: PersonName | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.name is None and self.phone is None:
            raise ValueError("send name or phone")
        return self


class Withdraw(Strict):
    confirm: StrictBool

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("withdrawal must be confirmed (R-ACC-3)")
        return value


class PartnerCreate(Strict):
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    category: Category
    business_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{3}-?[0-9]{2}-?[0-9]{5}$")]
    via_agency: StrictBool = False


# Issue 17 item 14: the partner's messenger channel (its public id, e.g. "@daonhair" or
# "_xYzAb") and a map link per place, both optional.
ChannelId = Annotated[StrictStr, Field(min_length=2, max_length=64, pattern=r"^[@_]?[A-Za-z0-9_.-]+$")]
MapUrl = Annotated[StrictStr, Field(max_length=500, pattern=r"^https?://[^\s]+$")]


class PartnerUpdate(Strict):
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    business_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{3}-?[0-9]{2}-?[0-9]{5}$")] | None = None
    channel_id: ChannelId | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise ValueError("send name, business_number or channel_id")
        return self


class Invite(Strict):
    login_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    role: Role


class RoleChange(Strict):
    role: Role


class PlaceCreate(Strict):
    name: Text
    address: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    phone: Phone | None = None
    info: LongText | None = None
    map_url: MapUrl | None = None


class PlaceUpdate(Strict):
    """Left out: unchanged. ``name`` and ``address`` may not be null: a place has
    both (issue 15, defect 1: null reached a NOT NULL column, a 500)."""
    name: Text = Field(None, json_schema_extra=lambda schema: schema.pop("default", None))
    address: Annotated[StrictStr, Field(min_length=1, max_length=300)] = Field(
        None, json_schema_extra=lambda schema: schema.pop("default", None))
    phone: Phone | None = None
    info: LongText | None = None
    map_url: MapUrl | None = None


class ApiKeyCreate(Strict):
    """R-ACC-13: at least one scope (chassis.scopes); ``expires_at`` in the future when given."""
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Literal[ALL_SCOPES]], Field(min_length=1, max_length=len(ALL_SCOPES))]  # type: ignore[valid-type]
    expires_at: AwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value):
        if value is not None and value <= datetime.now(timezone.utc):
            raise ValueError("must be in the future")
        return value


NoticeCategory = Literal["notice", "tip", "policy", "event"]   # 공지, 운영팁, 정책, 이벤트 (seed 000)


class NoticeCreate(Strict):
    title: Text
    body: Annotated[StrictStr, Field(min_length=1, max_length=20000)]
    category: NoticeCategory = "notice"
    important: StrictBool = False


class Verification(Strict):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=1000)] | None = None


class Rejection(Strict):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class VerifiedIdentity(Strict):
    """What the gateway read from a verified ID token (R-ACC-12); the phone
    is the token's E.164 ``phone_number``."""
    issuer: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    subject: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    phone_number: Annotated[StrictStr, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
    name: Annotated[StrictStr, Field(max_length=50)] | None = None


class ListQuery(PageQuery):
    """``?limit=&cursor=`` (api.md, Lists). Query values arrive as strings;
    unknown query parameters are ignored, unlike body fields."""
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class NoticeQuery(ListQuery):
    q: Annotated[str, Field(max_length=200)] | None = None
    category: NoticeCategory | None = None


class ClosePartner(Strict):
    """R-ACC-14: what becomes of the open bookings when the partner closes."""
    open_bookings: Literal["cancel", "serve"]
    confirm: Literal[True]


class PartnerQueueQuery(ListQuery):
    """The operators' queue (issue 18 item 13): partners in one status, oldest submission first."""
    status: Literal["pending_verification", "verified", "rejected", "closed"] = "pending_verification"
