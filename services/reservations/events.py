"""Payloads of the events reservations publishes (chassis.contracts.RESERVATION_PAYLOADS),
written to the outbox in the same transaction as the transition they report.

reservation.requested      a booking awaits the partner's confirmation (R-RSV-1, R-RSV-7)
reservation.confirmed      confirmed by the partner, or at once (actor "system") for auto-confirm products
reservation.rejected       refused by the partner, with the reason (R-RSV-2)
reservation.cancelled      by the customer (refund and fee, R-RSV-4; ``partial`` for some lines) or the partner
reservation.expired        a request not confirmed in time (status cancelled, reason request_expired)
reservation.completed      used (R-RSV-6; by the partner, or by the timer for unpaid products, R-CAT-6)
reservation.no_show        not used (by the partner, or the timer for prepaid products with auto-cancel)
reservation.date_changed   moved to another date (R-RSV-5), with the previous date and time
reservation.shared         the booker shared it (R-RSV-10; written only once someone subscribes)
reservation.transferred    a friend accepted the ticket (``to_customer_id``, R-RSV-10)
reservation.chat_requested / chat_accepted / chat_declined   (R-RSV-11)
reservation.review_posted  the booker reviewed the completed reservation (``review_id``, ``rating``, ``review_text``)
reservation.review_replied the partner replied to it (``reply_text`` too)

Personal data never leaves in clear: ``booker_name_masked`` only, no phone.
"""

from __future__ import annotations

from chassis.contracts import subscribers_of
from chassis.jsonvalues import pick
from chassis.privacy import mask_name

from .domain import active_quantity, discount_left


def line_payloads(lines: list[dict], quantity=active_quantity) -> list[dict]:
    return [
        {
            "price_id": line["price_id"],
            "label": line["label"],
            "quantity": quantity(line),
            "unit_price": line["unit_price"],
        }
        for line in lines
        if quantity(line) > 0
    ]


def reservation_event(r: dict, *, actor: str, reason: str | None = None, **meaning) -> dict:
    """What every reservation event carries (chassis.contracts.ReservationEvent), and
    ``meaning``: the fields of the event's own kind (``RESERVATION_PAYLOADS``), which
    notifications (R-NTF-1), insights and settlement (R-STL-1) read."""
    return {
        "partner_id": r["partner_id"],
        "reservation_number": r["number"],
        # holder_customer_id (R-RSV-10): after a hand-over the holder, not the booker, gets the reservation's messages
        **pick(r, "product_id", "product_name", "customer_id", "status", "holder_customer_id"),
        "use_date": _date(r["use_date"]),
        "use_time": _time(r["use_time"]),
        "total": r["total"],
        "lines": line_payloads(r["lines"]),
        "booker_name_masked": mask_name(r["booker_name"]),
        "reason": reason,
        "actor": actor,
        "conversation_id": r.get("conversation_id"),
        "payment": r["payment"],
        # issue #11: ``total`` is what the customer pays, after this discount (on the lines still booked)
        "coupon_id": (r.get("coupon") or {}).get("coupon_id"),
        "discount_amount": discount_left(r["lines"], r.get("discount_amount", 0)),
        **meaning,
    }


def money(*, refund: int = 0, fee: int = 0) -> dict:
    """A transition's refund and fee (R-RSV-2, R-RSV-4, R-CAT-6), named only when
    there is one: the kinds that never move money (confirmed, completed) have no such fields."""
    return {
        **({"refund_amount": refund} if refund else {}),
        **({"fee_amount": fee} if fee else {}),
    }


def cancelled_lines(lines: list[dict]) -> list[dict]:
    """What a cancellation took back (R-RSV-4), each line with the quantity cancelled."""
    return line_payloads(lines, quantity=lambda line: line["quantity"])


def previous_slot(previous: tuple) -> dict:
    """A date change's former date and time (R-RSV-5)."""
    return {"previous_date": _date(previous[0]), "previous_time": _time(previous[1])}


def review_event(r: dict, review: dict, *, actor: str) -> dict:
    """A review event (R-RSV-6): the reservation as every event carries it, and the
    review; ``customer_id`` is the reviewer, ``product_id`` what was reviewed."""
    return reservation_event(
        r,
        actor=actor,
        product_id=review["product_id"],
        customer_id=review["customer_id"],
        review_id=str(review["review_id"]),
        rating=review["rating"],
        review_text=review["body"],
        reply_text=review["reply"],
    )


def publish(uow, event_type: str, payload: dict) -> None:
    """Into the outbox, in the caller's transaction. An event type nobody subscribes
    to (today ``reservation.shared``) is not written: the relay publishes with
    ``mandatory`` and would retry an unroutable event forever. It flows as soon as
    a subscription to it is declared in chassis.contracts."""
    if subscribers_of(event_type):
        uow.publish(event_type, payload, partner_id=payload["partner_id"])


def _date(value) -> str | None:
    return value.isoformat() if value is not None and not isinstance(value, str) else value


def _time(value) -> str | None:
    return value.strftime("%H:%M") if value is not None and not isinstance(value, str) else value
