"""Request schemas of the orders service (pydantic, Strict: unknown fields refused).

Shape only: a wrong type, range or unknown field is a 422 naming the field.
Rules that span fields or need the order (shipping address per channel,
quantities against the order's lines) are in domain.py.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from chassis import reviews as chassis_reviews
from chassis.coupons import COUPON_CODE
from chassis.validation import Strict
from chassis.paging import PageQuery

Channel = Literal["dine_in", "takeout", "delivery", "parcel"]
Status = Literal["received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled"]
CLIENT_ID = r"^[A-Za-z0-9_-]{1,40}$"
ProductId = Annotated[str, Field(min_length=1, max_length=64)]
LineId = Annotated[str, Field(min_length=1, max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Short = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(min_length=8, max_length=20, pattern=r"^[0-9+\- ]+$")]
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,255}$"


class OrderLineIn(Strict):
    """A menu item or a shop option; ``option_id`` may be left out for a product with one option."""
    product_id: ProductId
    option_id: str | None = Field(None, pattern=CLIENT_ID)
    quantity: int = Field(ge=1, le=99)


class ShippingAddressIn(Strict):
    """Where a delivery or parcel goes (R-ORD-6): personal data, pseudonymised on erasure."""
    recipient_name: Short
    phone: Phone
    address: Annotated[str, Field(min_length=1, max_length=300)]
    detail: Annotated[str, Field(max_length=200)] | None = None
    postal_code: Annotated[str, Field(max_length=10, pattern=r"^[0-9-]*$")] | None = None
    memo: Annotated[str, Field(max_length=200)] | None = None


class OrderCreate(Strict):
    partner_id: Annotated[str, Field(min_length=1, max_length=64)]
    channel: Channel
    lines: list[OrderLineIn] = Field(min_length=1, max_length=50)
    shipping_address: ShippingAddressIn | None = None
    note: Annotated[str, Field(max_length=500)] | None = None   # "less ice", "ring the bell"
    coupon_code: str | None = Field(None, pattern=COUPON_CODE)         # issue #11: one coupon per order,
    coupon_id: str | None = Field(None, min_length=1, max_length=64)   # by its code or its id


class ListQuery(PageQuery):
    """?limit (default 20, clamped to 1..100) and ?cursor (../shared/api.md);
    ``channel`` and ``status`` take one value or several, comma-separated
    (the cafe's in-store tab is ``channel=dine_in,takeout``, R-ORD-1)."""
    channel: str | None = Field(None, max_length=100)
    status: str | None = Field(None, max_length=200)

    @field_validator("channel", mode="after")
    @classmethod
    def _channels(cls, value):
        return _one_of(value, ("dine_in", "takeout", "delivery", "parcel"))

    @field_validator("status", mode="after")
    @classmethod
    def _statuses(cls, value):
        return _one_of(value, ("received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled"))


class RequestListQuery(PageQuery):
    status: Literal["requested", "approved", "rejected", "returned", "reshipped", "exchanged"] | None = None
    answered: Literal["true", "false"] | None = None    # inquiries


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in allowed]
    if unknown or not wanted:
        raise ValueError(f"use one or more of {', '.join(allowed)}, comma-separated")
    return ",".join(wanted)


class ReasonIn(Strict):
    reason: Annotated[str, Field(max_length=500)] | None = None


class ReasonRequired(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ShipmentIn(Strict):
    """R-ORD-3, R-ORD-7: the courier and its invoice (tracking) number."""
    courier: Annotated[str, Field(min_length=1, max_length=50)]
    invoice_number: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]


class ShipmentCorrectionIn(Strict):
    """R-ORD-3: correct the courier, the invoice number or both while shipped (issue 18 item 8)."""
    courier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    invoice_number: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")] | None = None


class ExchangeApproveIn(Strict):
    """Issue 18 item 7: the return pickup's courier and invoice, when already booked."""
    return_courier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    return_invoice_number: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")] | None = None


class StartPreparingIn(Strict):
    """Seed 004 소요 시간: how long preparation takes; sets the expected ready time (issue 18 item 10)."""
    minutes: int | None = Field(None, ge=1, le=240)


class RequestLineIn(Strict):
    line_id: LineId
    quantity: int = Field(ge=1, le=99)


class RefundRequestIn(Strict):
    """R-ORD-8: a refund of some units of some lines (all of them when ``lines`` is left out)."""
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    lines: list[RequestLineIn] | None = Field(None, min_length=1, max_length=50)


class ExchangeLineIn(Strict):
    line_id: LineId
    quantity: int = Field(ge=1, le=99)
    option_id: str = Field(pattern=CLIENT_ID)      # another option of the same product


class ExchangeRequestIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    lines: list[ExchangeLineIn] = Field(min_length=1, max_length=50)


class InquiryIn(Strict):
    body: Text


class ReviewIn(chassis_reviews.ReviewIn):
    """R-ORD-9: one review per order line of a completed order ({rating, body} as every review)."""
    line_id: LineId


class AnswerIn(Strict):
    body: Text


class PeriodIn(Strict):
    period_start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    period_end: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
