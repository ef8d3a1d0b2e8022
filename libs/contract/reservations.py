"""The reservations area of the contract (../shared/api.md, Reservations; R-RSV-1..12):
request bodies and queries (the reservations service validates with these very
classes, ``services/reservations/schemas.py``) and the answers the gateway
serialises through."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, RootModel, WithJsonSchema, field_validator

from chassis.coupons import COUPON_CODE
from chassis.paging import PageQuery
from chassis.rpc_contracts import CancelPolicyFields, FeeTierFields
from chassis.validation import Strict

from .common import ClockTime, Out, Page, Timestamp, examples, left_out_unchanged

PRICE_ID = r"^[A-Za-z0-9_-]{1,40}$"  # catalog price ids
PHONE = r"^\+?[0-9][0-9 -]{6,18}[0-9]$"  # digits, spaces and dashes; kept as digits
MAX_LINES = 20

STATUSES = ("requested", "confirmed", "rejected", "cancelled", "completed", "no_show")  # R-RSV-1
Status = Literal["requested", "confirmed", "rejected", "cancelled", "completed", "no_show"]


def minute_time(value: dt.time) -> dt.time:
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError("use HH:MM, in the partner's local time")
    return value


# documented as what it accepts: HH:MM (``:00`` seconds tolerated), no zone
MinuteTime = Annotated[
    dt.time,
    AfterValidator(minute_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:00)?$",
            "description": "HH:MM, the partner's local time",
        }
    ),
]
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
    model_config = examples(
        {
            "product_id": "776298b6-1546-428e-85e3-22a9db396146",
            "date": "2026-12-08",
            "time": "11:00",
            "lines": [{"price_id": "pr_e4e288e2c208", "quantity": 1}],
            "booker": {"name": "김다온", "phone": "010-1234-5678"},
        }
    )

    product_id: str = Field(min_length=1, max_length=64)
    date: dt.date | None = None
    time: MinuteTime | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    booker: BookerIn
    coupon_code: str | None = Field(None, pattern=COUPON_CODE)  # issue #11: one coupon per booking,
    coupon_id: str | None = Field(None, min_length=1, max_length=64)  # by its code or its id

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

    model_config = examples({"lines": [{"line": 0, "quantity": 1}], "expected_fee": 0, "reason": "일정 변경"})

    lines: list[CancelLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    expected_fee: int | None = Field(None, ge=0)
    reason: Reason = ""


class ChangeDateIn(Strict):
    model_config = examples({"date": "2026-12-09", "time": "14:00"})

    date: dt.date
    time: MinuteTime | None = None


class TransferIn(Strict):
    model_config = examples({"to_phone": "010-9876-5432"})

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


class ChatInvitationQuery(Paging):
    """R-RSV-11: the customer's chat requests, by state."""

    state: Literal["pending", "accepted", "declined"] | None = None


class BoardQuery(Strict):
    """R-RSV-9: one product, at most 93 days (catalog's limit)."""

    product_id: str = Field(min_length=1, max_length=64)
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")


class QuoteQuery(Strict):
    """``?lines=0:1,2:1`` quotes a partial cancellation (line index: quantity)."""

    lines: str | None = Field(None, pattern=r"^1?[0-9]:([1-9][0-9]?|100)(,1?[0-9]:([1-9][0-9]?|100)){0,19}$")

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

    model_config = examples({"confirmation": "auto", "request_ttl_hours": 24, "allow_partial_cancel": True})

    # left out: unchanged; never null (the service refuses it, so the document does not offer it)
    confirmation: Literal["auto", "manual"] = left_out_unchanged()
    request_ttl_hours: int | None = Field(None, ge=1, le=24 * 30)
    allow_partial_cancel: bool = left_out_unchanged()


# --- answers --------------------------------------------------------------------------------

ScheduleType = Literal["datetime", "date", "anytime"]  # R-CAT-1
Payment = Literal["none", "prepaid"]  # R-CAT-6


class FeeTierOut(FeeTierFields, Out):
    pass


