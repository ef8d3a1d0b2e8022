"""Error messages people can act on, in Korean and English (api.md v1.1, Errors).

One catalogue for every service: an error keeps its stable ``code`` and its
``details``; the gateway renders the ``message`` from them in the caller's
language (``Accept-Language``, Korean by default). A service therefore never
writes user-facing sentences per call: it raises the code with details that
name the object, and the catalogue says what happened and what to do next.

A catalogue key is the code, optionally narrowed by the details' ``action``
and ``status`` (``invalid_state:complete:requested`` before
``invalid_state:requested`` before ``invalid_state``): the most specific entry
whose placeholders the details fill wins. A code without an entry keeps the
service's English message in English and gets its status's general Korean
sentence, so a new code is never unreadable, only less helpful: add an entry.

Placeholders are detail names (``{number}``); lists are joined with commas,
and in Korean the state words (``requested``...) are said in Korean.
"""

from __future__ import annotations

import string
from typing import Any

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"

# State and action words as a Korean partner center says them (seeds 000-004).
KOREAN_WORDS = {
    "requested": "확정 대기",
    "confirmed": "확정",
    "rejected": "거절",
    "cancelled": "취소",
    "completed": "이용 완료",
    "no_show": "노쇼",
    "pending_verification": "검수 대기",
    "verified": "인증 완료",
    "closed": "운영 종료",
    "received": "주문 접수",
    "preparing": "준비 중",
    "preparing_shipment": "배송 준비 중",
    "shipped": "배송 중",
    "delivered": "배송 완료",
    "pending": "검수 대기",
    "approved": "승인",
    "draft": "임시 저장",
    "declined": "거절",
    "accepted": "수락",
    "confirm": "확정",
    "reject": "거절",
    "complete": "이용 완료 처리",
    "cancel": "취소",
    "no-show": "노쇼 처리",
    "no_show_mark": "노쇼 처리",
    "verify": "인증",
    "resubmit": "재심사 요청",
    "close": "운영 종료",
    # orders (issue 18): channels and the order board's actions, as seed 004 says them
    "dine_in": "매장",
    "takeout": "포장",
    "delivery": "배달",
    "parcel": "택배",
    "start_preparing": "준비 시작",
    "prepare_shipment": "배송 준비",
    "ship": "발송 처리",
    "deliver": "배송 완료 처리",
    "auto_complete": "자동 완료",
    "correct_shipment": "송장 수정",
    "request_refund": "환불 요청",
    "request_exchange": "교환 요청",
}

