"""Message templates per event kind, in Korean and English, with action links (R-NTF-2).

A template says who receives it (``audience``), which partner roles among the
staff (``roles``), when it applies (``applies``), its title and body in each
language, and its actions. Texts are rendered from ``params``: the payload
fields a message needs, kept raw (amounts as integers) and formatted per
language at render time. The params are stored with the message, so a
message can be re-rendered without a personal field when its subject is
erased.

Actions are links into the gateway's API (``method`` + ``href``): the partner
and consumer apps map them to their screens, and partners' own systems can
call them directly. An action whose path needs a value the event did not
carry (an order event without ``request_id``) is left out.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

LANGUAGES = ("ko", "en")

# Who receives a template's message.
STAFF = "staff"  # the partner's staff, filtered by ``roles`` (R-NTF-1)
CUSTOMER = "customer"  # payload.holder_customer_id, else customer_id: after a hand-over the holder (R-RSV-10)
BOOKER = "booker"  # payload.customer_id even after a hand-over: who booked (told of the hand-over)
NEW_HOLDER = "new_holder"  # payload.to_customer_id: who a ticket was handed to (R-RSV-10)
INVITEE = "invitee"  # payload.member_id: the member invited to a partner (R-ACC-6)
OPERATORS = "operators"  # every platform operator (accounts.operator_ids): applications to review

# Params that are personal data: dropped, and the message re-rendered, on erasure.
PERSONAL_PARAMS = ("booker",)


@dataclass(frozen=True)
class Action:
    kind: str
    method: str
    href: str
    ko: str
    en: str
    applies: Callable[[dict], bool] = lambda params: True


@dataclass(frozen=True)
class Template:
    key: str
    audience: str
    ko: tuple[str, str]  # (title, body)
    en: tuple[str, str]
    actions: tuple[Action, ...] = ()
    roles: str = "operate"  # staff templates: which role group (domain.STAFF_ROLE_GROUPS)
    applies: Callable[[dict], bool] = field(default=lambda params: True)


def _not_by_partner(params: dict) -> bool:
    """The partner's own action needs no message to the partner (R-RSV-7 is about others' changes)."""
    return params.get("actor") != "partner"


# --- actions ------------------------------------------------------------------

P_RSV = "/v1/partners/{partner_id}/reservations/{reservation_number}"
C_RSV = "/v1/shop/reservations/{reservation_number}"
P_ORDER = "/v1/partners/{partner_id}/orders/{order_id}"
C_ORDER = "/v1/shop/orders/{order_id}"

VIEW_RSV_P = Action("view", "GET", P_RSV, "예약 상세보기", "View booking")
CONFIRM_RSV = Action("confirm", "POST", P_RSV + "/confirm", "예약 확정", "Confirm")
REJECT_RSV = Action("reject", "POST", P_RSV + "/reject", "예약 거절", "Reject")
VIEW_RSV_C = Action("view", "GET", C_RSV, "예약 확인", "View booking")
REVIEW_RSV = Action("write_review", "POST", C_RSV + "/reviews", "후기 작성", "Write a review")
REPLY_REVIEW = Action("reply", "POST", "/v1/partners/{partner_id}/reviews/{review_id}/reply", "답글 달기", "Reply")
START_CHAT = Action(
    "start_chat", "POST", "/v1/shop/chat-invitations/{invitation_id}/accept", "채팅 시작하기", "Start chat"
)
DECLINE_CHAT = Action("decline_chat", "POST", "/v1/shop/chat-invitations/{invitation_id}/decline", "거절", "Decline")
OPEN_CHAT_P = Action(
    "open_chat", "GET", "/v1/partners/{partner_id}/conversations/{conversation_id}/messages", "채팅방 열기", "Open chat"
)

VIEW_ORDER_P = Action("view", "GET", P_ORDER, "주문 상세보기", "View order")
SHIPPED_CHANNELS = ("delivery", "parcel")
START_PREPARING = Action(
    "start_preparing",
    "POST",
    P_ORDER + "/start-preparing",
    "준비 시작",
    "Start preparing",
    lambda p: p.get("channel") in ("dine_in", "takeout"),
)
PREPARE_SHIPMENT = Action(
    "prepare_shipment",
    "POST",
    P_ORDER + "/prepare-shipment",
    "배송 준비",
    "Prepare shipment",
    lambda p: p.get("channel") in ("delivery", "parcel"),
)
CANCEL_ORDER_P = Action("cancel", "POST", P_ORDER + "/cancel", "주문 취소", "Cancel order")
VIEW_ORDER_C = Action("view", "GET", C_ORDER, "주문 확인", "View order")
REVIEW_ORDER = Action("write_review", "POST", C_ORDER + "/reviews", "후기 작성", "Write a review")


def _request_actions(kind: str, ko_noun: str, en_noun: str) -> tuple[Action, ...]:
    base = "/v1/partners/{partner_id}/" + kind + "/{request_id}"
    return (
        VIEW_ORDER_P,
        Action("approve", "POST", base + "/approve", f"{ko_noun} 승인", f"Approve {en_noun}"),
        Action("reject", "POST", base + "/reject", f"{ko_noun} 거절", f"Reject {en_noun}"),
    )


VIEW_PRODUCT = Action("view", "GET", "/v1/partners/{partner_id}/products/{product_id}", "상품 보기", "View product")
VIEW_PARTNER = Action("view", "GET", "/v1/partners/{partner_id}", "파트너 정보", "View partner")
RESUBMIT = Action("resubmit", "POST", "/v1/partners/{partner_id}/resubmit", "재심사 요청", "Re-submit")
REVIEW_QUEUE = Action("queue", "GET", "/v1/ops/partners?status=pending_verification", "검수 대기 목록", "Review queue")
VERIFY_PARTNER = Action("verify", "POST", "/v1/ops/partners/{partner_id}/verify", "승인", "Verify")
REJECT_PARTNER = Action("reject", "POST", "/v1/ops/partners/{partner_id}/reject", "반려", "Reject")


# --- templates ------------------------------------------------------------------


def _t(key, audience, ko, en, actions=(), roles="operate", applies=None) -> Template:
    return Template(key, audience, ko, en, tuple(actions), roles, applies or (lambda params: True))


TEMPLATES: dict[str, tuple[Template, ...]] = {
    # Reservations (R-RSV-6, R-RSV-7, R-RSV-10, R-RSV-11)
    "reservation.requested": (
        _t(
            "reservation.requested/partner",
            STAFF,
            (
                "새 예약 신청",
                "{product_name} {when} 예약 신청이 들어왔습니다. 예약번호 {reservation_number}, "
                "예약자 {booker}, 결제 금액 {total}. 확정 또는 거절해 주세요.",
            ),
            (
                "New booking request",
                "A booking request for {product_name} on {when} arrived. Reservation "
                "{reservation_number}, booked by {booker}, total {total}. Please confirm or reject it.",
            ),
            (VIEW_RSV_P, CONFIRM_RSV, REJECT_RSV),
        ),
        _t(
            "reservation.requested/customer",
            CUSTOMER,
            (
                "예약 신청 완료",
                "{product_name} {when} 예약을 신청했습니다 (예약번호 {reservation_number}). "
                "파트너가 확정하면 알려 드릴게요.",
            ),
            (
                "Booking requested",
                "You requested {product_name} on {when} (reservation {reservation_number}). "
                "We will tell you when the partner confirms it.",
            ),
            (VIEW_RSV_C,),
        ),
    ),
    "reservation.confirmed": (
        _t(
            "reservation.confirmed/customer",
            CUSTOMER,
            ("예약 확정", "{product_name} {when} 예약이 확정되었습니다 (예약번호 {reservation_number})."),
            (
                "Booking confirmed",
                "Your booking for {product_name} on {when} is confirmed (reservation {reservation_number}).",
            ),
            (VIEW_RSV_C,),
        ),
        # A product that confirms by itself: this is the partner's "new booking" (R-RSV-7).
        _t(
            "reservation.confirmed/partner",
            STAFF,
            (
                "새 예약 (자동 확정)",
                "{product_name} {when} 예약이 자동으로 확정되었습니다. 예약번호 "
                "{reservation_number}, 예약자 {booker}, 결제 금액 {total}.",
            ),
            (
                "New booking (confirmed automatically)",
                "A booking for {product_name} on {when} was confirmed "
                "automatically. Reservation {reservation_number}, booked by "
                "{booker}, total {total}.",
            ),
            (VIEW_RSV_P,),
            applies=lambda p: p.get("actor") == "system",
        ),
    ),
    "reservation.rejected": (
        _t(
            "reservation.rejected/customer",
            CUSTOMER,
            ("예약 거절", "{product_name} {when} 예약이 거절되었습니다. 사유: {reason}"),
            ("Booking rejected", "Your booking for {product_name} on {when} was rejected. Reason: {reason}"),
            (VIEW_RSV_C,),
        ),
    ),
    "reservation.cancelled": (
        # R-RSV-4: part of a booking may be cancelled; the rest stays booked.
        _t(
            "reservation.cancelled/customer_partial",
            CUSTOMER,
            (
                "예약 일부 취소",
                "{product_name} {when} 예약 중 일부가 취소되었습니다 (예약번호 {reservation_number}). "
                "환불 금액 {refund_amount}, 취소 수수료 {fee_amount}. 나머지 예약은 유지됩니다.",
            ),
            (
                "Booking partly cancelled",
                "Part of your booking for {product_name} on {when} was cancelled "
                "(reservation {reservation_number}). Refund {refund_amount}, cancellation "
                "fee {fee_amount}. The rest stays booked.",
            ),
            (VIEW_RSV_C,),
            applies=lambda p: bool(p.get("partial")),
        ),
        _t(
            "reservation.cancelled/partner_partial",
            STAFF,
            (
                "예약 일부 취소",
                "{product_name} {when} 예약 중 일부가 취소되었습니다. 예약번호 {reservation_number}, 예약자 {booker}.",
            ),
            (
                "Booking partly cancelled",
                "Part of the booking for {product_name} on {when} was cancelled. "
                "Reservation {reservation_number}, booked by {booker}.",
            ),
            (VIEW_RSV_P,),
            applies=lambda p: bool(p.get("partial")) and _not_by_partner(p),
        ),
        _t(
            "reservation.cancelled/customer",
            CUSTOMER,
            (
                "예약 취소",
                "{product_name} {when} 예약이 취소되었습니다 (예약번호 {reservation_number}). "
                "환불 금액 {refund_amount}, 취소 수수료 {fee_amount}.",
            ),
            (
                "Booking cancelled",
                "Your booking for {product_name} on {when} was cancelled (reservation "
                "{reservation_number}). Refund {refund_amount}, cancellation fee {fee_amount}.",
            ),
            (VIEW_RSV_C,),
            applies=lambda p: not p.get("partial"),
        ),
        _t(
            "reservation.cancelled/partner",
            STAFF,
            (
                "예약 취소",
                "{product_name} {when} 예약이 취소되었습니다. 예약번호 {reservation_number}, "
                "예약자 {booker}. 사유: {reason}",
            ),
            (
                "Booking cancelled",
                "The booking for {product_name} on {when} was cancelled. Reservation "
                "{reservation_number}, booked by {booker}. Reason: {reason}",
            ),
            (VIEW_RSV_P,),
            applies=lambda p: not p.get("partial") and _not_by_partner(p),
        ),
    ),
    "reservation.completed": (
        # R-RSV-6: visit complete, with the review invitation.
        _t(
            "reservation.completed/customer",
            CUSTOMER,
            ("이용 완료", "{product_name} 이용이 완료되었습니다. 방문해 주셔서 감사합니다. 후기를 남겨 주세요!"),
            ("Visit completed", "Thank you for visiting {product_name}. Tell others how it went: write a review!"),
            (VIEW_RSV_C, REVIEW_RSV),
        ),
    ),
    "reservation.no_show": (
        _t(
            "reservation.no_show/customer",
            CUSTOMER,
            ("노쇼 처리 안내", "{product_name} {when} 예약이 노쇼로 처리되었습니다 (예약번호 {reservation_number})."),
            (
                "Marked as no-show",
                "Your booking for {product_name} on {when} was marked as a no-show (reservation {reservation_number}).",
            ),
            (VIEW_RSV_C,),
        ),
    ),
    "reservation.date_changed": (
        _t(
            "reservation.date_changed/customer",
            CUSTOMER,
            ("예약 일정 변경", "{product_name} 예약 일정이 {previous_when}에서 {when}(으)로 변경되었습니다."),
            ("Booking date changed", "Your booking for {product_name} moved from {previous_when} to {when}."),
            (VIEW_RSV_C,),
        ),
        _t(
            "reservation.date_changed/partner",
            STAFF,
            (
                "예약 일정 변경",
                "예약번호 {reservation_number} ({product_name}, 예약자 {booker})의 일정이 "
                "{previous_when}에서 {when}(으)로 변경되었습니다.",
            ),
            (
                "Booking date changed",
                "Reservation {reservation_number} ({product_name}, booked by {booker}) "
                "moved from {previous_when} to {when}.",
            ),
            (VIEW_RSV_P,),
            applies=_not_by_partner,
        ),
    ),
    "reservation.transferred": (
        _t(
            "reservation.transferred/new_holder",
            NEW_HOLDER,
            ("티켓이 도착했습니다", "{product_name} {when} 티켓을 받았습니다 (예약번호 {reservation_number})."),
            (
                "A ticket for you",
                "You received a ticket for {product_name} on {when} (reservation {reservation_number}).",
            ),
            (VIEW_RSV_C,),
        ),
        _t(
            "reservation.transferred/customer",
            BOOKER,
            ("티켓 양도 완료", "{product_name} {when} 티켓을 양도했습니다 (예약번호 {reservation_number})."),
            (
                "Ticket handed over",
                "You handed over your ticket for {product_name} on {when} (reservation {reservation_number}).",
            ),
            (),
        ),
    ),
    "reservation.chat_requested": (
        _t(
            "reservation.chat_requested/customer",
            CUSTOMER,
            (
                "채팅 요청",
                "{product_name} {when} 예약(예약번호 {reservation_number})에 대해 파트너가 채팅을 "
                "요청했습니다. 수락하면 대화가 시작됩니다.",
            ),
            (
                "Chat request",
                "The partner would like to chat about your booking for {product_name} on {when} "
                "(reservation {reservation_number}). Accept to start the conversation.",
            ),
            (START_CHAT, DECLINE_CHAT, VIEW_RSV_C),
        ),
    ),
    "reservation.chat_accepted": (
        _t(
            "reservation.chat_accepted/partner",
            STAFF,
            (
                "채팅 수락",
                "예약번호 {reservation_number} ({product_name}) 고객이 채팅을 수락했습니다. 대화를 시작해 보세요.",
            ),
            (
                "Chat accepted",
                "The customer of reservation {reservation_number} ({product_name}) accepted your "
                "chat request. Start the conversation.",
            ),
            (OPEN_CHAT_P, VIEW_RSV_P),
        ),
    ),
    "reservation.chat_declined": (
        _t(
            "reservation.chat_declined/partner",
            STAFF,
            ("채팅 거절", "예약번호 {reservation_number} ({product_name}) 고객이 채팅 요청을 거절했습니다."),
            (
                "Chat declined",
                "The customer of reservation {reservation_number} ({product_name}) declined your chat request.",
            ),
            (VIEW_RSV_P,),
        ),
    ),
    "reservation.expired": (
        _t(
            "reservation.expired/customer",
            CUSTOMER,
            ("예약 신청 만료", "{product_name} {when} 예약 신청이 기한 내에 확정되지 않아 만료되었습니다."),
            (
                "Booking request expired",
                "Your booking request for {product_name} on {when} was not confirmed in time and has expired.",
            ),
            (VIEW_RSV_C,),
        ),
        _t(
            "reservation.expired/partner",
            STAFF,
            (
                "확정 대기 만료",
                "예약번호 {reservation_number} ({product_name} {when}) 신청이 기한 내에 확정되지 않아 만료되었습니다.",
            ),
            (
                "Booking request expired",
                "Reservation request {reservation_number} ({product_name} on {when}) "
                "was not confirmed in time and has expired.",
            ),
            (VIEW_RSV_P,),
        ),
    ),
    # Reviews of completed reservations (R-RSV-6, R-CAT-6): the partner replies once.
    "reservation.review_posted": (
        _t(
            "reservation.review_posted/partner",
            STAFF,
            ("새 후기", "{product_name} 예약(예약번호 {reservation_number})에 {rating}점 후기가 등록되었습니다."),
            ("New review", "A customer rated {product_name} {rating}/5 (reservation {reservation_number})."),
            (VIEW_RSV_P, REPLY_REVIEW),
        ),
    ),
    "reservation.review_replied": (
        _t(
            "reservation.review_replied/customer",
            CUSTOMER,
            ("후기 답글", "{product_name} 후기에 파트너가 답글을 남겼습니다."),
            ("Reply to your review", "The partner replied to your review of {product_name}."),
            (VIEW_RSV_C,),
        ),
    ),
    # Orders (R-ORD-1..9)
    "order.received": (
        _t(
            "order.received/partner",
            STAFF,
            ("새 주문 ({channel})", "{items} 주문이 접수되었습니다. 주문번호 {order_no}, 결제 금액 {total}."),
            ("New order ({channel})", "New order: {items}. Order {order_no}, total {total}."),
            (VIEW_ORDER_P, START_PREPARING, PREPARE_SHIPMENT, CANCEL_ORDER_P),
        ),
        _t(
            "order.received/customer",
            CUSTOMER,
            ("주문 접수", "{items} 주문이 접수되었습니다 (주문번호 {order_no}, {total})."),
            ("Order received", "Your order ({items}) was received (order {order_no}, {total})."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.preparing": (
        _t(
            "order.preparing/customer",
            CUSTOMER,
            ("주문 준비 중", "{items} 주문을 준비하고 있습니다."),
            ("Order being prepared", "The partner is preparing your order: {items}."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.completed": (  # a delivered order's completion is told by its one delivery message (issue 18)
        _t(
            "order.completed/customer",
            CUSTOMER,
            ("주문 완료", "{items} 주문이 완료되었습니다. 후기를 남겨 주세요!"),
            ("Order completed", "Your order ({items}) is complete. Tell others how it went: write a review!"),
            (VIEW_ORDER_C, REVIEW_ORDER),
            applies=lambda params: params.get("channel") not in SHIPPED_CHANNELS,
        ),
    ),
    "order.cancelled": (
        _t(
            "order.cancelled/customer",
            CUSTOMER,
            (
                "주문 취소",
                "{items} 주문이 취소되었습니다 (주문번호 {order_no}). 환불 금액 {refund_amount}.{reason_note}",
            ),
            (
                "Order cancelled",
                "Your order ({items}) was cancelled (order {order_no}). Refund {refund_amount}.{reason_note}",
            ),
            (VIEW_ORDER_C,),
        ),
        _t(
            "order.cancelled/partner",
            STAFF,
            ("주문 취소", "주문번호 {order_no} ({items}) 주문이 취소되었습니다.{reason_note}"),
            ("Order cancelled", "Order {order_no} ({items}) was cancelled.{reason_note}"),
            (VIEW_ORDER_P,),
            applies=_not_by_partner,
        ),
    ),
    "order.shipment_prepared": (
        _t(
            "order.shipment_prepared/customer",
            CUSTOMER,
            ("배송 준비 중", "{items} 상품의 배송을 준비하고 있습니다."),
            ("Preparing shipment", "The partner is preparing your order ({items}) for shipment."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.shipped": (
        _t(
            "order.shipped/customer",
            CUSTOMER,
            ("배송 시작", "{items} 상품이 발송되었습니다. 택배사 {courier}, 송장번호 {invoice_number}.{tracking_note}"),
            (
                "Shipped",
                "Your order ({items}) is on its way. Courier {courier}, tracking number {invoice_number}."
                "{tracking_note}",
            ),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.shipment_corrected": (
        _t(
            "order.shipment_corrected/customer",
            CUSTOMER,
            (
                "송장 정보 변경",
                "{items} 상품의 배송 정보가 변경되었습니다. 택배사 {courier}, 송장번호 {invoice_number}."
                "{tracking_note}",
            ),
            (
                "Tracking details corrected",
                "The shipping details of your order ({items}) changed. Courier "
                "{courier}, tracking number {invoice_number}.{tracking_note}",
            ),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.delivered": (
        _t(
            "order.delivered/customer",
            CUSTOMER,
            ("배송 완료", "{items} 상품이 배송 완료되었습니다. 후기를 남겨 주세요!"),
            ("Delivered", "Your order ({items}) was delivered. Tell others how it went: write a review!"),
            (VIEW_ORDER_C, REVIEW_ORDER),
        ),
    ),
    "order.refund_requested": (
        _t(
            "order.refund_requested/partner",
            STAFF,
            ("환불 요청", "주문번호 {order_no} ({items}) 환불 요청이 접수되었습니다. 사유: {reason}"),
            ("Refund requested", "A refund was requested for order {order_no} ({items}). Reason: {reason}"),
            _request_actions("refund-requests", "환불", "refund"),
        ),
        _t(
            "order.refund_requested/customer",
            CUSTOMER,
            ("환불 요청 접수", "{items} 환불 요청이 접수되었습니다. 처리 결과를 알려 드릴게요."),
            ("Refund request received", "Your refund request for {items} was received. We will tell you the outcome."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.refund_approved": (
        _t(
            "order.refund_approved/customer",
            CUSTOMER,
            ("환불 승인", "{items} 환불이 승인되었습니다. 환불 금액 {refund_amount}."),
            ("Refund approved", "Your refund for {items} was approved: {refund_amount}."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.refund_rejected": (
        _t(
            "order.refund_rejected/customer",
            CUSTOMER,
            ("환불 거절", "{items} 환불 요청이 거절되었습니다. 사유: {reason}"),
            ("Refund rejected", "Your refund request for {items} was rejected. Reason: {reason}"),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.exchange_requested": (
        _t(
            "order.exchange_requested/partner",
            STAFF,
            ("교환 요청", "주문번호 {order_no} ({items}) 교환 요청이 접수되었습니다. 사유: {reason}"),
            ("Exchange requested", "An exchange was requested for order {order_no} ({items}). Reason: {reason}"),
            _request_actions("exchange-requests", "교환", "exchange"),
        ),
        _t(
            "order.exchange_requested/customer",
            CUSTOMER,
            ("교환 요청 접수", "{items} 교환 요청이 접수되었습니다. 처리 결과를 알려 드릴게요."),
            (
                "Exchange request received",
                "Your exchange request for {items} was received. We will tell you the outcome.",
            ),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.exchange_approved": (
        _t(
            "order.exchange_approved/customer",
            CUSTOMER,
            ("교환 승인", "{items} 교환 요청이 승인되었습니다. 교환할 상품을 반송해 주세요.{return_note}"),
            (
                "Exchange approved",
                "Your exchange request for {items} was approved. Send the item back to us.{return_note}",
            ),
            (VIEW_ORDER_C,),
        ),
    ),
    # issue 18 item 7: the exchange's own steps, each told to the customer (R-ORD-8)
    "order.exchange_returned": (
        _t(
            "order.exchange_returned/customer",
            CUSTOMER,
            ("반송 상품 도착", "반송하신 {items} 상품이 도착했습니다. 교환 상품을 보내 드릴게요."),
            ("Return received", "We received the {items} you sent back. Your replacement is next."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.exchange_shipped": (
        _t(
            "order.exchange_shipped/customer",
            CUSTOMER,
            (
                "교환 상품 발송",
                "교환 상품이 발송되었습니다. 택배사 {exchange_courier}, 송장번호 {exchange_invoice_number}."
                "{exchange_tracking_note}",
            ),
            (
                "Replacement shipped",
                "Your replacement is on its way. Courier {exchange_courier}, tracking number "
                "{exchange_invoice_number}.{exchange_tracking_note}",
            ),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.exchange_delivered": (
        _t(
            "order.exchange_delivered/customer",
            CUSTOMER,
            ("교환 완료", "교환 상품이 배송 완료되어 교환이 끝났습니다."),
            ("Exchange completed", "Your replacement was delivered: the exchange is complete."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.exchange_rejected": (
        _t(
            "order.exchange_rejected/customer",
            CUSTOMER,
            ("교환 거절", "{items} 교환 요청이 거절되었습니다. 사유: {reason}"),
            ("Exchange rejected", "Your exchange request for {items} was rejected. Reason: {reason}"),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.inquiry_posted": (
        _t(
            "order.inquiry_posted/partner",
            STAFF,
            ("새 문의", "주문번호 {order_no} ({items})에 고객 문의가 등록되었습니다."),
            ("New inquiry", "A customer asked a question about order {order_no} ({items})."),
            (
                VIEW_ORDER_P,
                Action(
                    "answer", "POST", "/v1/partners/{partner_id}/inquiries/{request_id}/answer", "답변하기", "Answer"
                ),
            ),
        ),
    ),
    "order.inquiry_answered": (
        _t(
            "order.inquiry_answered/customer",
            CUSTOMER,
            ("문의 답변", "{items} 문의에 답변이 등록되었습니다."),
            ("Inquiry answered", "The partner answered your question about {items}."),
            (VIEW_ORDER_C,),
        ),
    ),
    "order.review_posted": (
        _t(
            "order.review_posted/partner",
            STAFF,
            ("새 후기", "주문번호 {order_no} ({items})에 후기가 등록되었습니다."),
            ("New review", "A customer reviewed order {order_no} ({items})."),
            (
                VIEW_ORDER_P,
                Action("reply", "POST", "/v1/partners/{partner_id}/reviews/{request_id}/reply", "답글 달기", "Reply"),
            ),
        ),
    ),
    "order.review_replied": (
        _t(
            "order.review_replied/customer",
            CUSTOMER,
            ("후기 답글", "{items} 후기에 파트너가 답글을 남겼습니다."),
            ("Reply to your review", "The partner replied to your review of {items}."),
            (VIEW_ORDER_C,),
        ),
    ),
    # Catalog (R-CAT-3, R-CAT-5): for those who manage products.
    "product.approved": (
        _t(
            "product.approved/partner",
            STAFF,
            ("상품 심사 승인", "'{name}' 상품이 심사를 통과하여 고객에게 노출됩니다."),
            ("Product approved", "'{name}' passed review and is now shown to customers."),
            (VIEW_PRODUCT,),
            roles="manage",
        ),
    ),
    "product.rejected": (
        _t(
            "product.rejected/partner",
            STAFF,
            (
                "상품 심사 반려",
                "'{name}' 상품이 심사에서 반려되었습니다. 사유: {reason}. 고객에게는 이전 승인 버전이 계속 노출됩니다.",
            ),
            (
                "Product rejected",
                "'{name}' was rejected in review. Reason: {reason}. Customers keep seeing "
                "the previously approved version.",
            ),
            (VIEW_PRODUCT,),
            roles="manage",
        ),
    ),
    "product.sold_out": (
        _t(
            "product.sold_out/partner",
            STAFF,
            ("품절 알림", "'{name}' 상품의 재고가 모두 소진되어 품절 처리되었습니다."),
            ("Sold out", "'{name}' ran out of stock and is now sold out."),
            (VIEW_PRODUCT,),
            roles="manage",
        ),
    ),
    # Accounts (R-ACC-6, R-ACC-8)
    "partner.verified": (
        _t(
            "partner.verified/partner",
            STAFF,
            (
                "입점 심사 승인",
                "{name} 비즈니스 인증이 완료되었습니다. 이제 상품을 등록하고 판매를 시작할 수 있습니다.",
            ),
            ("Partner verified", "{name} is verified. You can now list products and open for sale."),
            (VIEW_PARTNER,),
            roles="manage",
        ),
    ),
    "partner.rejected": (
        _t(
            "partner.rejected/partner",
            STAFF,
            (
                "입점 심사 반려",
                "{name} 비즈니스 인증이 반려되었습니다. 사유: {reason}. "
                "사유에 맞게 정보를 고친 뒤 재심사를 요청하세요.",
            ),
            (
                "Partner verification rejected",
                "The verification of {name} was rejected. Reason: {reason}. Correct what it names, then re-submit.",
            ),
            (VIEW_PARTNER, RESUBMIT),
            roles="manage",
        ),
    ),
    # Issue 18 item 13 (R-ACC-8, R-ACC-15): operators hear of every application and re-submission.
    "partner.registered": (
        _t(
            "partner.registered/operators",
            OPERATORS,
            ("새 입점 신청", "{name} ({category}) 파트너가 입점을 신청했습니다. 검수 대기 목록에서 확인하세요."),
            ("New partner application", "{name} ({category}) applied to sell on the platform. See the review queue."),
            (REVIEW_QUEUE, VERIFY_PARTNER, REJECT_PARTNER),
        ),
    ),
    "partner.resubmitted": (
        _t(
            "partner.resubmitted/operators",
            OPERATORS,
            ("입점 재심사 요청", "{name} 파트너가 반려 사유({reason})를 고쳐 다시 제출했습니다. 바뀐 항목: {changed}."),
            (
                "Partner re-submitted",
                "{name} corrected its application after the rejection ({reason}) "
                "and re-submitted it. Changed: {changed}.",
            ),
            (REVIEW_QUEUE, VERIFY_PARTNER, REJECT_PARTNER),
        ),
    ),
    "staff.invited": (
        _t(
            "staff.invited/invitee",
            INVITEE,
            ("파트너 초대", "{role} 역할로 파트너에 초대되었습니다. 수락하면 파트너 목록에 추가됩니다."),
            ("Invitation", "You were invited to a partner as {role}. Accept to add it to your partner list."),
            (
                Action("accept", "POST", "/v1/invitations/{invitation_id}/accept", "수락", "Accept"),
                Action("decline", "POST", "/v1/invitations/{invitation_id}/decline", "거절", "Decline"),
            ),
        ),
    ),
    # Settlement (R-STL-2, R-STL-3): for those who read the finances.
    "payout.scheduled": (
        _t(
            "payout.scheduled/partner",
            STAFF,
            ("정산 예정", "{period_start} ~ {period_end} 정산금 {amount}이(가) {pay_date}에 지급될 예정입니다."),
            ("Payout scheduled", "{amount} for {period_start} to {period_end} will be paid on {pay_date}."),
            (Action("view", "GET", "/v1/partners/{partner_id}/payouts", "정산 내역", "View payouts"),),
            roles="finance",
        ),
    ),
    "tax_invoice.issued": (
        _t(
            "tax_invoice.issued/partner",
            STAFF,
            ("세금계산서 발행", "{period_start} ~ {period_end} 세금계산서(번호 {invoice_number})가 발행되었습니다."),
            ("Tax invoice issued", "Tax invoice {invoice_number} for {period_start} to {period_end} was issued."),
            (Action("view", "GET", "/v1/partners/{partner_id}/tax-invoices", "세금계산서 보기", "View tax invoices"),),
            roles="finance",
        ),
    ),
    # The service's own notice (issue #7: automatic disable of a failing webhook).
    "webhook.disabled": (
        _t(
            "webhook.disabled/partner",
            STAFF,
            (
                "웹훅 비활성화",
                "웹훅 {url}이(가) 연속 {failures}회 전송에 실패하여 비활성화되었습니다. "
                "엔드포인트를 확인한 뒤 다시 활성화해 주세요.",
            ),
            (
                "Webhook disabled",
                "The webhook {url} failed {failures} times in a row and was disabled. "
                "Check the endpoint, then enable it again.",
            ),
            (
                Action(
                    "deliveries",
                    "GET",
                    "/v1/partners/{partner_id}/webhooks/{webhook_id}/deliveries",
                    "전송 기록",
                    "Delivery log",
                ),
                Action(
                    "enable",
                    "POST",
                    "/v1/partners/{partner_id}/webhooks/{webhook_id}/enable",
                    "다시 활성화",
                    "Enable again",
                ),
            ),
            roles="manage",
        ),
    ),
}


# --- params ---------------------------------------------------------------------

_PARAM_FIELDS = (
    "partner_id",
    "reservation_number",
    "product_id",
    "product_name",
    "customer_id",
    "status",
    "use_date",
    "use_time",
    "total",
    "reason",
    "actor",
    "refund_amount",
    "fee_amount",
    "previous_date",
    "previous_time",
    "to_customer_id",
    "invitation_id",
    "conversation_id",
    "order_id",
    "channel",
    "request_id",
    "courier",
    "invoice_number",
    "name",
    "kind",
    "option_id",
    "role",
    "member_id",
    "period_start",
    "period_end",
    "amount",
    "pay_date",
    "webhook_id",
    "url",
    "failures",
    "partial",
    "review_id",
    "rating",
    "category",
    "number",
    "tracking_url",
    "return_courier",
    "return_invoice_number",
    "return_tracking_url",
    "exchange_courier",
    "exchange_invoice_number",
    "exchange_tracking_url",
)


def params_from(payload: dict) -> dict:
    """The payload fields a message may show or link to, raw."""
    params = {key: payload.get(key) for key in _PARAM_FIELDS if payload.get(key) is not None}
    if payload.get("booker_name_masked"):
        params["booker"] = payload["booker_name_masked"]
    if payload.get("changes"):  # partner.resubmitted: the application fields that changed
        params["changed"] = ", ".join(sorted(payload["changes"]))
    lines = payload.get("lines") or []
    if lines and "product_name" in lines[0]:  # order lines name the product
        params["first_item"] = lines[0]["product_name"]
        params["more_items"] = len(lines) - 1
    return params


# --- rendering --------------------------------------------------------------------

_MONEY = ("total", "refund_amount", "fee_amount", "amount")
_CHANNELS = {
    "dine_in": ("매장", "dine-in"),
    "takeout": ("포장", "takeout"),
    "delivery": ("배달", "delivery"),
    "parcel": ("택배", "parcel"),
}
_ROLES = {"admin": ("관리자", "admin"), "master": ("마스터", "master"), "member": ("멤버", "member")}
_MISSING = {"ko": "-", "en": "-"}
_NO_REASON = {"ko": "사유 없음", "en": "none given"}
_ANYTIME = {"ko": "이용 기간 내", "en": "any day of the validity period"}


def money(amount: int, lang: str) -> str:
    return f"{amount:,}원" if lang == "ko" else f"KRW {amount:,}"


def _when(date: str | None, time: str | None, lang: str, undated: dict = _ANYTIME) -> str:
    if not date:
        return undated[lang]
    return f"{date} {time}" if time else date


def _items(params: dict, lang: str) -> str:
    first, more = params.get("first_item"), params.get("more_items", 0)
    if not first:
        return {"ko": "주문 상품", "en": "your items"}[lang]
    if not more:
        return first
    return f"{first} 외 {more}건" if lang == "ko" else f"{first} and {more} more"


class _LanguageView(dict):
    """What a format string sees: the raw params, formatted for one language."""

    def __init__(self, params: dict, lang: str):
        super().__init__(params)
        self.lang = lang
        self.index = LANGUAGES.index(lang)

    def __getitem__(self, key: str):
        lang = self.lang
        if key in _MONEY:
            return money(int(self.get(key) or 0), lang)
        if key == "when":
            return _when(self.get("use_date"), self.get("use_time"), lang)
        if key == "previous_when":
            return _when(self.get("previous_date"), self.get("previous_time"), lang, _MISSING)
        if key == "items":
            return _items(self, lang)
        if key == "order_no":  # the short number of the partner's day ("37번"), else the order id (issue 18)
            number = self.get("number")
            return (f"{number}번" if lang == "ko" else f"#{number}") if number else self.get("order_id") or "-"
        if key == "reason_note":  # no "사유: 사유 없음" when none was given (issue 18)
            reason = self.get("reason")
            return (f" 사유: {reason}" if lang == "ko" else f" Reason: {reason}") if reason else ""
        if key in ("tracking_note", "exchange_tracking_note"):  # the courier's tracking page (R-ORD-7)
            url = self.get(key.replace("_note", "_url"))
            return (f" 배송 조회: {url}" if lang == "ko" else f" Track it: {url}") if url else ""
        if key == "return_note":  # the return pickup, when the partner booked it (issue 18 item 7)
            courier, invoice = self.get("return_courier"), self.get("return_invoice_number")
            if not courier:
                return ""
            return (
                f" 회수 택배사 {courier}, 송장번호 {invoice}."
                if lang == "ko"
                else f" Pickup by {courier}, tracking number {invoice}."
            )
        value = self.get(key)
        if value is None or value == "":
            return _NO_REASON[lang] if key == "reason" else _MISSING[lang]
        if key == "channel":
            return _CHANNELS.get(value, (value, value))[self.index]
        if key == "role":
            return _ROLES.get(value, (value, value))[self.index]
        return value


def _format(text: str, params: dict, lang: str) -> str:
    return string.Formatter().vformat(text, (), _LanguageView(params, lang))


def _href(action: Action, params: dict) -> str | None:
    """The action's path, or None when the event lacks a value it needs."""
    names = [name for _, name, _, _ in string.Formatter().parse(action.href) if name]
    if any(params.get(name) in (None, "") for name in names):
        return None
    return action.href.format(**{name: params[name] for name in names})


