"""A customer's coupon on a booking or an order (issue #11): what reservations
and orders both do with it. The coupon itself (its limits, its discount, its
redemption) is the catalog's; the booking or order names it by ``coupon_code``
or ``coupon_id`` and hands it to the catalog ``hold`` that redeems it."""

from __future__ import annotations

from typing import Any

from .errors import ValidationFailed

COUPON_CODE = r"^[A-Za-z0-9_-]{3,30}$"  # what customers type; case does not matter
COUPON_FIELDS = ("coupon_code", "coupon_id")


def check_one_coupon(code: str | None, coupon_id: str | None) -> None:
    if code is not None and coupon_id is not None:
        raise ValidationFailed(
            message="request body is invalid",
            details={"fields": {"coupon_id": "give coupon_code or coupon_id, not both"}},
        )


def without_unnamed_coupon(body: dict[str, Any]) -> dict[str, Any]:
    """The creation body as fingerprinted: without the coupon fields when none is
    named, so the fingerprint of a body without a coupon is what it always was."""
    return {k: v for k, v in body.items() if not (k in COUPON_FIELDS and v is None)}


def hold_coupon(
    code: str | None, coupon_id: str | None, customer_id: str, redemption_key: str
) -> dict[str, Any] | None:
    """The catalog hold's ``coupon`` argument, or None without a coupon."""
    if code is None and coupon_id is None:
        return None
    return {"code": code, "coupon_id": coupon_id, "customer_id": customer_id, "redemption_key": redemption_key}


def coupon_of_hold(hold: dict[str, Any]) -> dict[str, Any] | None:
    """What the booking or order keeps of the coupon its hold redeemed."""
    coupon = hold.get("coupon")
    return {"coupon_id": coupon["coupon_id"], "name": coupon["name"], "code": coupon["code"]} if coupon else None


def discount_share(discount: int, part: int, whole: int) -> int:
    """The share of a ``discount`` on ``whole`` that goes with ``part`` of it.
    Counted on cumulative parts (everything cancelled or refunded so far), the
    shares of successive parts add up to the whole discount exactly."""
    if not discount or whole <= 0:
        return 0
    return discount * part // whole
