"""Request schemas of the orders service (pydantic, Strict: unknown fields refused).

Shape only: a wrong type, range or unknown field is a 422 naming the field.
Rules that span fields or need the order (shipping address per channel,
quantities against the order's lines) are in domain.py. The HTTP bodies and
queries are the contract's (libs/contract/orders.py), so the gateway documents
the very classes validated here; the settlement RPC's own is below.
"""

from __future__ import annotations

from pydantic import Field

from chassis.validation import Strict
from contract.orders import (
    AnswerIn,
    CLIENT_ID,
    Channel,
    ExchangeApproveIn,
    ExchangeLineIn,
    ExchangeRequestIn,
    InquiryIn,
    LineId,
    ListQuery,
    OrderCreate,
    OrderLineIn,
    Phone,
    ProductId,
    ReasonIn,
    ReasonRequired,
    RefundRequestIn,
    RequestLineIn,
    RequestListQuery,
    ReviewIn,
    ShipmentCorrectionIn,
    ShipmentIn,
    ShippingAddressIn,
    Short,
    StartPreparingIn,
    Status,
    Text,
)


class PeriodIn(Strict):
    period_start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    period_end: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
