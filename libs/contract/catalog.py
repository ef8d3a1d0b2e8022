"""Catalog area of the HTTP contract (api.md, Catalog; R-CAT-1..6): products
and their review, inventory and blocks, the shop's view, product questions.
The request bodies and query strings are the very classes the catalog service
validates with (its ``schemas.py`` imports them from here); the responses are
what the gateway sends."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from chassis.paging import PageQuery
from chassis.rpc_contracts import CancelPolicyFields, FeeTierFields
from chassis.validation import Strict

from .common import Out, Page, Timestamp, examples

CLIENT_ID = r"^[A-Za-z0-9_-]{1,40}$"  # price and option ids (server-made or kept from a revision)
URL = Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")]
Label = Annotated[str, Field(min_length=1, max_length=50)]

Kind = Literal["booking", "goods"]
ScheduleType = Literal["datetime", "date", "anytime"]  # R-CAT-1
QuantityMode = Literal["slot", "date", "period", "none"]  # R-CAT-2
Payment = Literal["none", "prepaid"]  # R-CAT-6
GoodsType = Literal["menu", "shop"]  # cafe menu items, shop goods
DisplayState = Literal["bookable", "unavailable", "closed", "upcoming"]  # R-CAT-4
ReviewStatus = Literal["draft", "pending", "approved", "rejected"]  # R-CAT-5
HHMM = Annotated[str, Field(pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="HH:MM, the partner's local time")]


def minute_time(value: dt.time) -> dt.time:
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError("use HH:MM, in the partner's local time")
    return value


MinuteTime = Annotated[dt.time, AfterValidator(minute_time)]


# --- request bodies -------------------------------------------------------------------------


class PriceIn(Strict):
    """A price per person type (R-CAT-3) with an optional maximum quantity (R-CAT-2)."""

    price_id: str | None = Field(None, pattern=CLIENT_ID)
    label: Label
    amount: int = Field(ge=0, le=100_000_000)
    max_quantity: int | None = Field(None, ge=1, le=1_000_000)


class OptionIn(Strict):
    """A goods option (colour, size, ...) with its own price (R-CAT-3)."""

    option_id: str | None = Field(None, pattern=CLIENT_ID)
    label: Label
    amount: int = Field(ge=0, le=100_000_000)
    attributes: dict[Annotated[str, Field(min_length=1, max_length=30)], Annotated[str, Field(max_length=50)]] = Field(
        default_factory=dict, max_length=5
    )


class FeeTierIn(Strict):
    """Cancelling less than ``hours_before`` the use costs ``fee_percent`` of the amount."""

    hours_before: int = Field(ge=1, le=24 * 365)
    fee_percent: int = Field(ge=0, le=100)


class CancelPolicyIn(Strict):
    deadline_hours_before: int = Field(24, ge=0, le=24 * 365)
    fee_tiers: list[FeeTierIn] = Field(default_factory=list, max_length=10)
    non_refundable: bool = False
    auto_cancel_unused: bool = False


class ReviewFieldsIn(Strict):
    """Fields that go through review (R-CAT-5); None means "not given"."""

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=5000)
    images: list[URL] | None = Field(None, max_length=20)
    schedule_type: ScheduleType | None = None
    quantity_mode: QuantityMode | None = None
    prices: list[PriceIn] | None = Field(None, max_length=30)
    options: list[OptionIn] | None = Field(None, max_length=100)
    goods_type: GoodsType | None = None
    place_id: str | None = Field(None, max_length=64)
    payment: Payment | None = None
    cancel_policy: CancelPolicyIn | None = None


class SettingsIn(Strict):
    """Fields that apply at once, without review: the sale window and a pause switch."""

    sale_starts_at: AwareDatetime | None = None
    sale_ends_at: AwareDatetime | None = None
    paused: bool | None = None


class ProductCreate(ReviewFieldsIn, SettingsIn):
    model_config = examples(
        {
            "kind": "booking",
            "name": "디자인 컷",
            "description": "샴푸와 스타일링 포함",
            "schedule_type": "datetime",
            "quantity_mode": "slot",
            "prices": [{"label": "성인", "amount": 30000}],
            "payment": "prepaid",
            "cancel_policy": {"deadline_hours_before": 24, "fee_tiers": [{"hours_before": 48, "fee_percent": 10}]},
        },
        {
            "kind": "goods",
            "name": "아메리카노",
            "goods_type": "menu",
            "options": [{"label": "ICE", "amount": 4500, "attributes": {"temperature": "ice"}}],
        },
    )
    kind: Kind
    name: str = Field(min_length=1, max_length=100)


class ProductPatch(ReviewFieldsIn, SettingsIn):
    """Any subset of the fields; ``kind`` never changes."""

    model_config = examples({"description": "샴푸, 드라이 포함"}, {"paused": True})


class SlotIn(Strict):
    """One offered date (and time, for ``datetime`` products) with its capacity."""

    date: dt.date
    time: MinuteTime | None = None
    capacity: int | None = Field(None, ge=0, le=1_000_000)


class SlotRef(Strict):
    date: dt.date
    time: MinuteTime | None = None


class StockIn(Strict):
    """Units available now for sale; null stops tracking (unlimited)."""

    option_id: str = Field(pattern=CLIENT_ID)
    quantity: int | None = Field(ge=0, le=10_000_000)


class InventoryIn(Strict):
    model_config = examples(
        {
            "slots": [
                {"date": "2026-12-24", "time": "10:00", "capacity": 3},
                {"date": "2026-12-24", "time": "11:00", "capacity": 3},
            ]
        },
        {"stock": [{"option_id": "op_1a2b3c4d5e6f", "quantity": 20}]},
    )
    slots: list[SlotIn] = Field(default_factory=list, max_length=5000)
    remove_slots: list[SlotRef] = Field(default_factory=list, max_length=5000)
    period_capacity: int | None = Field(None, ge=0, le=10_000_000)
    stock: list[StockIn] = Field(default_factory=list, max_length=100)


class TimeRef(Strict):
    date: dt.date
    time: MinuteTime


class BlocksIn(Strict):
    """Close whole dates, or single times of a date (at least one of the two)."""

    model_config = examples(
        {"dates": ["2026-12-25"], "reason": "성탄절 휴무"},
        {"times": [{"date": "2026-12-24", "time": "10:00"}]},
        anyOf=[
            {"required": ["dates"], "properties": {"dates": {"minItems": 1}}},
            {"required": ["times"], "properties": {"times": {"minItems": 1}}},
        ],
    )
    dates: list[dt.date] = Field(default_factory=list, max_length=366)
    times: list[TimeRef] = Field(default_factory=list, max_length=2000)
    reason: str = Field("", max_length=200)


class ReasonIn(Strict):
    model_config = examples({"reason": "상품 이미지에 연락처가 포함되어 있습니다"})
    reason: str = Field(min_length=1, max_length=500)


class ApproveIn(Strict):
    model_config = examples({}, {"reason": "확인 완료"})
    reason: str = Field("", max_length=500)


class QuestionIn(Strict):
    """A question about a product before buying (issue 18 item 12); ``private``: only
    the asker and the partner read it."""

    model_config = examples({"body": "주말에도 예약할 수 있나요?", "private": False})
    body: str = Field(min_length=1, max_length=2000)
    private: bool = False


class AnswerIn(Strict):
    model_config = examples({"body": "네, 토요일은 18시까지 예약 가능합니다."})
    body: str = Field(min_length=1, max_length=2000)


# --- query strings ---------------------------------------------------------------------------


class ListQuery(PageQuery):
    """?limit (default 20, clamped to 1..100) and ?cursor, as ../shared/api.md says."""

    kind: Kind | None = None
    status: Literal["pending", "approved", "rejected"] | None = None


class ShopListQuery(ListQuery):
    """The shop's list: one partner's approved products (R-CAT-4)."""

    partner_id: str = Field(min_length=1, max_length=64, description="the partner whose products to list")


class QuestionListQuery(PageQuery):
    answered: Literal["true", "false"] | None = None


# --- responses ---------------------------------------------------------------------------------


class Price(Out):
    price_id: str
    label: str
    amount: int
    max_quantity: int | None


class Option(Out):
    option_id: str
    label: str
    amount: int
    attributes: dict[str, str]


class FeeTier(FeeTierFields, Out):
    pass


class CancelPolicy(CancelPolicyFields[FeeTier], Out):
    """R-CAT-6: without payment always free until the deadline and completed after use."""


class ProductContent(Out):
    """What goes through review (R-CAT-5). Booking products carry schedule_type,
    quantity_mode, prices and cancel_policy; goods carry goods_type and options."""

    name: str
    description: str
    images: list[str]
    place_id: str | None
    payment: Payment
    schedule_type: ScheduleType | None = None  # booking only
    quantity_mode: QuantityMode | None = None  # booking only
    prices: list[Price] | None = None  # booking only
    cancel_policy: CancelPolicy | None = None  # booking only
    goods_type: GoodsType | None = None  # goods only
    options: list[Option] | None = None  # goods only


class LiveVersion(ProductContent):
    version: int
    revision_id: str
    approved_at: Timestamp | None


class OpenRevision(ProductContent):
    revision_id: str
    number: int
    status: Literal["draft", "pending"]
    created_at: Timestamp
    updated_at: Timestamp
    submitted_at: Timestamp | None
    changed_fields: list[str]


class LastRejection(Out):
    revision_id: str
    number: int
    reason: str | None
    rejected_at: Timestamp | None


class Settings(Out):
    sale_starts_at: Timestamp | None
    sale_ends_at: Timestamp | None
    paused: bool


class Product(Out):
    """The partner center's view: the live version and the open revision side by side (R-CAT-5)."""

    product_id: str
    partner_id: str
    kind: Kind
    name: str | None
    display_state: DisplayState
    review_status: ReviewStatus
    settings: Settings
    live: LiveVersion | None
    pending: OpenRevision | None
    last_rejection: LastRejection | None
    created_at: Timestamp
    updated_at: Timestamp