# code[:action][:status] -> (Korean, English), or a list of them tried in order (the
# first whose placeholders the details fill). Each says what happened, then what to do.
CATALOGUE: dict[str, tuple[str, str] | list[tuple[str, str]]] = {
    # --- the contract's general codes (api.md, Conventions) ---
    "malformed_request": (
        "요청 본문이 올바른 JSON이 아닙니다. UTF-8 JSON으로 다시 보내 주세요.",
        "The body is not valid UTF-8 JSON: send it again as JSON.",
    ),
    "unauthenticated": (
        "로그인이 필요합니다. 로그인한 뒤 다시 시도하세요.",
        "You are not signed in: sign in and try again.",
    ),
    "invalid_token": (
        "로그인이 만료되었거나 유효하지 않습니다. 다시 로그인하세요.",
        "Your session is unknown or expired: sign in again.",
    ),
    "busy": (
        "지금 로그인이 몰려 처리하지 못했습니다. 몇 초 뒤 다시 시도하세요.",
        "Too many sign-ins at this moment: try again in a few seconds.",
    ),
    "scope_missing": (
        "이 API 키에는 이 작업의 권한({scope})이 없습니다. 관리자에게 권한이 있는 키를 요청하세요.",
        "This API key lacks the {scope} scope: ask an admin for a key that has it.",
    ),
    "invalid_id_token": (
        "메신저 로그인 정보를 확인할 수 없습니다. 앱에서 다시 로그인하세요.",
        "The messenger sign-in could not be verified: sign in again in the app.",
    ),
    "invalid_credentials": (
        "아이디 또는 비밀번호가 맞지 않습니다. 확인한 뒤 다시 입력하세요.",
        "The login id or password is wrong: check them and try again.",
    ),
    "forbidden": (
        "이 작업을 할 권한이 없습니다. 파트너의 관리자에게 권한을 요청하세요.",
        "Your role may not do this: ask an admin of the partner for the right role.",
    ),
    "not_found": (
        "요청한 대상을 찾을 수 없습니다. 주소와 번호를 확인하세요.",
        "Nothing was found here: check the address and the number.",
    ),
    "route_not_found": (
        "없는 주소입니다. API 문서(/docs)에서 경로를 확인하세요.",
        "There is no such path: see /docs for the paths.",
    ),
    "method_not_allowed": (
        "이 주소에서 지원하지 않는 방식입니다. API 문서(/docs)를 확인하세요.",
        "This method is not offered on this path: see /docs.",
    ),
    "conflict": (
        "지금 상태에서는 할 수 없습니다. 새로 고쳐 확인한 뒤 다시 시도하세요.",
        "This conflicts with the current state: refresh and try again.",
    ),
    "payload_too_large": (
        "요청 본문이 너무 큽니다. 1 MiB 이하로 줄여 보내 주세요.",
        "The body is too large: send at most 1 MiB.",
    ),
    "unsupported_media_type": ("요청 본문은 application/json 형식이어야 합니다.", "Send the body as application/json."),
    "validation_failed": ("입력값을 확인하세요: {fields}.", "Check these fields: {fields}."),
    "rate_limited": (
        "요청이 너무 많습니다. {retry_after_seconds}초 뒤에 다시 시도하세요.",
        "Too many requests: try again in {retry_after_seconds} s.",
    ),
    "service_unavailable": (
        "일시적으로 처리할 수 없습니다. 잠시 뒤 다시 시도하세요.",
        "A service is unavailable for now: try again in a moment.",
    ),
    "internal_error": (
        "처리 중 문제가 생겼습니다. 잠시 뒤 다시 시도하세요.",
        "Something went wrong on our side: try again in a moment.",
    ),
    "idempotency_key_required": (
        "Idempotency-Key 헤더를 함께 보내 주세요.",
        "Send an Idempotency-Key header with this request.",
    ),
    "idempotency_key_reused": (
        "이 Idempotency-Key는 다른 내용의 요청에 이미 쓰였습니다. 새 키로 보내 주세요.",
        "This Idempotency-Key was used with another body: use a new key.",
    ),
    # --- accounts ---
    "login_id_taken": (
        "이미 사용 중인 아이디입니다. 다른 아이디를 입력하세요.",
        "This login id is taken: choose another one.",
    ),
    "last_admin": (
        "{partner_names}의 유일한 관리자입니다. 다른 관리자를 초대하거나 파트너 운영을 종료한 뒤 탈퇴하세요.",
        "You are the only admin of {partner_names}: invite another admin or close the partner, then withdraw.",
    ),
    "orders_to_finish": (
        "운영을 종료한 {partner_names}에 아직 끝나지 않은 주문(배송 중)이 있습니다. 배송 완료로 처리한 뒤 탈퇴하세요.",
        "{partner_names} closed with orders still on their way: mark them delivered, then withdraw.",
    ),
    "role_not_allowed": (
        "{role} 역할로는 이 역할을 주거나 바꿀 수 없습니다. 관리자에게 요청하세요.",
        "The {role} role may not give or take this role: ask an admin.",
    ),
    "already_member": ("이미 이 파트너에서 일하는 멤버입니다.", "This member already works for the partner."),
    "already_invited": (
        "이미 초대를 받은 멤버입니다. 멤버가 초대를 수락할 때까지 기다려 주세요.",
        "This member already has a pending invitation: wait for them to accept it.",
    ),
    "invitation_not_pending": (
        "{partner_name}의 초대는 이미 {status}되었습니다. {partner_name} 관리자에게 새 초대를 요청하세요.",
        "The invitation to {partner_name} was already {status}: ask its admin for a new one.",
    ),
    "invitation_not_found": (
        "초대를 찾을 수 없습니다. 받은 초대 목록을 확인하세요.",
        "No such invitation: check your pending invitations.",
    ),
    "partner_not_found": (
        "파트너를 찾을 수 없습니다. 내 파트너 목록에서 선택하세요.",
        "No such partner: pick one from your partner list.",
    ),
    "member_not_found": ("멤버를 찾을 수 없습니다. 멤버 목록을 확인하세요.", "No such member: check the member list."),
    "place_not_found": (
        "이 파트너의 매장이 아닙니다. 매장을 먼저 등록하거나 등록된 매장을 고르세요.",
        "This is not a place of the partner: register the place first or pick a registered one.",
    ),
    "agency_required": (
        "{category} 파트너는 공식 대행사를 통해서만 입점할 수 있습니다. via_agency를 true로 보내 주세요.",
        "{category} partners onboard only through an official agency: send via_agency true.",
    ),
    "field_locked": (
        "파트너가 {status} 상태가 되면 {field}은(는) 바꿀 수 없습니다. 운영팀에 문의하세요.",
        "{field} cannot change once the partner is {status}: contact the operators.",
    ),
    "invalid_state:verify": (
        "파트너가 {status} 상태라 인증할 수 없습니다. 검수 대기 중인 파트너만 인증합니다.",
        "The partner is {status}: only a partner pending verification can be verified.",
    ),
    "invalid_state:resubmit": (
        "파트너가 {status} 상태라 재심사를 요청할 수 없습니다. 거절된 파트너만 고쳐서 다시 제출합니다.",
        "The partner is {status}: only a rejected partner is corrected and re-submitted.",
    ),
    "invalid_state:close": ("파트너가 이미 {status} 상태입니다.", "The partner is already {status}."),
    "admin_only": (
        "파트너의 관리자만 할 수 있습니다({action}). 관리자에게 요청하세요.",
        "Only an admin of the partner may do this ({action}): ask an admin.",
    ),
    "partner_closed": (
        "운영을 종료한 파트너입니다. 새 예약이나 주문, 상품 변경은 받지 않습니다.",
        "This partner is closed: it takes no new bookings, orders or product changes.",
    ),
    "nothing_changed": (
        "거절 사유({reason})에 맞게 정보를 고친 뒤 재심사를 요청하세요.",
        "Correct what the operator named ({reason}) before re-submitting.",
    ),
    "not_an_operator": ("운영자만 할 수 있는 작업입니다.", "This is for platform operators."),
    "api_key_not_allowed": (
        "멤버와 API 키는 사람이 관리합니다. 로그인한 관리자로 다시 시도하세요.",
        "Staff and API keys are managed by a person: sign in as an admin.",
    ),
    # --- catalog ---
    "product_not_found": (
        "상품을 찾을 수 없습니다. 상품 목록에서 다시 고르세요.",
        "No such product: pick it again from the product list.",
    ),
    "partner_not_open": (
        "이 파트너는 아직 판매를 시작하지 않았습니다. 파트너 인증이 끝난 뒤 예약할 수 있습니다.",
        "This partner does not sell yet: it can be booked once the partner is verified.",
    ),
    "capacity_exhausted": [
        (
            "이 가격은 모든 날짜를 합쳐 최대 {max_quantity}매까지 판매하며 남은 수량이 부족합니다. "
            "수량을 줄이거나 다른 가격을 고르세요.",
            "This price sells at most {max_quantity} over all dates and not enough are left: "
            "book fewer or another price.",
        ),
        (
            "남은 수량이 부족합니다. 다른 날짜나 시간, 더 적은 수량을 골라 주세요.",
            "Not enough left: pick another date or time, or fewer.",
        ),
    ],
    "out_of_stock": (
        "재고가 부족합니다. 수량을 줄이거나 다른 옵션을 고르세요.",
        "Not enough stock: order fewer or pick another option.",
    ),
    "nothing_to_submit": (
        "검수 요청할 수정 내용이 없습니다. 상품을 먼저 고쳐 주세요.",
        "There is no draft to submit: edit the product first.",
    ),
    "already_in_review": (
        "이미 검수 중인 수정 내용이 있습니다. 검수 결과를 기다려 주세요.",
        "A revision is already waiting for review: wait for its result.",
    ),
    "place_required": (
        "예약 상품은 검수 요청 전에 이용 매장(place_id)을 지정해야 합니다.",
        "A booking product needs its place (place_id) before review: set it first.",
    ),
    "capacity_below_booked": (
        "이미 예약된 수량보다 적게 줄일 수 없습니다. 예약을 먼저 취소하거나 더 크게 정하세요.",
        "Capacity cannot go below what is booked: cancel bookings first or set it higher.",
    ),
    "slot_has_bookings": (
        "예약이 있는 시간은 지울 수 없습니다. 예약을 먼저 취소하거나 예약 불가로 막아 두세요.",
        "A slot with bookings cannot be removed: cancel them first, or block the slot.",
    ),
    # --- reservations ---
    "reservation_not_found": (
        "예약을 찾을 수 없습니다. 예약 번호를 확인하세요.",
        "No such reservation: check the reservation number.",
    ),
    "invalid_state:confirm": (
        "예약 {number}은(는) {status} 상태라 확정할 수 없습니다. 확정 대기 중인 예약만 확정합니다.",
        "Reservation {number} is {status}: only a requested reservation can be confirmed.",
    ),
    "invalid_state:reject": [
        (
            "예약 {number}은(는) {status} 상태라 거절할 수 없습니다. 확정 대기 중인 예약만 거절합니다.",
            "Reservation {number} is {status}: only a requested reservation can be rejected.",
        ),
        (
            "{status} 상태라 거절할 수 없습니다. 검수 대기 중인 것만 거절합니다.",
            "It is {status}: only what is pending can be rejected.",
        ),
    ],
    "invalid_state:complete:requested": (
        "예약 {number}은(는) 아직 확정 대기 중입니다. 먼저 확정한 뒤 이용 완료로 처리하세요.",
        "Reservation {number} is still requested: confirm it first, then mark it completed.",
    ),
    "invalid_state:complete": (
        "예약 {number}은(는) {status} 상태라 이용 완료로 처리할 수 없습니다. 확정된 예약만 이용 완료로 처리합니다.",
        "Reservation {number} is {status}: only a confirmed reservation can be completed.",
    ),
    "invalid_state:no_show:requested": (
        "예약 {number}은(는) 아직 확정 대기 중입니다. 먼저 확정한 뒤 노쇼로 처리하세요.",
        "Reservation {number} is still requested: confirm it first, then mark the no-show.",
    ),
    "invalid_state:no_show": (
        "예약 {number}은(는) {status} 상태라 노쇼로 처리할 수 없습니다. 확정된 예약만 노쇼로 처리합니다.",
        "Reservation {number} is {status}: only a confirmed reservation can be a no-show.",
    ),
    "invalid_state:cancel": (
        "예약 {number}은(는) {status} 상태라 취소할 수 없습니다. 확정 대기 또는 확정된 예약만 취소합니다.",
        "Reservation {number} is {status}: only a requested or confirmed reservation can be cancelled.",
    ),
    "invalid_state": [
        # orders (issue 18): another channel's step names the channel, and every refusal the ways out
        (
            "'{action}'은(는) {channels} 주문의 단계입니다. 이 {channel} 주문은 {status} 상태이며 다음 단계는 {partner_may}입니다.",
            "'{action}' is a step of {channels} orders, not {channel}: this order is {status}, and the partner may "
            "{partner_may} next.",
        ),
        (
            "이 주문은 {status} 상태라 '{action}'을(를) 할 수 없습니다. 파트너가 할 수 있는 다음 단계: {partner_may}.",
            "The order is {status}, so it cannot '{action}': the partner may {partner_may} next.",
        ),
        (
            "이 주문은 {status} 상태라 더 진행할 수 없습니다. 주문 {order_id}을(를) 확인하세요.",
            "Order {order_id} is {status}: nothing more can be done to it.",
        ),
        (
            "지금 상태({status})에서는 할 수 없습니다. 새로 고쳐 현재 상태를 확인하세요.",
            "This cannot be done while it is {status}: refresh and check its current state.",
        ),
    ],
    # --- orders (issue 18): who may cancel, and what to do instead (R-ORD-5) ---
    "cancel_not_allowed:customer_cancel:preparing": (
        "매장에서 이미 준비를 시작해 취소할 수 없습니다. 매장에 취소를 요청하세요.",
        "The cafe has started preparing this order: ask the cafe to cancel it.",
    ),
    "cancel_not_allowed:customer_cancel:preparing_shipment": (
        "배송 준비가 시작되어 직접 취소할 수 없습니다. 판매자에게 주문 취소를 요청하세요.",
        "Shipment preparation has started: ask the partner to cancel the order.",
    ),
    "cancel_not_allowed:customer_cancel:shipped": (
        "이미 발송된 주문은 취소할 수 없습니다. 상품을 받은 뒤 환불을 요청하세요.",
        "A shipped order cannot be cancelled: ask for a refund once it arrives.",
    ),
    "cancel_not_allowed:partner_cancel:shipped": (
        "이미 발송된 주문은 취소하거나 바꿀 수 없습니다. 배송 완료 처리 뒤 환불 요청을 처리하세요.",
        "A shipped order can be neither cancelled nor changed: mark it delivered, then handle refund requests.",
    ),
    "cancel_not_allowed:completed": (
        "완료된 주문은 취소할 수 없습니다. 환불은 환불 요청으로 처리합니다.",
        "A completed order cannot be cancelled: refunds go through refund requests.",
    ),
    "cancel_not_allowed:cancelled": ("이미 취소된 주문입니다.", "The order is already cancelled."),
    "cancel_instead:received": (
        "발송 전 주문의 남은 상품을 모두 환불하면 주문 취소와 같습니다. 주문을 취소하세요.",
        "This would refund every unit of an order not shipped yet: cancel the order instead.",
    ),
    "cancel_instead:preparing_shipment": (
        "발송 전 주문의 남은 상품을 모두 환불하면 주문 취소와 같습니다. 배송 준비가 시작되었으니 판매자에게 주문 취소를 요청하세요.",
        "This would refund every unit of an order not shipped yet: shipment preparation has started, so ask the "
        "partner to cancel the order.",
    ),
    "not_cancellable_state": (
        "예약 {number}은(는) {status} 상태라 취소할 수 없습니다. 확정 대기 또는 확정된 예약만 취소됩니다.",
        "Reservation {number} is {status}: only a requested or confirmed reservation can be cancelled.",
    ),
    "deadline_passed": (
        "예약 {number}의 취소 마감({cancel_deadline})이 지났습니다. 파트너에게 문의하세요.",
        "The cancellation deadline of reservation {number} ({cancel_deadline}) has passed: contact the partner.",
    ),
    "non_refundable": (
        "예약 {number}은(는) 환불 불가 상품이라 취소할 수 없습니다. 파트너에게 문의하세요.",
        "Reservation {number} is non-refundable and cannot be cancelled: contact the partner.",
    ),
    "fee_changed": (
        "취소 수수료가 {fee}원으로 바뀌었습니다. 바뀐 금액을 확인하고 다시 취소하세요.",
        "The cancellation fee is now {fee} KRW: check it and cancel again.",
    ),
    "partial_cancel_not_allowed": (
        "이 상품은 일부만 취소할 수 없습니다. 예약 전체를 취소하고 다시 예약하세요.",
        "This product does not allow cancelling part of a booking: cancel all of it and book again.",
    ),
    "not_changeable_state": (
        "예약 {number}은(는) {status} 상태라 날짜를 바꿀 수 없습니다.",
        "Reservation {number} is {status}: its date cannot change.",
    ),
    "use_date_passed": ("이용일이 지나 날짜를 바꿀 수 없습니다.", "The use date has passed: the date cannot change."),
    "not_ticket_holder": (
        "예약 {number}은(는) 다른 사람에게 양도되었습니다. 이제 양도받은 분만 취소, 변경, 양도할 수 있습니다.",
        "Reservation {number} was handed over: only its holder may cancel, change or hand it on now.",
    ),
    "transfer_not_found": (
        "양도받을 수 있는 티켓이 없습니다. 양도한 분께 받는 분의 휴대폰 번호를 확인해 달라고 하세요.",
        "There is no ticket handed over to you: ask the sender to check your phone number.",
    ),
    "transfer_not_pending": (
        "이 티켓은 이미 {status} 상태라 받을 수 없습니다.",
        "This ticket was already {status} and cannot be accepted.",
    ),
    "share_not_found": (
        "공유된 예약을 찾을 수 없습니다. 공유 링크를 다시 받아 주세요.",
        "No such shared reservation: ask for the link again.",
    ),
    "booking_interrupted": (
        "예약 처리가 너무 오래 걸려 취소되었습니다. 같은 요청을 다시 보내 주세요.",
        "The booking took too long and was undone: send it again.",
    ),
    "product_not_bookable": (
        "지금은 예약할 수 없는 상품입니다. 다른 날짜나 상품을 골라 주세요.",
        "This product cannot be booked now: pick another date or product.",
    ),
    "chat_already_open": (
        "이 예약에는 이미 대화가 열려 있습니다. 대화 목록에서 이어 가세요.",
        "A conversation is already open for this reservation: continue it in the list.",
    ),
    # --- notifications ---
    "webhook_not_found": (
        "웹훅을 찾을 수 없습니다. 웹훅 목록을 확인하세요.",
        "No such webhook: check the webhook list.",
    ),
    "webhook_url_not_public": (
        "웹훅 주소 {url}은(는) 인터넷에서 접근할 수 없는 주소입니다. 공개된 https 주소를 입력하세요.",
        "The webhook address {url} is not reachable from the internet: give a public https address.",
    ),
    "conversation_not_found": (
        "대화를 찾을 수 없습니다. 대화 목록을 확인하세요.",
        "No such conversation: check the conversation list.",
    ),
    "invitation_declined": (
        "이미 거절한 채팅 초대입니다. 파트너가 새로 요청하면 다시 받을 수 있습니다.",
        "You declined this chat invitation: the partner can send a new one.",
    ),
    "member_inbox_only": (
        "알림함은 멤버에게 있습니다. 파트너 시스템은 웹훅을 쓰세요.",
        "The inbox belongs to a member: partners' systems use webhooks.",
    ),
}