class CancelPolicyOut(CancelPolicyFields[FeeTierOut], Out):
    """The cancellation policy as sold (R-CAT-6), kept with the booking (R-RSV-4)."""


class BookedProductOut(Out):
    product_id: str
    name: str
    version: int
    schedule_type: ScheduleType


class ReservationLineOut(Out):
    line: int
    price_id: str
    label: str
    unit_price: int
    quantity: int = Field(description="still booked")
    cancelled: int


class CouponUsedOut(Out):
    coupon_id: str
    name: str
    code: str | None


class TransferOut(Out):
    """A ticket hand-over waiting for the friend (R-RSV-10); their phone masked."""

    transfer_id: str
    to_phone: str | None
    state: Literal["pending", "accepted", "cancelled", "expired"]
    created_at: Timestamp | None


class ScheduleOut(Out):
    number: str
    status: Status
    product: BookedProductOut
    date: dt.date | None
    time: ClockTime | None
    cancel_deadline: Timestamp | None


class ReservationMoneyOut(ScheduleOut):
    """``total`` is what the customer pays: ``subtotal`` less ``discount_amount`` (issue #11); won."""

    lines: list[ReservationLineOut]
    subtotal: int
    discount_amount: int
    coupon: CouponUsedOut | None
    total: int
    payment: Payment
    cancel_policy: CancelPolicyOut
    refund_amount: int
    fee_amount: int
    reason: str | None
    conversation_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class CustomerBookerOut(Out):
    name: str | None
    phone: str | None


class CustomerReservationOut(ReservationMoneyOut):
    """The booker's (their phone whole) or the ticket holder's view (R-RSV-10)."""

    role: Literal["booker", "holder"]
    holder: Literal["self", "friend"] | None = Field(None, description="the booker's view only: who holds the ticket")
    booker: CustomerBookerOut
    transfer: TransferOut | None = Field(None, description="the booker's view of one reservation: a pending hand-over")


class SharedBookerOut(Out):
    name: str | None


class SharedReservationOut(ScheduleOut):
    """A reservation a friend shared (R-RSV-10): what and when, the booker's name masked, no money."""

    role: Literal["friend"]
    booker: SharedBookerOut


class MyReservationOut(
    RootModel[Annotated[CustomerReservationOut | SharedReservationOut, Field(discriminator="role")]]
):
    """One of my reservations: booked or handed to me (booker, holder), or a friend's I saved (friend)."""


class CustomerCancellationOut(Out):
    partial: bool
    amount: int
    refund: int
    fee: int
    lines: list[CancelLineIn]


class CancelledReservationOut(CustomerReservationOut):
    cancellation: CustomerCancellationOut


class SavedSharedOut(SharedReservationOut):
    saved: bool


class SavedOwnOut(CustomerReservationOut):
    saved: bool


class SavedReservationOut(RootModel[Annotated[SavedOwnOut | SavedSharedOut, Field(discriminator="role")]]):
    """A saved share: a friend's (``saved`` true) or my own (``saved`` false, nothing changed)."""


class CancellationQuoteOut(Out):
    """What cancelling now would refund and cost, or the refusal's code (R-RSV-4)."""

    model_config = examples(
        {
            "number": "MFDY2L85K5",
            "allowed": True,
            "reason": None,
            "amount": 60000,
            "fee": 0,
            "refund": 60000,
            "partial": False,
            "lines": [{"line": 0, "quantity": 2}],
        }
    )

    number: str
    allowed: bool
    reason: str | None = Field(
        description="the refusal's code when not allowed: not_cancellable_state, "
        "partial_cancel_not_allowed, deadline_passed, non_refundable, ..."
    )
    details: dict[str, Any] | None = Field(None, description="when refused: the refusal's details")
    amount: int | None = Field(None, description="when allowed: what was paid for what is cancelled")
    fee: int | None = None
    refund: int | None = None
    partial: bool | None = None
    lines: list[CancelLineIn] | None = None


