"""Request schemas of the catalog's entrypoints (pydantic, Strict: unknown fields refused).

Shape only: a wrong type, range or unknown field is a 422 naming the field.
Rules that span fields (R-CAT-2 price maximum needs a quantity mode, R-CAT-6
fees need payment, schedule/quantity combinations) are in domain.py.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from chassis.coupons import COUPON_CODE
from chassis.validation import Strict
from chassis.paging import PageQuery

CLIENT_ID = r"^[A-Za-z0-9_-]{1,40}$"          # price and option ids (server-made or kept from a revision)
HOLD_ID = r"^[A-Za-z0-9_.:-]{1,100}$"
URL = Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")]
Label = Annotated[str, Field(min_length=1, max_length=50)]

Kind = Literal["booking", "goods"]
ScheduleType = Literal["datetime", "date", "anytime"]          # R-CAT-1
QuantityMode = Literal["slot", "date", "period", "none"]       # R-CAT-2
Payment = Literal["none", "prepaid"]                           # R-CAT-6
GoodsType = Literal["menu", "shop"]                            # cafe menu items, shop goods


def minute_time(value: dt.time) -> dt.time:
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError("use HH:MM, in the partner's local time")
    return value


MinuteTime = Annotated[dt.time, AfterValidator(minute_time)]


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
    attributes: dict[Annotated[str, Field(min_length=1, max_length=30)],
                     Annotated[str, Field(max_length=50)]] = Field(default_factory=dict, max_length=5)


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
    kind: Kind
    name: str = Field(min_length=1, max_length=100)


class ProductPatch(ReviewFieldsIn, SettingsIn):
    """Any subset of the fields; ``kind`` never changes."""


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
    slots: list[SlotIn] = Field(default_factory=list, max_length=5000)
    remove_slots: list[SlotRef] = Field(default_factory=list, max_length=5000)
    period_capacity: int | None = Field(None, ge=0, le=10_000_000)
    stock: list[StockIn] = Field(default_factory=list, max_length=100)


class TimeRef(Strict):
    date: dt.date
    time: MinuteTime


class BlocksIn(Strict):
    """Close whole dates, or single times of a date (at least one of the two)."""
    dates: list[dt.date] = Field(default_factory=list, max_length=366)
    times: list[TimeRef] = Field(default_factory=list, max_length=2000)
    reason: str = Field("", max_length=200)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class ApproveIn(Strict):
    reason: str = Field("", max_length=500)


class ListQuery(PageQuery):
    """?limit (default 20, clamped to 1..100) and ?cursor, as ../shared/api.md says."""
    kind: Kind | None = None
    status: Literal["pending", "approved", "rejected"] | None = None


class HoldLineIn(Strict):
    """One line of a hold: a booking price on a date/time, or a goods option."""
    product_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    price_id: str | None = Field(None, pattern=CLIENT_ID)
    option_id: str | None = Field(None, pattern=CLIENT_ID)
    date: dt.date | None = None
    time: MinuteTime | None = None


class HoldCouponIn(Strict):
    """The coupon a hold redeems (issue #11): by ``code`` or ``coupon_id`` (one of
    the two), for ``customer_id``, under the caller's ``redemption_key`` (its
    booking or order), which every hold of that booking shares."""
    code: str | None = Field(None, pattern=COUPON_CODE)
    coupon_id: str | None = Field(None, min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=200)
    redemption_key: str = Field(pattern=HOLD_ID)


class HoldIn(Strict):
    hold_id: str = Field(pattern=HOLD_ID)
    lines: list[HoldLineIn] = Field(min_length=1, max_length=50)
    coupon: HoldCouponIn | None = None


class ReleaseLineIn(Strict):
    line: int = Field(ge=0, le=49)
    quantity: int = Field(ge=1, le=10_000)


class ReleaseIn(Strict):
    """Everything still held, or (partial cancellation) some quantity of some
    lines, made idempotent by ``release_id``."""
    hold_id: str = Field(pattern=HOLD_ID)
    lines: list[ReleaseLineIn] | None = Field(None, min_length=1, max_length=50)
    release_id: str | None = Field(None, pattern=HOLD_ID)   # required with lines (checked in the domain)


class BoardQuery(Strict):
    """At most 93 days, date_from <= date_to (checked in the domain, naming the field)."""
    date_from: dt.date
    date_to: dt.date


class CancellationQuoteIn(Strict):
    version: int = Field(ge=1)
    amount: int = Field(ge=0, le=1_000_000_000)
    use_at: AwareDatetime | None = None
    now: AwareDatetime | None = None


# --- coupons (issue #11) ------------------------------------------------------------

ProductRef = Annotated[str, Field(min_length=1, max_length=64)]


class CouponFields(Strict):
    """What a partner sets on a coupon; None means "not given" (in a PATCH, null
    clears an optional field). Cross-field rules are in domain.coupon_settings."""
    name: str | None = Field(None, min_length=1, max_length=100)
    discount_type: Literal["fixed", "percent"] | None = None
    amount: int | None = Field(None, ge=1, le=100_000_000)          # fixed: KRW off
    percent: int | None = Field(None, ge=1, le=100)                 # percent: of the applicable lines
    max_discount: int | None = Field(None, ge=1, le=100_000_000)    # percent: a cap in KRW
    min_spend: int | None = Field(None, ge=0, le=1_000_000_000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    product_ids: list[ProductRef] | None = Field(None, max_length=100)   # empty: all of the partner's
    total_limit: int | None = Field(None, ge=1, le=10_000_000)
    per_customer_limit: int | None = Field(None, ge=1, le=1000)
    code: str | None = Field(None, pattern=COUPON_CODE)


class CouponCreate(CouponFields):
    name: str = Field(min_length=1, max_length=100)
    discount_type: Literal["fixed", "percent"]
    min_spend: int = Field(0, ge=0, le=1_000_000_000)
    product_ids: list[ProductRef] = Field(default_factory=list, max_length=100)
    per_customer_limit: int | None = Field(1, ge=1, le=1000)
    distribution: Literal["code", "issued"]      # a published code, or given to customers
    paused: bool = False


class CouponPatch(CouponFields):
    """Any subset; ``distribution`` never changes, pause and resume have their own routes."""


class IssueIn(Strict):
    customer_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=1000)


class CouponListQuery(PageQuery):
    partner_id: str | None = Field(None, min_length=1, max_length=64)


class QuestionIn(Strict):
    """A question about a product before buying (issue 18 item 12); ``private``: only
    the asker and the partner read it."""
    body: str = Field(min_length=1, max_length=2000)
    private: bool = False


class AnswerIn(Strict):
    body: str = Field(min_length=1, max_length=2000)


class QuestionListQuery(PageQuery):
    answered: Literal["true", "false"] | None = None