class Revision(Out):
    """A revision as the operator reviews it: its content, the live one, what changed (R-CAT-5)."""

    revision_id: str
    product_id: str
    partner_id: str
    kind: Kind
    number: int
    status: ReviewStatus
    submitted_at: Timestamp | None
    decided_at: Timestamp | None
    decided_by: str | None
    reason: str | None
    changed_fields: list[str]
    live_version: int | None
    live: ProductContent | None
    content: ProductContent


class HistoryEntry(Out):
    at: Timestamp
    actor: str | None
    action: str = Field(
        description="created, edited, revision_started, submitted, review_withdrawn, approved, "
        "rejected, settings_changed, inventory_set, blocked, unblocked"
    )
    revision_id: str | None
    details: dict[str, Any] | None


class ProductHistory(Out):
    """Every step of the product, oldest first; one list, not paged."""

    items: list[HistoryEntry]


class Slot(Out):
    date: dt.date | None
    time: HHMM | None
    capacity: int | None
    taken: int
    remaining: int | None
    blocked: bool | None = None


class StockLevel(Out):
    option_id: str
    label: str | None
    stock: int | None
    taken: int


class PriceMaximum(Slot):
    bucket: str


class Block(Out):
    block_id: str
    date: dt.date
    time: HHMM | None
    reason: str


