"""Request schemas of the catalog's entrypoints (pydantic, Strict: unknown fields refused).

Shape only: a wrong type, range or unknown field is a 422 naming the field.
Rules that span fields (R-CAT-2 price maximum needs a quantity mode, R-CAT-6
fees need payment, schedule/quantity combinations) are in domain.py.

The bodies and query strings of HTTP routes live in the HTTP contract
(``libs/contract/catalog.py``, ``libs/contract/coupons.py``; issue 15), so the
gateway documents and validates the very classes checked here; the RPC-only
shapes other services send (holds, releases, boards, quotes) stay here.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, Field

from chassis.coupons import COUPON_CODE
from chassis.validation import Strict
from contract.catalog import (
    CLIENT_ID,
    URL,
    AnswerIn,
    ApproveIn,
    BlocksIn,
    CancelPolicyIn,
    FeeTierIn,
    GoodsType,
    InventoryIn,
    Kind,
    Label,
    ListQuery,
    MinuteTime,
    OptionIn,
    Payment,
    PriceIn,
    ProductCreate,
    ProductPatch,
    QuantityMode,
    QuestionIn,
    QuestionListQuery,
    ReasonIn,
    ReviewFieldsIn,
    ScheduleType,
    SettingsIn,
    ShopListQuery,
    SlotIn,
    SlotRef,
    StockIn,
    TimeRef,
    minute_time,
)
from contract.coupons import (
    CouponCreate,
    CouponFields,
    CouponListQuery,
    CouponPatch,
    IssueIn,
    ProductRef,
)

HOLD_ID = r"^[A-Za-z0-9_.:-]{1,100}$"


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
    # What the caller sells: orders hold goods only, so a booking product is
    # refused here, before anything is taken (#20: no product lookup first).
    kind: Literal["booking", "goods"] | None = None


class ReleaseLineIn(Strict):
    line: int = Field(ge=0, le=49)
    quantity: int = Field(ge=1, le=10_000)


class ReleaseIn(Strict):
    """Everything still held, or (partial cancellation) some quantity of some
    lines, made idempotent by ``release_id``."""

    hold_id: str = Field(pattern=HOLD_ID)
    lines: list[ReleaseLineIn] | None = Field(None, min_length=1, max_length=50)
    release_id: str | None = Field(None, pattern=HOLD_ID)  # required with lines (checked in the domain)


class BoardQuery(Strict):
    """At most 93 days, date_from <= date_to (checked in the domain, naming the field)."""

    date_from: dt.date
    date_to: dt.date


class CancellationQuoteIn(Strict):
    version: int = Field(ge=1)
    amount: int = Field(ge=0, le=1_000_000_000)
    use_at: AwareDatetime | None = None
    now: AwareDatetime | None = None
