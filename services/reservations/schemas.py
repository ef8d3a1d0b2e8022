"""Request schemas of the reservations entrypoints (pydantic, Strict: unknown
fields refused, 422 naming the field). Shape only; rules that need the
reservation or the clock are in domain.py."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from chassis.coupons import COUPON_CODE
from chassis.validation import Strict
from chassis.paging import PageQuery

PRICE_ID = r"^[A-Za-z0-9_-]{1,40}$"                 # catalog price ids
PHONE = r"^\+?[0-9][0-9 -]{6,18}[0-9]$"             # digits, spaces and dashes; kept as digits
MAX_LINES = 20

STATUSES = ("requested", "confirmed", "rejected", "cancelled", "completed", "no_show")   # R-RSV-1
Status = Literal["requested", "confirmed", "rejected", "cancelled", "completed", "no_show"]


def minute_time(value: dt.time) -> dt.time:
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError("use HH:MM, in the partner's local time")
    return value


MinuteTime = Annotated[dt.time, AfterValidator(minute_time)]
Phone = Annotated[str, Field(pattern=PHONE)]
Reason = Annotated[str, Field(max_length=500)]


class BookerIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    phone: Phone


class LineIn(Strict):
    """One price of the product (adult, child, ...) and how many (R-CAT-3)."""
    price_id: str = Field(pattern=PRICE_ID)
    quantity: int = Field(ge=1, le=100)


class ReservationCreate(Strict):
    product_id: str = Field(min_length=1, max_length=64)
    date: dt.date | None = None
    time: MinuteTime | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    booker: BookerIn
    coupon_code: str | None = Field(None, pattern=COUPON_CODE)           # issue #11: one coupon per booking,
    coupon_id: str | None = Field(None, min_length=1, max_length=64)     # by its code or its id

    @field_validator("lines")
    @classmethod
    def _one_line_per_price(cls, lines: list[LineIn]) -> list[LineIn]:
        seen = set()
        for line in lines:
            if line.price_id in seen:
                raise ValueError(f"price {line.price_id} is listed twice: give its total quantity once")
            seen.add(line.price_id)
        return lines


class CancelLineIn(Strict):
    line: int = Field(ge=0, lt=MAX_LINES)
    quantity: int = Field(ge=1, le=100)


class CustomerCancelIn(Strict):
    """``lines`` for a partial cancellation (R-RSV-4); ``expected_fee`` is the fee
    the customer was shown: if it changed meanwhile the cancellation is refused
    with ``fee_changed`` instead of charging another amount."""
    lines: list[CancelLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    expected_fee: int | None = Field(None, ge=0)
    reason: Reason = ""


class ChangeDateIn(Strict):
    date: dt.date
    time: MinuteTime | None = None


class TransferIn(Strict):
    to_phone: Phone


class RequiredReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class OptionalReasonIn(Strict):
    reason: Reason = ""


class Paging(PageQuery):
    """?limit (default 20, clamped to 1..100) and ?cursor (../shared/api.md)."""


class PartnerListQuery(Paging):
    """R-RSV-8: ``q`` is a booker name (prefix, any case) or the last 4 digits of the phone."""
    status: Status | None = None
    q: str | None = Field(None, min_length=1, max_length=50)
    product_id: str | None = Field(None, max_length=64)
    date: dt.date | None = None


class CustomerListQuery(Paging):
    status: Status | None = None


class BoardQuery(Strict):
    """R-RSV-9: one product, at most 93 days (catalog's limit)."""
    product_id: str = Field(min_length=1, max_length=64)
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")


class QuoteQuery(Strict):
    """``?lines=0:1,2:1`` quotes a partial cancellation (line index: quantity)."""
    lines: str | None = Field(None, pattern=r"^\d{1,2}:\d{1,3}(,\d{1,2}:\d{1,3}){0,19}$")

    @field_validator("lines", mode="after")
    @classmethod
    def _each_line(cls, value: str | None) -> str | None:
        # ``0:0`` matches the pattern but is no line to cancel: a 422 on ``lines`` (issue 15, defect 2), not a 500
        for item in value.split(",") if value else ():
            line, quantity = (int(part) for part in item.split(":"))
            if not (0 <= line < MAX_LINES and 1 <= quantity <= 100):
                raise ValueError(f"{item}: a line is 0..{MAX_LINES - 1}, a quantity 1..100")
        return value

    def cancel_lines(self) -> list[dict] | None:
        if not self.lines:
            return None
        pairs = (item.split(":") for item in self.lines.split(","))
        return [CancelLineIn(line=int(line), quantity=int(quantity)).model_dump() for line, quantity in pairs]


class ProductSettingsIn(Strict):
    """How a product's bookings are handled (reservations' own settings, no review):
    ``confirmation`` auto (confirmed at once) or manual (requested until the
    partner confirms), how long a request may wait, and whether part of a
    booking may be cancelled (R-RSV-4)."""
    confirmation: Literal["auto", "manual"] | None = None
    request_ttl_hours: int | None = Field(None, ge=1, le=24 * 30)
    allow_partial_cancel: bool | None = None


class TimerPassIn(Strict):
    as_of: dt.datetime | None = None
    batch_size: int = Field(200, ge=1, le=5000)
    abandon_after_seconds: float | None = Field(None, ge=0)   # default: INTENT_GRACE_SECONDS

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone offset")
        return value


class PeriodIn(Strict):
    period_start: dt.date
    period_end: dt.date
