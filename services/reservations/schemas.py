"""Request schemas of the reservations entrypoints (pydantic, Strict: unknown
fields refused, 422 naming the field). Shape only; rules that need the
reservation or the clock are in domain.py. The HTTP bodies and queries are the
contract's (libs/contract/reservations.py), so the gateway documents the very
classes validated here; the timer and settlement RPCs' own are below."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from chassis.validation import Strict
from contract.reservations import (
    MAX_LINES,
    PHONE,
    PRICE_ID,
    STATUSES,
    BoardQuery,
    BookerIn,
    CancelLineIn,
    ChangeDateIn,
    ChatInvitationQuery,
    CustomerCancelIn,
    CustomerListQuery,
    LineIn,
    MinuteTime,
    OptionalReasonIn,
    Paging,
    PartnerListQuery,
    Phone,
    ProductSettingsIn,
    QuoteQuery,
    Reason,
    RequiredReasonIn,
    ReservationCreate,
    Status,
    TransferIn,
    minute_time,
)


class TimerPassIn(Strict):
    as_of: dt.datetime | None = None
    batch_size: int = Field(200, ge=1, le=5000)
    abandon_after_seconds: float | None = Field(None, ge=0)  # default: INTENT_GRACE_SECONDS

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone offset")
        return value


class PeriodIn(Strict):
    period_start: dt.date
    period_end: dt.date