class ShareOut(Out):
    model_config = examples({"number": "MFSJSRK9LP", "share_token": "_KihmjwW5H3m0PI17AIC5PVpC6fPZjVW"})

    number: str
    share_token: str


class TransferOfferOut(Out):
    number: str
    transfer: TransferOut
    transfer_token: str = Field(description="what the friend accepts with (POST /v1/shop/transfers/{token}/accept)")


class ReservationReviewOut(Out):
    """A review (R-RSV-6, R-CAT-6) in the shape of every review."""

    review_id: str
    number: str
    product_id: str
    rating: int = Field(ge=1, le=5)
    body: str
    reply: str | None
    created_at: Timestamp
    replied_at: Timestamp | None


class ChatInvitationOut(Out):
    """A partner's request to chat about a reservation (R-RSV-11)."""

    invitation_id: str
    number: str | None
    partner_id: str
    state: Literal["pending", "accepted", "declined"]
    conversation_id: str | None
    created_at: Timestamp
    decided_at: Timestamp | None
    product_name: str | None = Field(None, description="in the customer's list")
    date: dt.date | None = Field(None, description="in the customer's list")
    time: ClockTime | None = Field(None, description="in the customer's list")


class PartnerBookerOut(Out):
    name: str | None
    phone: str | None = Field(description="masked (R-RSV-8, R-RSV-12)")


class HolderOut(Out):
    customer_id: str
    name: str | None
    phone: str | None = Field(description="masked")


class PartnerReservationOut(ReservationMoneyOut):
    """A reservation as the partner's staff see it: the booker's name and a masked phone (R-RSV-8)."""

    partner_id: str
    customer_id: str
    confirmation: Literal["auto", "manual"]
    booker: PartnerBookerOut
    holder: HolderOut | None = Field(
        description="who holds a handed-over ticket (R-RSV-10); null while the booker does"
    )


class HistoryStepOut(Out):
    at: Timestamp
    action: str
    actor_kind: str = Field(description="customer, member, api_key or system")
    actor_id: str | None
    details: dict[str, Any]


class PartnerReservationDetailOut(PartnerReservationOut):
    history: list[HistoryStepOut]
    transfer: TransferOut | None


class BoardCountsOut(Out):
    requested: int
    confirmed: int
    completed: int
    no_show: int
    booked_quantity: int


class BoardSlotOut(BoardCountsOut):
    """A slot (or a date for date-only products) with the catalog's capacity; a slot the
    catalog no longer lists but bookings still hold has nulls for the catalog's figures."""

    date: dt.date | None
    time: ClockTime | None
    capacity: int | None
    taken: int | None
    remaining: int | None
    blocked: bool | None
    past: bool | None
    kind: Literal["slot", "date"] | None = None


class BoardPeriodOut(BoardCountsOut):
    date: dt.date | None
    time: ClockTime | None
    capacity: int | None
    taken: int
    remaining: int | None


class BoardBlockOut(Out):
    block_id: str
    date: dt.date | None
    time: ClockTime | None
    reason: str | None


class ReservationBoardOut(Out):
    """R-RSV-9: per slot requested, confirmed, completed, no-show, booked quantity, remaining, blocked."""

    product_id: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    slots: list[BoardSlotOut]
    period: BoardPeriodOut | None
    blocks: list[BoardBlockOut]
    totals: BoardCountsOut


class BookingSettingsOut(Out):
    model_config = examples(
        {
            "partner_id": "78b2b26b-8b5d-47e5-834a-993164278328",
            "product_id": "776298b6-1546-428e-85e3-22a9db396146",
            "confirmation": "auto",
            "request_ttl_hours": 24,
            "allow_partial_cancel": True,
            "updated_at": "2026-12-04T19:20:01.123456+00:00",
        }
    )

    partner_id: str
    product_id: str
    confirmation: Literal["auto", "manual"]
    request_ttl_hours: int
    allow_partial_cancel: bool
    updated_at: Timestamp | None


MyReservationPage = Page[MyReservationOut]
PartnerReservationPage = Page[PartnerReservationOut]
ChatInvitationPage = Page[ChatInvitationOut]
