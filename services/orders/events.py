"""Payloads of the order events (chassis.contracts.OrderChanged), one per transition.

Every event carries the whole order as notifications and settlement need it:
the lines with their amounts (``amount`` = unit price x units still on the
line, refunded ones included: ``total`` is what was paid), the refund of this
event and which lines it concerns, the courier and invoice number, the
reason, and who acted (``customer``, ``partner`` or ``system``). No name,
phone or address: the customer is named by id only.
"""

from __future__ import annotations

from chassis.jsonvalues import pick


def line_payload(line: dict) -> dict:
    return {
        **pick(line, "line_id", "product_id", "product_name", "option_id", "option_label", "quantity", "unit_price"),
        "amount": line["unit_price"] * line["quantity"],
        "refunded_quantity": line["refunded_quantity"],
    }


def order_payload(
    order: dict,
    lines: list[dict],
    *,
    actor: str,
    reason: str | None = None,
    refund_amount: int = 0,
    refunded_line_ids: list[str] | None = None,
    request_id: str | None = None,
    review: dict | None = None,
    refund_products: dict[str, int] | None = None,
    exchange: dict | None = None,
) -> dict:
    """``review``: the reviews row of order.review_posted / review_replied, whose
    line, rating, text and reply the event carries (issue #11: insights lists
    reviews from the events alone)."""
    return {
        **(review_fields(review) if review else {}),
        **(exchange_fields(exchange) if exchange else {}),
        "partner_id": order["partner_id"],
        "order_id": str(order["order_id"]),
        "customer_id": order["customer_id"],
        "channel": order["channel"],
        "status": order["status"],
        "total": order["total"],
        "lines": [line_payload(line) for line in lines],
        "refund_amount": refund_amount,
        "refunded_line_ids": refunded_line_ids or [],
        # issue 18: this event's refund per product, by chassis.money's one allocation rule
        "refund_products": [{"product_id": pid, "amount": amount} for pid, amount in (refund_products or {}).items()],
        "request_id": str(request_id) if request_id else None,
        "reason": reason,
        "actor": actor,
        "courier": order["courier"],
        "invoice_number": order["invoice_number"],
        "tracking_url": order.get("tracking_url"),
        "payment_status": order["payment_status"],
        "refunded_total": order["refunded_amount"],
        # issue 18: the short number called out ("37번"), the expected ready time (seed 004 소요 시간)
        "number": order.get("number"),
        "ready_at": order["ready_at"].isoformat() if order.get("ready_at") else None,
        # issue #11: ``total`` is what the customer paid, after this coupon discount
        "coupon_id": (order.get("coupon") or {}).get("coupon_id"),
        "discount_amount": order.get("discount_amount", 0),
    }


def exchange_fields(request: dict) -> dict:
    """Issue 18 item 7: the exchange's return pickup and replacement shipment."""
    return {
        "return_courier": request.get("return_courier"),
        "return_invoice_number": request.get("return_invoice_number"),
        "return_tracking_url": request.get("return_tracking_url"),
        "exchange_courier": request.get("courier"),
        "exchange_invoice_number": request.get("invoice_number"),
        "exchange_tracking_url": request.get("tracking_url"),
    }


def review_fields(review: dict) -> dict:
    return {
        "review_line_id": review["line_id"],
        "rating": review["rating"],
        "review_text": review["body"],
        "reply_text": review["reply"],
    }


def publish(uow, event_type: str, order: dict, lines: list[dict], **fields) -> None:
    uow.publish(event_type, order_payload(order, lines, **fields), partner_id=order["partner_id"])