class Blocks(Out):
    """The blocks just made; one list, not paged."""

    items: list[Block]


class Inventory(Out):
    product_id: str
    slots: list[Slot]
    period: Slot | None
    stock: list[StockLevel]
    price_maxima: list[PriceMaximum]
    blocks: list[Block]


class ShopOption(Option):
    sold_out: bool


class ShopPartner(Out):
    partner_id: str
    name: str
    channel_id: str | None


class ShopPlace(Out):
    name: str
    address: str
    phone: str | None
    map_url: str | None


class Availability(Out):
    slots: list[Slot]
    period: Slot | None


class ShopProduct(ProductContent):
    """What consumers see: the approved version only (R-CAT-5) and its display state (R-CAT-4),
    with the partner and the place from accounts."""

    product_id: str
    partner_id: str
    kind: Kind
    version: int
    display_state: DisplayState
    sale_starts_at: Timestamp | None
    sale_ends_at: Timestamp | None
    # goods only; the shop's options say more than the partner's (pydantic reads the narrower type)
    options: list[ShopOption] | None = None  # type: ignore[assignment]
    partner: ShopPartner | None
    place: ShopPlace | None


class ShopProductDetail(ShopProduct):
    availability: Availability


class Question(Out):
    """A private question shows its text and answer only to its asker and the partner."""

    question_id: str
    product_id: str
    private: bool
    mine: bool
    body: str | None
    answer: str | None
    answered: bool
    created_at: Timestamp
    answered_at: Timestamp | None


class PartnerQuestion(Question):
    product_name: str | None


ProductPage = Page[Product]
RevisionPage = Page[Revision]
ShopProductPage = Page[ShopProduct]
QuestionPage = Page[Question]
PartnerQuestionPage = Page[PartnerQuestion]
