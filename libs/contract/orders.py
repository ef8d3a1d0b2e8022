"""The orders area of the contract (../shared/api.md, Orders; R-ORD-1..9): request bodies
and queries (the orders service validates with these very classes,
``services/orders/schemas.py``) and the answers the gateway serialises through."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from chassis import reviews as chassis_reviews
from chassis.coupons import COUPON_CODE
from chassis.paging import PageQuery
from chassis.validation import Strict

from .common import Out, Page, Timestamp, examples
from .reservations import ReservationReviewOut

Channel = Literal["dine_in", "takeout", "delivery", "parcel"]
Status = Literal["received", "preparing", "preparing_shipment", "shipped", "completed", "cancelled"]
CLIENT_ID = r"^[A-Za-z0-9_-]{1,40}$"
ProductId = Annotated[str, Field(min_length=1, max_length=64)]
LineId = Annotated[str, Field(min_length=1, max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Short = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(min_length=8, max_length=20, pattern=r"^[0-9+\- ]+$")]


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
    # R-ORD-6 in the document too: delivery and parcel orders name where they go, in-store ones do not
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"channel": {"enum": ["delivery", "parcel"]}}, "required": ["channel"]},
                    "then": {"required": ["shipping_address"], "properties": {"shipping_address": {"type": "object"}}},
                },
                {
                    "if": {"properties": {"channel": {"enum": ["dine_in", "takeout"]}}, "required": ["channel"]},
                    "then": {"properties": {"shipping_address": {"type": "null"}}},
                },
            ],
            "examples": [
                {
                    "partner_id": "78b2b26b-8b5d-47e5-834a-993164278328",
                    "channel": "takeout",
                    "lines": [
                        {
                            "product_id": "8c036250-6f81-422e-a86a-4dffb6ce17e9",
                            "option_id": "op_1692d3023faa",
                            "quantity": 2,
                        }
                    ],
                    "note": "얼음 적게",
                }
            ],
        }
    )

    partner_id: Annotated[str, Field(min_length=1, max_length=64)]
    channel: Channel
    lines: list[OrderLineIn] = Field(min_length=1, max_length=50)
    shipping_address: ShippingAddressIn | None = None
    note: Annotated[str, Field(max_length=500)] | None = None  # "less ice", "ring the bell"
    coupon_code: str | None = Field(None, pattern=COUPON_CODE)  # issue #11: one coupon per order,
    coupon_id: str | None = Field(None, min_length=1, max_length=64)  # by its code or its id


class ListQuery(PageQuery):
    """?limit (default 20, clamped to 1..100) and ?cursor (../shared/api.md);
    ``channel`` and ``status`` take one value or several, comma-separated
    (the cafe's in-store tab is ``channel=dine_in,takeout``, R-ORD-1)."""

    channel: str | None = Field(
        None,
        max_length=100,
        json_schema_extra={"pattern": "^(dine_in|takeout|delivery|parcel)(,(dine_in|takeout|delivery|parcel))*$"},
    )
    status: str | None = Field(
        None,
        max_length=200,
        json_schema_extra={
            "pattern": "^(received|preparing|preparing_shipment|shipped|completed|cancelled)"
            "(,(received|preparing|preparing_shipment|shipped|completed|cancelled))*$"
        },
    )

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
    answered: Literal["true", "false"] | None = None  # inquiries


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

    model_config = examples({"courier": "cj", "invoice_number": "123456789012"})

    courier: Annotated[str, Field(min_length=1, max_length=50)]
    invoice_number: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]


