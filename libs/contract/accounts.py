"""Accounts area of the HTTP contract (api.md, Accounts; R-ACC-1..16): the
request bodies and query strings the accounts service validates with (its
``schemas.py`` imports them from here, so the gateway declares and the
service checks the same class) and the responses the gateway sends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StrictStr, field_validator, model_validator

from chassis.paging import PageQuery
from chassis.scopes import ALL_SCOPES
from chassis.validation import Strict

from .common import Out, Page, Timestamp, examples, left_out_unchanged

# Partner categories (R-ACC-8, R-ACC-11): booking partners take reservations, the others orders.
BOOKING_CATEGORIES = ("salon", "studio", "exhibition", "activity", "restaurant", "lodging")
ORDER_CATEGORIES = ("cafe", "fashion")
CATEGORIES = BOOKING_CATEGORIES + ORDER_CATEGORIES

LoginId = Annotated[StrictStr, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")]
Password = Annotated[StrictStr, Field(min_length=8, max_length=128)]
PersonName = Annotated[StrictStr, Field(min_length=1, max_length=50)]
Phone = Annotated[StrictStr, Field(min_length=8, max_length=20, pattern=r"^\+?[0-9][0-9 -]{6,18}[0-9]$")]
Role = Literal["admin", "master", "member"]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
PartnerStatus = Literal["pending_verification", "verified", "rejected", "closed"]
Text = Annotated[StrictStr, Field(min_length=1, max_length=200)]
LongText = Annotated[StrictStr, Field(max_length=5000)]


# --- request bodies -------------------------------------------------------------------------


class SignUp(Strict):
    model_config = examples(
        {
            "login_id": "daon.kim",
            "password": "correct-horse-9",
            "name": "김다온",
            "phone": "010-1234-5678",
            "agree_terms": True,
        }
    )
    login_id: LoginId
    password: Password
    name: PersonName
    phone: Phone
    agree_terms: StrictBool = Field(json_schema_extra={"const": True})  # only true, in the document too (R-ACC-1)

    @field_validator("agree_terms")
    @classmethod
    def _agreed(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("the terms of service must be agreed to (R-ACC-1)")
        return value


class PasswordChange(Strict):
    """R-ACC-16: the old password proves it is the member; the new one differs."""

    model_config = examples({"old_password": "correct-horse-9", "new_password": "battery-staple-10"})
    old_password: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    new_password: Password

    @model_validator(mode="after")
    def _differs(self):
        if self.old_password == self.new_password:
            raise ValueError("new_password must differ from old_password")
        return self


class Login(Strict):
    model_config = examples({"login_id": "daon.kim", "password": "correct-horse-9"})
    login_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class ProfileUpdate(Strict):
    model_config = examples({"name": "김다온", "phone": "010-2345-6789"}, minProperties=1)  # send name or phone
    name: PersonName | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.name is None and self.phone is None:
            raise ValueError("send name or phone")
        return self


class Withdraw(Strict):
    model_config = examples({"confirm": True})
    # true only, in the document too (const): a false is no withdrawal, a 422 on confirm (R-ACC-3)
    confirm: Literal[True] = Field(description="withdrawal must be confirmed (R-ACC-3)")

    @field_validator("confirm", mode="before")
    @classmethod
    def _confirmed(cls, value):
        if value is not True:  # the JSON true itself: Literal[True] alone would take 1
            raise ValueError("withdrawal must be confirmed (R-ACC-3)")
        return value


BusinessNumber = Annotated[StrictStr, Field(pattern=r"^[0-9]{3}-?[0-9]{2}-?[0-9]{5}$")]


class PartnerCreate(Strict):
    model_config = examples({"name": "다온 헤어", "category": "salon", "business_number": "123-45-67890"})
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    category: Category
    business_number: BusinessNumber
    via_agency: StrictBool = False


# Issue 17 item 14: the partner's messenger channel (its public id, e.g. "@daonhair" or
# "_xYzAb") and a map link per place, both optional.
ChannelId = Annotated[StrictStr, Field(min_length=2, max_length=64, pattern=r"^[@_]?[A-Za-z0-9_.-]+$")]
MapUrl = Annotated[StrictStr, Field(max_length=500, pattern=r"^https?://[^\s]+$")]


class PartnerUpdate(Strict):
    model_config = examples(
        {"name": "다온 헤어 강남", "channel_id": "@daonhair"}, minProperties=1
    )  # send at least one field
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    business_number: BusinessNumber | None = None
    channel_id: ChannelId | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise ValueError("send name, business_number or channel_id")
        return self


class Invite(Strict):
    model_config = examples({"login_id": "minjun.lee", "role": "member"})
    login_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    role: Role


class RoleChange(Strict):
    model_config = examples({"role": "master"})
    role: Role


class PlaceCreate(Strict):
    model_config = examples(
        {
            "name": "강남점",
            "address": "서울 강남구 테헤란로 123",
            "phone": "02-123-4567",
            "map_url": "https://map.kakao.com/link/map/123",
        }
    )
    name: Text
    address: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    phone: Phone | None = None
    info: LongText | None = None
    map_url: MapUrl | None = None


class PlaceUpdate(Strict):
    """Left out: unchanged. ``name`` and ``address`` may not be null: a place has
    both (issue 15, defect 1: null reached a NOT NULL column, a 500)."""

    model_config = examples({"info": "주차 2시간 무료"})
    name: Text = left_out_unchanged()
    address: Annotated[StrictStr, Field(min_length=1, max_length=300)] = left_out_unchanged()
    phone: Phone | None = None
    info: LongText | None = None
    map_url: MapUrl | None = None


Scope = Literal[ALL_SCOPES]  # type: ignore[valid-type]


class ApiKeyCreate(Strict):
    """R-ACC-13: at least one scope (chassis.scopes); ``expires_at`` in the future when given."""

    model_config = examples(
        {"name": "POS 연동", "scopes": ["reservations:read", "orders:write"], "expires_at": "2027-12-31T00:00:00+09:00"}
    )
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(ALL_SCOPES))]
    expires_at: AwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value):
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


NoticeCategory = Literal["notice", "tip", "policy", "event"]  # 공지, 운영팁, 정책, 이벤트 (seed 000)


class NoticeCreate(Strict):
    model_config = examples(
        {
            "title": "설 연휴 정산 일정 안내",
            "body": "2월 정산은 연휴 다음 영업일에 지급됩니다.",
            "category": "policy",
            "important": True,
        }
    )
    title: Text
    body: Annotated[StrictStr, Field(min_length=1, max_length=20000)]
    category: NoticeCategory = "notice"
    important: StrictBool = False


class Verification(Strict):
    model_config = examples({}, {"reason": "사업자 상태 확인 완료"})
    reason: Annotated[StrictStr, Field(min_length=1, max_length=1000)] | None = None


class Rejection(Strict):
    model_config = examples({"reason": "사업자등록번호가 휴업 상태입니다"})
    reason: Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class VerifiedIdentity(Strict):
    """What the gateway read from a verified ID token (R-ACC-12); the phone
    is the token's E.164 ``phone_number``. An RPC argument, not an HTTP body."""

    issuer: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    subject: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    phone_number: Annotated[StrictStr, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
    name: Annotated[StrictStr, Field(max_length=50)] | None = None


class ClosePartner(Strict):
    """R-ACC-14: what becomes of the open bookings when the partner closes."""

    model_config = examples({"open_bookings": "cancel", "confirm": True})
    open_bookings: Literal["cancel", "serve"]
    confirm: Literal[True]


# --- query strings ---------------------------------------------------------------------------


class ListQuery(PageQuery):
    """``?limit=&cursor=`` (api.md, Lists). Query values arrive as strings;
    unknown query parameters are ignored, unlike body fields."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class NoticeQuery(ListQuery):
    q: Annotated[str, Field(max_length=200, description="words searched in titles, any order and case")] | None = None
    category: NoticeCategory | None = None


class PartnerQueueQuery(ListQuery):
    """The operators' queue (issue 18 item 13): partners in one status, oldest submission first."""

    status: PartnerStatus = "pending_verification"


# --- responses ---------------------------------------------------------------------------------


class Member(Out):
    """The owner's own view: the phone in full (R-ACC-2)."""

    model_config = examples(
        {
            "member_id": "5f0c6c1e-8a53-4f0e-9a51-0d7c5b1f2a10",
            "login_id": "daon.kim",
            "name": "김다온",
            "phone": "010-1234-5678",
            "kind": "member",
            "created_at": "2026-12-04T10:00:00+00:00",
        }
    )
    member_id: str
    login_id: str
    name: str
    phone: str
    kind: Literal["member", "operator"]
    created_at: Timestamp


class LoginSession(Out):
    model_config = examples(
        {
            "token": "pcs_...",
            "expires_at": "2026-12-04T22:00:00+00:00",
            "member_id": "5f0c6c1e-8a53-4f0e-9a51-0d7c5b1f2a10",
            "kind": "member",
            "must_change_password": False,
        }
    )
    token: str
    expires_at: Timestamp
    member_id: str
    kind: Literal["member", "operator"]
    must_change_password: bool


class CustomerSessionOut(Out):
    model_config = examples(
        {
            "token": "pcc_...",
            "customer_id": "0b6f2f3e-2b7c-4f58-9a0e-3d8e5f1c7a22",
            "expires_at": "2027-01-03T10:00:00+00:00",
        }
    )
    token: str
    customer_id: str
    expires_at: Timestamp


class Jwk(Out):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class Jwks(Out):
    keys: list[Jwk]


class MyPartner(Out):
    partner_id: str
    name: str
    category: Category
    role: Role
    status: PartnerStatus


class Landing(Out):
    """R-ACC-7: an admin lands on its partner's dashboard, others on the list."""

    screen: Literal["dashboard", "partner_list"]
    partner_id: str | None


class MyPartners(Page[MyPartner]):
    landing: Landing


class Invitation(Out):
    invitation_id: str
    partner_id: str
    role: Role
    status: Literal["pending", "accepted", "declined"]
    created_at: Timestamp


class MyInvitation(Invitation):
    partner_name: str
    partner_category: Category


class InvitationSent(Invitation):
    member_id: str


class InvitationAccepted(Out):
    invitation_id: str
    status: Literal["accepted"]
    partner_id: str
    name: str
    category: Category
    role: Role
    partner_status: PartnerStatus


class InvitationDeclined(Out):
    invitation_id: str
    status: Literal["declined"]
    partner_id: str


class Partner(Out):
    model_config = examples(
        {
            "partner_id": "9d1e7c62-3f4a-4b8e-8c1d-2a6b7e9f0c11",
            "name": "다온 헤어",
            "category": "salon",
            "business_number": "123-45-67890",
            "via_agency": False,
            "status": "verified",
            "status_reason": None,
            "time_zone": "Asia/Seoul",
            "channel_id": "@daonhair",
            "submitted_at": "2026-12-01T09:00:00+00:00",
            "created_at": "2026-12-01T09:00:00+00:00",
            "verified_at": "2026-12-02T09:00:00+00:00",
            "closed_at": None,
            "open_bookings": None,
        }
    )
    partner_id: str
    name: str
    category: Category
    business_number: str
    via_agency: bool
    status: PartnerStatus
    status_reason: str | None
    time_zone: str
    channel_id: str | None
    submitted_at: Timestamp | None
    created_at: Timestamp
    verified_at: Timestamp | None
    closed_at: Timestamp | None
    open_bookings: Literal["cancel", "serve"] | None = Field(description="what closing did to open bookings (R-ACC-14)")


class PartnerOfMine(Partner):
    """A partner as one of its staff sees it: with the caller's role."""

    role: Role


class Change(Out):
    before: Any
    after: Any


class PartnerResubmitted(PartnerOfMine):
    changes: dict[str, Change] = Field(
        description="each application field that differs from the rejected one (R-ACC-15)"
    )


class Application(Out):
    name: str
    category: Category
    business_number: str
    via_agency: bool
    places: list[str]


class Check(Out):
    item: str
    value: str | bool | list[str]
    check: str


class PreviousRejection(Out):
    reason: str | None
    rejected_at: Timestamp


class Submission(Out):
    kind: Literal["application", "resubmission"]
    submitted_at: Timestamp
    previous_rejection: PreviousRejection | None = None  # only for a re-submission
    changes: dict[str, Change] | None = None  # only for a re-submission


class QueuedPartner(Partner):
    """An application in the operators' queue (issue 18 item 13, R-ACC-15)."""

    application: Application
    submission: Submission
    checks: list[Check]


class Staff(Out):
    """A colleague: the phone masked unless it is the viewer's own."""

    member_id: str
    name: str
    phone: str | None
    role: Role
    joined_at: Timestamp


class Place(Out):
    model_config = examples(
        {
            "place_id": "c3a1...",
            "partner_id": "9d1e...",
            "name": "강남점",
            "address": "서울 강남구 테헤란로 123",
            "phone": "02-123-4567",
            "info": None,
            "map_url": None,
            "created_at": "2026-12-01T09:00:00+00:00",
            "updated_at": "2026-12-01T09:00:00+00:00",
        }
    )
    place_id: str
    partner_id: str
    name: str
    address: str
    phone: str | None
    info: str | None
    map_url: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ApiKey(Out):
    """A key as its partner's admins see it: never the key itself (R-ACC-13)."""

    api_key_id: str
    partner_id: str
    name: str
    key_prefix: str
    scopes: list[Scope]
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    created_by: str | None
    created_at: Timestamp


class ApiKeyCreated(ApiKey):
    key: str = Field(description="the key itself, shown this once")


class NoticeSummary(Out):
    notice_id: str
    title: str
    category: NoticeCategory
    important: bool
    created_at: Timestamp


class Notice(NoticeSummary):
    body: str


class DashboardPartner(Out):
    partner_id: str
    name: str
    category: Category
    status: PartnerStatus


class DashboardSection(Out):
    """One service's summary (its ``dashboard_summary``): ``counts`` by state and
    what else fits that service; ``{"counts": {}}`` when it did not answer."""

    model_config = ConfigDict(extra="allow")
    counts: dict[str, int]


class HelpLink(Out):
    label: dict[str, str]
    url: str


class Dashboard(Out):
    partner: DashboardPartner
    role: Role
    sections: dict[str, DashboardSection] = Field(
        description="by service: catalog, reservations or orders, insights, and settlement for admins and masters"
    )
    unavailable: list[str]
    notices: list[NoticeSummary]
    help: HelpLink | None


StaffPage = Page[Staff]
PlacePage = Page[Place]
ApiKeyPage = Page[ApiKey]
NoticePage = Page[Notice]
MyInvitationPage = Page[MyInvitation]
QueuedPartnerPage = Page[QueuedPartner]