def _one_sentence(code: str) -> tuple[str, str]:
    entry = CATALOGUE[code]
    assert isinstance(entry, tuple), code  # a status's general sentence has no variants
    return entry


# The general sentence of a status, for a code without an entry.
GENERAL: dict[int, tuple[str, str]] = {
    400: ("요청을 처리할 수 없습니다. 요청 내용을 확인하세요.", "The request cannot be handled: check it."),
    401: _one_sentence("unauthenticated"),
    403: _one_sentence("forbidden"),
    404: _one_sentence("not_found"),
    409: _one_sentence("conflict"),
    413: _one_sentence("payload_too_large"),
    415: _one_sentence("unsupported_media_type"),
    422: ("입력값을 확인하세요.", "Check the request's fields."),
    429: ("요청이 너무 많습니다. 잠시 뒤 다시 시도하세요.", "Too many requests: try again later."),
    500: _one_sentence("internal_error"),
    503: _one_sentence("service_unavailable"),
}


def language_of(accept_language: str | None) -> str:
    """The best of ``LANGUAGES`` by an ``Accept-Language`` header's q-values; Korean when none fits."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def _spoken(value: object, language: str) -> str:
    if isinstance(value, dict):
        return ", ".join(str(key) for key in value)  # {"fields": {name: why}} names the fields
    if isinstance(value, (list, tuple)):
        return ", ".join(_spoken(item, language) for item in value)
    if language == "ko" and isinstance(value, str):
        return KOREAN_WORDS.get(value, value)
    return str(value)


def _candidates(code: str, details: dict[str, Any]) -> list[str]:
    action, status = details.get("action"), details.get("status")
    keys = []
    if action and status:
        keys.append(f"{code}:{action}:{status}")
    if action:
        keys.append(f"{code}:{action}")
    if status:
        keys.append(f"{code}:{status}")
    return keys + [code]


def _fill(template: str, details: dict[str, Any], language: str) -> str | None:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if any(details.get(name) in (None, "", [], {}) for name in names):
        return None
    return template.format(**{name: _spoken(details[name], language) for name in names})


def render(code: str, details: dict[str, Any] | None, language: str, fallback: str = "", status: int = 400) -> str:
    """The message of an error in ``language``: the catalogue's most specific
    entry the details can fill, else (English) the service's own message, else
    the general sentence of the status."""
    details = details or {}
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    for key in _candidates(code, details):
        entries = CATALOGUE.get(key, [])
        for entry in entries if isinstance(entries, list) else [entries]:
            text = _fill(entry[index], details, language)
            if text is not None:
                return text
    if language == "en" and fallback:
        return fallback
    return GENERAL.get(status, GENERAL[400])[index]
