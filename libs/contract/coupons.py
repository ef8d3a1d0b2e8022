"""Coupons area of the HTTP contract (issue #11): partners define coupons,
issue them or publish a code, pause and resume them; customers list the
coupons given to them. The request bodies and query strings are the classes
the catalog service (which owns coupons) validates with."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from chassis.coupons import COUPON_CODE
from chassis.paging import PageQuery
from chassis.validation import Strict

from .common import Out, Page, Timestamp, examples

ProductRef = Annotated[str, Field(min_length=1, max_length=64)]
DiscountType = Literal["fixed", "percent"]
Distribution = Literal["code", "issued"]
CouponState = Literal["active", "paused", "scheduled", "expired", "exhausted"]


# --- request bodies -------------------------------------------------------------------------


class CouponFields(Strict):
    """What a partner sets on a coupon; None means "not given" (in a PATCH, null
    clears an optional field). Cross-field rules are in the catalog's domain.coupon_settings."""

    name: str | None = Field(None, min_length=1, max_length=100)
    discount_type: DiscountType | None = None
    amount: int | None = Field(None, ge=1, le=100_000_000)  # fixed: KRW off
    percent: int | None = Field(None, ge=1, le=100)  # percent: of the applicable lines
    max_discount: int | None = Field(None, ge=1, le=100_000_000)  # percent: a cap in KRW
    min_spend: int | None = Field(None, ge=0, le=1_000_000_000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    product_ids: list[ProductRef] | None = Field(None, max_length=100)  # empty: all of the partner's
    total_limit: int | None = Field(None, ge=1, le=10_000_000)
    per_customer_limit: int | None = Field(None, ge=1, le=1000)
    code: str | None = Field(None, pattern=COUPON_CODE)


class CouponCreate(CouponFields):
    model_config = examples(
        {
            "name": "첫 방문 5천원 할인",
            "discount_type": "fixed",
            "amount": 5000,
            "min_spend": 20000,
            "distribution": "code",
            "code": "WELCOME5000",
            "total_limit": 100,
        },
        {
            "name": "단골 10%",
            "discount_type": "percent",
            "percent": 10,
            "max_discount": 10000,
            "distribution": "issued",
            "ends_at": "2026-12-31T23:59:59+09:00",
        },
    )
    name: str = Field(min_length=1, max_length=100)
    discount_type: DiscountType
    min_spend: int = Field(0, ge=0, le=1_000_000_000)
    product_ids: list[ProductRef] = Field(default_factory=list, max_length=100)
    per_customer_limit: int | None = Field(1, ge=1, le=1000)
    distribution: Distribution  # a published code, or given to customers
    paused: bool = False


class CouponPatch(CouponFields):
    """Any subset; ``distribution`` never changes, pause and resume have their own routes."""

    model_config = examples({"total_limit": 200}, {"ends_at": None})


class IssueIn(Strict):
    model_config = examples({"customer_ids": ["0b6f2f3e-2b7c-4f58-9a0e-3d8e5f1c7a22"]})
    customer_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=1000)


# --- query strings ---------------------------------------------------------------------------


class CouponListQuery(PageQuery):
    partner_id: str | None = Field(None, min_length=1, max_length=64)


# --- responses ---------------------------------------------------------------------------------


class CouponTerms(Out):
    """What a coupon takes off and when: the part a partner's and a customer's view share."""

    coupon_id: str
    partner_id: str
    name: str
    discount_type: DiscountType
    amount: int | None
    percent: int | None
    max_discount: int | None
    min_spend: int
    starts_at: Timestamp | None
    ends_at: Timestamp | None


class Coupon(CouponTerms):
    """A coupon as its partner manages it: settings, state and use. Money in KRW."""

    model_config = examples(
        {
            "coupon_id": "1c7e...",
            "partner_id": "9d1e...",
            "name": "첫 방문 5천원 할인",
            "discount_type": "fixed",
            "amount": 5000,
            "percent": None,
            "max_discount": None,
            "min_spend": 20000,
            "starts_at": None,
            "ends_at": None,
            "product_ids": [],
            "total_limit": 100,
            "per_customer_limit": 1,
            "distribution": "code",
            "code": "WELCOME5000",
            "paused": False,
            "state": "active",
            "redeemed": 3,
            "remaining": 97,
            "issued": 0,
            "created_at": "2026-12-01T09:00:00+00:00",
            "updated_at": "2026-12-01T09:00:00+00:00",
        }
    )
    product_ids: list[str] = Field(description="empty: every product of the partner")
    total_limit: int | None
    per_customer_limit: int | None
    distribution: Distribution
    code: str | None
    paused: bool
    state: CouponState
    redeemed: int
    remaining: int | None = Field(description="null: no total limit")
    issued: int = Field(description="customers given it (issued coupons)")
    created_at: Timestamp
    updated_at: Timestamp


class CouponIssued(Coupon):
    issued_now: int = Field(description="customers given it by this call (giving twice is harmless)")


class CustomerCoupon(CouponTerms):
    """A coupon given to me: what it takes off, when, and what is left of it for me."""

    product_ids: list[str]
    state: CouponState
    issued_at: Timestamp
    used: int
    per_customer_limit: int | None
    uses_left: int | None


CouponPage = Page[Coupon]
CustomerCouponPage = Page[CustomerCoupon]
