"""RPC replies that another service reads: their models, next to the event
payloads (``contracts.py``), so that the producer and its consumers agree on a
reply's shape as they agree on an event's.

The producer builds its reply through the model (``Reply.of(...)``), which
refuses a reply that drifted from the contract; a consumer reads it through
the same model (``Reply.read(...)``), so a renamed or missing field fails at
the boundary, naming the field, not as a ``KeyError`` deep in a use case.
Replies keep crossing RPC as plain JSON: ``as_reply()`` gives the very dict
the producer would have sent (fields it left out stay out).

Amounts are integer KRW; dates ``YYYY-MM-DD`` and times ``HH:MM`` (partner's
zone) and instants ISO 8601, as strings: they are compared and stored as sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, reply: dict[str, Any]) -> dict[str, Any]:
        """The producer's side: the reply, checked against its model."""
        return cls.model_validate(reply).as_reply()

    @classmethod
    def read(cls, reply: dict[str, Any]) -> Self:
        """The consumer's side: the reply as its model."""
        return cls.model_validate(reply)

    def as_reply(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


# --- accounts ----------------------------------------------------------------------


class PartnerInfo(Reply):
    """``accounts.partner_info``: a partner's name, category and status (it sells
    only when ``verified``, R-ACC-8); ids only, no personal data."""

    partner_id: str
    name: str
    category: str
    status: str
    via_agency: bool
    time_zone: str


# --- catalog: holds (R-RSV-3) ---------------------------------------------------------


class FeeTierFields(BaseModel):
    """The fields of a fee tier of a cancellation policy (R-CAT-6), here and in the
    HTTP contract (``contract.catalog``, ``contract.reservations``)."""

    hours_before: int
    fee_percent: int


Tier = TypeVar("Tier", bound=FeeTierFields)


class CancelPolicyFields(BaseModel, Generic[Tier]):
    """The fields of a cancellation policy (R-CAT-6), its tiers of the model
    ``Tier``: one list for the reply below and the HTTP contract's models."""

    kind: Literal["free_until_deadline", "fee_tiers", "non_refundable"]
    deadline_hours_before: int
    fee_tiers: list[Tier]
    non_refundable: bool
    auto_cancel_unused: bool
    complete_after_use: bool


class FeeTier(FeeTierFields, Reply):
    pass


class CancelPolicy(CancelPolicyFields[FeeTier], Reply):
    """The cancellation policy of the version sold (R-CAT-6), kept by the booking."""


class HeldProduct(Reply):
    """What the caller keeps of a product a hold sold: its version and terms."""

    version: int
    name: str
    kind: Literal["booking", "goods"]
    payment: str | None
    schedule_type: str | None
    quantity_mode: str | None
    cancel_policy: CancelPolicy | None


class HeldLine(Reply):
    """One line as the live version priced it: a booking price on a date/time
    (``price_id``, ``date``, ``time``) or a goods option (``option_id``)."""

    line: int
    product_id: str
    kind: Literal["booking", "goods"]
    version: int
    name: str
    quantity: int
    amount: int
    released: int
    price_id: str | None = None
    option_id: str | None = None
    label: str
    unit_price: int
    date: str | None = None
    time: str | None = None


class HoldCoupon(Reply):
    """The coupon the hold redeemed (issue #11)."""

    coupon_id: str
    name: str
    code: str | None
    discount_type: Literal["fixed", "percent"]
    redemption_key: str
    discount_amount: int


class ReleasedNow(Reply):
    line: int
    quantity: int


class HoldReply(Reply):
    """``catalog.hold``, ``catalog.release`` and ``catalog.get_hold``: the hold as
    first granted, its status now, and (a release) what came back now.
    ``total`` is what the customer pays: ``subtotal`` - ``discount_amount``."""

    hold_id: str
    partner_id: str
    status: Literal["held", "released"]
    created_at: str | None = None
    lines: list[HeldLine]
    total: int
    products: dict[str, HeldProduct]
    subtotal: int = 0
    discount_amount: int = 0
    coupon: HoldCoupon | None = None
    released_now: list[ReleasedNow] | None = None


# --- catalog: products as other services read them -----------------------------------


class ProductSummary(Reply):
    """``catalog.shop_get_product`` and ``catalog.get_live_product``: the approved
    version (R-CAT-5) with its display state (R-CAT-4). The fields other
    services read are typed; the rest of the content (prices or options,
    schedule, policy, availability, partner and place) travels with it."""

    model_config = ConfigDict(extra="allow")

    product_id: str
    partner_id: str
    kind: Literal["booking", "goods"]
    version: int
    name: str
    display_state: Literal["bookable", "unavailable", "closed", "upcoming"]


# --- insights: who a channel message reaches (R-NTF-3) ------------------------------------


class ChannelAudienceQuery(Reply):
    """What notifications asks ``insights.channel_audience`` (the request, checked on
    both sides like a reply): ``all`` the partner's customers, ``booked_on`` who holds
    a booking awaiting its visit on ``use_date``, or those of ``customer_ids`` who are
    the partner's customers."""

    audience: Literal["all", "booked_on", "customers"]
    use_date: date | None = None  # a date, not a string: insights queries by it (a bad one is a 422, not a 500)
    customer_ids: list[str] | None = None


class ChannelAudience(Reply):
    """``insights.channel_audience``: the customers' ids in order, never an erased customer's."""

    customer_ids: list[str]