class ShipmentCorrectionIn(Strict):
    """R-ORD-3: correct the courier, the invoice number or both while shipped (issue 18 item 8)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["courier"], "properties": {"courier": {"type": "string"}}},
                {"required": ["invoice_number"], "properties": {"invoice_number": {"type": "string"}}},
            ]
        }
    )

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

    model_config = examples(
        {"reason": "파손", "lines": [{"line_id": "ln_9c55e511be3541adade1ecac2cb01747_0", "quantity": 1}]}
    )

    reason: Annotated[str, Field(min_length=1, max_length=500)]
    lines: list[RequestLineIn] | None = Field(None, min_length=1, max_length=50)


class ExchangeLineIn(Strict):
    line_id: LineId
    quantity: int = Field(ge=1, le=99)
    option_id: str = Field(pattern=CLIENT_ID)  # another option of the same product


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


# --- answers --------------------------------------------------------------------------------

RequestStatus = Literal["requested", "approved", "rejected", "returned", "reshipped", "exchanged"]


class OrderLineOut(Out):
    line_id: str
    product_id: str
    product_name: str
    option_id: str | None
    option_label: str | None
    quantity: int
    unit_price: int
    amount: int = Field(description="unit_price x quantity, won")
    refunded_quantity: int
    replaces_line_id: str | None = Field(description="an exchange's replacement line: the line it replaces (R-ORD-8)")


class ShippingAddressOut(Out):
    """Where a delivery or parcel goes (R-ORD-6); the phone masked for the partner (R-RSV-12)."""

    recipient_name: str | None
    phone: str | None
    address: str | None
    detail: str | None
    postal_code: str | None
    memo: str | None


class OrderCouponOut(Out):
    coupon_id: str
    name: str
    code: str | None


class OrderOut(Out):
    """An order (R-ORD-1..7). ``total`` is what was paid: ``subtotal`` less ``discount_amount``
    (issue #11); won. Times are null until the step happened."""

    order_id: str
    number: int | None = Field(description="the partner's order number of the business day")
    number_day: dt.date | None = Field(description="the business day of ``number``")
    customer_name: str | None
    preparation_minutes: int | None
    partner_id: str
    channel: Channel
    status: Status
    payment_status: Literal["paid", "partially_refunded", "refunded"]
    total: int
    subtotal: int
    discount_amount: int
    coupon: OrderCouponOut | None
    refunded_amount: int
    lines: list[OrderLineOut]
    shipping_address: ShippingAddressOut | None
    note: str | None
    courier: str | None
    invoice_number: str | None
    tracking_url: str | None
    completed_by: Literal["customer", "partner", "system"] | None
    cancelled_by: Literal["customer", "partner", "system"] | None
    cancel_reason: str | None
    received_at: Timestamp
    auto_complete_at: Timestamp | None
    preparing_at: Timestamp | None
    ready_at: Timestamp | None
    shipment_prepared_at: Timestamp | None
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None


class PartnerOrderOut(OrderOut):
    customer_id: str


class ReturnOut(Out):
    courier: str | None
    invoice_number: str | None
    tracking_url: str | None
    received_at: Timestamp | None


class ReplacementOut(Out):
    courier: str | None
    invoice_number: str | None
    tracking_url: str | None
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None


class RequestedLineOut(Out):
    line_id: str
    quantity: int
    option_id: str | None = Field(None, description="an exchange's: the option wanted instead")


class OrderRequestOut(Out):
    """A refund or exchange request (R-ORD-8); an exchange also has its return and replacement."""

    request_id: str
    order_id: str
    kind: Literal["refund", "exchange"]
    status: RequestStatus
    reason: str
    lines: list[RequestedLineOut]
    amount: int
    decision_reason: str | None
    created_at: Timestamp
    decided_at: Timestamp | None
    return_: ReturnOut | None = Field(None, alias="return", description="exchanges only")
    replacement: ReplacementOut | None = Field(None, description="exchanges only")


class InquiryOut(Out):
    inquiry_id: str
    order_id: str
    body: str
    answer: str | None
    created_at: Timestamp
    answered_at: Timestamp | None


class OrderReviewOut(Out):
    """A review of an order line (R-ORD-9) in the shape of every review."""

    review_id: str
    order_id: str
    line_id: str
    rating: int = Field(ge=1, le=5)
    body: str
    reply: str | None
    created_at: Timestamp
    replied_at: Timestamp | None


class ContactAccessOut(Out):
    """Who saw the whole phone, and why (R-RSV-12)."""

    reason: str
    actor_kind: str
    actor_id: str | None
    at: Timestamp


class CustomerOrderDetailOut(OrderOut):
    requests: list[OrderRequestOut]
    inquiries: list[InquiryOut]
    reviews: list[OrderReviewOut]


class PartnerOrderDetailOut(PartnerOrderOut):
    contact_access: list[ContactAccessOut]
    requests: list[OrderRequestOut]
    inquiries: list[InquiryOut]
    reviews: list[OrderReviewOut]


class CourierOut(Out):
    code: str
    name: str
    aliases: list[str]
    tracking_template: str = Field(description="the tracking URL with {invoice} for the invoice number (R-ORD-7)")


class ReplyOut(RootModel[ReservationReviewOut | OrderReviewOut]):
    """The replied review: a reservation's (number, product_id) or an order line's (order_id, line_id)."""


CustomerOrderPage = Page[OrderOut]
PartnerOrderPage = Page[PartnerOrderOut]
OrderRequestPage = Page[OrderRequestOut]
InquiryPage = Page[InquiryOut]
CourierPage = Page[CourierOut]


class OrderChangeIn(BaseModel):
    """Anything: an order is never changed once received (R-ORD-4), so every body is
    answered 409 ``order_not_changeable`` (cancel, and order again)."""

    model_config = ConfigDict(extra="allow")