def render(template: Template, params: dict) -> tuple[dict, list[dict]]:
    """``(content, actions)``: content is ``{"ko": {"title", "body"}, "en": {...}}``."""
    content = {
        lang: {
            "title": _format(getattr(template, lang)[0], params, lang),
            "body": _format(getattr(template, lang)[1], params, lang),
        }
        for lang in LANGUAGES
    }
    actions = []
    for action in template.actions:
        href = _href(action, params)
        if href is not None and action.applies(params):
            actions.append(
                {
                    "kind": action.kind,
                    "method": action.method,
                    "href": href,
                    "label": {"ko": action.ko, "en": action.en},
                }
            )
    return content, actions


def template_by_key(key: str) -> Template | None:
    for templates in TEMPLATES.values():
        for template in templates:
            if template.key == key:
                return template
    return None


# --- channel messages (R-NTF-3): the partner's own words, one text for both languages

CHANNEL_TITLES = {
    "coupon": ("쿠폰이 도착했습니다", "You got a coupon"),
    "notice": ("매장 안내", "A notice from the shop"),
}


def render_channel_message(kind: str, title: str | None, body: str, coupon_code: str | None) -> dict:
    content = {}
    for index, lang in enumerate(LANGUAGES):
        text = (
            body if not coupon_code else body + ("\n쿠폰 코드: " if lang == "ko" else "\nCoupon code: ") + coupon_code
        )
        content[lang] = {"title": title or CHANNEL_TITLES[kind][index], "body": text}
    return content
