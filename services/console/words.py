"""The console's words, Korean first, English second.

Screens, tabs and buttons use the seeds' own words (seeds 000-002: 예약관리,
예약신청, 예약확정, 확정거절, 이용완료, 노쇼, 예약현황, ...). The language is the
member's choice (the ``pc_lang`` cookie set by the switch in the header), else
the browser's ``Accept-Language``, else Korean. The gateway is asked in the
same language, so its own error messages match.
"""

from __future__ import annotations

from .gateway import ApiError

LANGUAGES = ("ko", "en")

WORDS: dict[str, tuple[str, str]] = {
    "app_name": ("예약하기 파트너센터", "Booking Partner Center"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "signup": ("회원가입", "Sign up"),
    "login_id": ("아이디", "Login ID"),
    "password": ("비밀번호", "Password"),
    "name": ("이름", "Name"),
    "phone": ("휴대폰번호", "Mobile phone"),
    "agree_terms": ("예약하기 파트너센터 이용약관에 동의합니다", "I agree to the Partner Center terms of service"),
    "terms_title": ("서비스 이용약관", "Terms of service"),
    "terms_body": (
        "파트너센터는 예약과 주문의 관리, 고객 응대, 정산을 위한 서비스입니다. 고객의 개인정보는 "
        "예약 처리 목적으로만 이용하며, 정산정보는 관련 법령에 따라 5년간 보관됩니다.",
        "The Partner Center is for managing bookings and orders, serving customers and settlement. "
        "Customers' personal data is used only to handle their bookings; settlement records are "
        "kept for five years as the law requires.",
    ),
    "my_info": ("내 정보", "My information"),
    "withdraw": ("회원탈퇴", "Withdraw"),
    "withdraw_conditions": (
        "탈퇴와 동시에 모든 개인정보가 삭제되며, 삭제된 데이터는 복구가 불가능합니다. 운영중인 "
        "파트너에 다른 관리자가 없는 경우 탈퇴가 불가합니다. 다른 관리자를 초대 후 탈퇴해주세요. "
        "파트너의 정산정보는 향후 5년간 보관됩니다.",
        "Withdrawing deletes all your personal data for good. An admin of a partner with no "
        "other admin cannot withdraw: invite another admin first. The partner's settlement "
        "records are kept for five years.",
    ),
    "withdraw_confirm": ("탈퇴 요건을 확인했으며 탈퇴에 동의합니다", "I have read the conditions and want to withdraw"),
    "partners": ("내 파트너 목록", "My partners"),
    "invitations": ("초대받은 파트너", "Invitations"),
    "accept": ("수락", "Accept"),
    "decline": ("거절", "Decline"),
    "role": ("운영자권한", "Role"),
    "role_admin": ("관리자", "Admin"),
    "role_master": ("마스터", "Master"),
    "role_member": ("멤버", "Member"),
    "partner_status": ("파트너상태", "Partner status"),
    "register_partner": ("파트너 입점 신청", "Register a partner"),
    "partner_name": ("파트너명", "Partner name"),
    "category": ("카테고리", "Category"),
    "business_number": ("사업자등록번호", "Business registration number"),
    "via_agency": ("공식협력사를 통해 입점", "Through an official agency"),
    "submit_application": ("입점 신청", "Apply"),
    "status_pending_verification": ("심사중", "Awaiting verification"),
    "status_verified": ("운영중", "Verified"),
    "status_rejected": ("반려", "Rejected"),
    "status_closed": ("종료", "Closed"),
    "dashboard": ("대시보드", "Dashboard"),
    "reservations": ("예약관리", "Reservations"),
    "board": ("예약현황", "Status board"),
    "products": ("상품", "Products"),
    "places": ("장소", "Places"),
    "staff": ("운영자 관리", "Staff"),
    "invite": ("운영자 초대", "Invite"),
    "change_role": ("권한 변경", "Change role"),
    "place": ("예약장소", "Place"),
    "place_name": ("장소명", "Place name"),
    "address": ("주소", "Address"),
    "place_phone": ("전화번호", "Phone"),
    "add_place": ("장소 추가", "Add place"),
    "settlement": ("정산", "Settlement"),
    "chats": ("채팅", "Chats"),
    "notifications": ("알림", "Notifications"),
    "notices": ("공지사항", "Notices"),
    "ops": ("운영자", "Operator"),
    "tab_all": ("전체", "All"),
    "rsv_requested": ("예약신청", "Requested"),
    "rsv_confirmed": ("예약확정", "Confirmed"),
    "rsv_rejected": ("확정거절", "Rejected"),
    "rsv_cancelled": ("예약취소", "Cancelled"),
    "rsv_completed": ("이용완료", "Completed"),
    "rsv_no_show": ("노쇼", "No-show"),
    "act_confirm": ("예약확정", "Confirm"),
    "act_reject": ("확정거절", "Reject"),
    "act_complete": ("이용완료", "Complete"),
    "act_no_show": ("노쇼", "No-show"),
    "act_cancel": ("예약취소", "Cancel booking"),
    "act_chat": ("채팅하기", "Chat"),
    "reason": ("사유", "Reason"),
    "search": ("검색", "Search"),
    "search_hint": ("예약자명 또는 휴대폰번호 뒷자리 4자리", "Booker's name or the last 4 digits of the phone"),
    "number": ("예약번호", "Number"),
    "booker": ("예약자", "Booker"),
    "product": ("상품", "Product"),
    "use_date": ("이용일", "Date"),
    "status": ("상태", "Status"),
    "total": ("결제금액", "Total"),
    "history": ("처리 이력", "History"),
    "detail": ("예약 상세", "Reservation detail"),
    "no_reservations": ("예약 내역이 없습니다.", "No reservations."),
    "new_requests": ("새 예약신청", "new requests"),
    "live_on": ("실시간 반영 중", "Live"),
    "phone_masked": ("휴대폰번호는 가려져 있습니다.", "The phone number is masked."),
    "reveal_phone": ("전화번호 보기", "Show phone number"),
    "phone_revealed_note": (
        "전체 번호 조회가 예약 처리 이력에 기록되었습니다.",
        "Showing the whole number was recorded in the reservation's history.",
    ),
    "new_product": ("상품 등록", "New product"),
    "product_name": ("상품명", "Product name"),
    "schedule_type": ("일정 유형", "Schedule type"),
    "sch_datetime": ("날짜/시간형", "Date and time"),
    "sch_date": ("날짜형", "Date"),
    "sch_anytime": ("상시형", "Anytime"),
    "price_label": ("인원 구분", "Person type"),
    "price_amount": ("가격(원)", "Price (KRW)"),
    "payment": ("결제", "Payment"),
    "pay_none": ("결제 없음", "No payment"),
    "pay_prepaid": ("예약 시 결제", "Paid when booking"),
    "deadline_hours": ("취소기한(이용 몇 시간 전)", "Cancel deadline (hours before use)"),
    "save": ("저장", "Save"),
    "submit_review": ("심사 요청", "Submit for review"),
    "review_state": ("심사 상태", "Review state"),
    "live_version": ("노출중인 버전", "Live version"),
    "pending_revision": ("심사중인 수정", "Edit in review"),
    "inventory": ("예약수량 관리", "Inventory"),
    "slot_date": ("날짜", "Date"),
    "slot_time": ("시간", "Time"),
    "capacity": ("수량", "Capacity"),
    "add_slot": ("일정 추가", "Add slot"),
    "block": ("예약불가 설정", "Block"),
    "ops_partners": ("입점 심사", "Partners to verify"),
    "ops_reviews": ("상품 심사", "Products to review"),
    "ops_notices": ("공지 등록", "Publish a notice"),
    "partner_id": ("파트너 ID", "Partner ID"),
    "verify": ("승인", "Verify"),
    "approve": ("승인", "Approve"),
    "reject": ("반려", "Reject"),
    "title": ("제목", "Title"),
    "body": ("내용", "Body"),
    "publish": ("게시", "Publish"),
    "send": ("보내기", "Send"),
    "message": ("메시지", "Message"),
    "requested": ("예약신청", "Requested"),
    "confirmed": ("예약확정", "Confirmed"),
    "completed": ("이용완료", "Completed"),
    "remaining": ("잔여예약", "Remaining"),
    "blocked": ("예약불가", "Blocked"),
    "from": ("시작일", "From"),
    "to": ("종료일", "To"),
    "show": ("조회", "Show"),
    "today": ("오늘의 예약", "Today's bookings"),
    "counts": ("예약 현황", "Bookings by state"),
    "done": ("처리되었습니다.", "Done."),
    "nothing": ("내용이 없습니다.", "Nothing here."),
    "language": ("언어", "Language"),
    "open": ("열기", "Open"),
    "mark_read": ("읽음", "Mark read"),
    "cancel_window": ("확인", "OK"),
    "cat_salon": ("미용실", "Salon"),
    "cat_studio": ("스튜디오", "Studio"),
    "cat_exhibition": ("전시", "Exhibition"),
    "cat_activity": ("액티비티", "Activity"),
    "cat_restaurant": ("음식점", "Restaurant"),
    "cat_lodging": ("숙소", "Lodging"),
    "cat_cafe": ("카페", "Cafe"),
    "cat_fashion": ("패션", "Fashion"),
    "review_draft": ("작성중", "Draft"),
    "review_pending": ("심사중", "In review"),
    "review_approved": ("심사완료", "Approved"),
    "review_rejected": ("반려", "Rejected"),
    "display_bookable": ("예약가능", "Bookable"),
    "display_unavailable": ("예약불가", "Unavailable"),
    "display_closed": ("예약마감", "Closed"),
    "display_upcoming": ("판매예정", "Upcoming"),
    # issue 22, booking side: 상품수정, 예약 설정, 예약 달력, 회원탈퇴, 입점 심사 (seeds 000-002)
    "edit_product": ("상품수정", "Edit product"),
    "edit_keeps_live": (
        "수정한 내용은 심사 완료 후 노출됩니다. 심사가 끝날 때까지 고객에게는 수정 전 상품이 그대로 보입니다.",
        "Your edit goes live once approved; until then customers keep seeing the live version.",
    ),
    "save_edit": ("수정 내용 저장", "Save the edit"),
    "description": ("상품설명", "Description"),
    "changed_fields": ("변경된 항목", "Changed"),
    "field_name": ("상품명", "name"),
    "field_description": ("상품설명", "description"),
    "field_prices": ("가격", "prices"),
    "field_cancel_policy": ("취소규정", "cancellation policy"),
    "field_schedule_type": ("일정 유형", "schedule type"),
    "field_payment": ("결제", "payment"),
    "field_place_id": ("예약장소", "place"),
    "field_images": ("이미지", "images"),
    "field_quantity_mode": ("수량 관리 방식", "quantity mode"),
    "field_options": ("옵션", "options"),
    "field_goods_type": ("상품 유형", "goods type"),
    "booking_settings": ("예약 설정", "Booking settings"),
    "confirmation": ("예약확정 방식", "Confirmation"),
    "confirmation_manual": (
        "파트너가 직접 확정 (확정대기 후 예약확정/확정거절)",
        "Manual: you confirm or reject each request",
    ),
    "confirmation_auto": ("예약 즉시 자동 확정", "Automatic: confirmed as soon as booked"),
    "request_ttl_hours": ("확정대기 유효시간(시간)", "Request expiry (hours)"),
    "request_ttl_hint": (
        "이 시간 안에 확정하지 않은 예약신청은 자동으로 취소됩니다 (1-720).",
        "A request not confirmed within this many hours is cancelled (1-720).",
    ),
    "hours_unit": ("시간", " hours"),
    "allow_partial_cancel": ("부분 취소 허용", "Allow partial cancellation"),
    "settings_from_now": (
        "변경한 설정은 이후 들어오는 예약부터 적용됩니다.",
        "Changes apply to bookings made from now on.",
    ),
    "yes": ("예", "Yes"),
    "no": ("아니오", "No"),
    "inventory_calendar": ("예약 달력", "Inventory calendar"),
    "month": ("월", "Month"),
    "weekdays": ("일,월,화,수,목,금,토", "Sun,Mon,Tue,Wed,Thu,Fri,Sat"),
    "calendar_legend": ("날짜별 잔여예약/수량과 예약불가 설정", "Remaining/capacity and blocks per day"),
    "all_day": ("종일", "all day"),
    "block_time_hint": ("비우면 하루 전체", "empty: the whole day"),
    "block_reason": ("예약불가 사유", "Reason for the block"),
    "blocks_list": ("예약불가 날짜/시간", "Blocked dates and times"),
    "unblock": ("예약불가 해제", "Open again"),
    "withdraw_requirements": ("예약하기 파트너센터 회원탈퇴 요건 확인", "Before you withdraw"),
    "withdraw_rule_erase": (
        "탈퇴와 동시에 모든 개인정보가 삭제되며, 이후에 삭제된 데이터는 복구가 불가능합니다.",
        "Withdrawing deletes all your personal data at once; it cannot be recovered.",
    ),
    "withdraw_rule_admin": (
        "관리자의 경우 운영중인 파트너에 다른 관리자가 없는 경우 탈퇴가 불가합니다. 다른 관리자를 "
        "초대 후 탈퇴해주세요.",
        "An admin of an operating partner with no other admin cannot withdraw: invite another admin first.",
    ),
    "withdraw_rule_settlement": (
        "서비스 탈퇴 후에도 파트너의 정산정보는 전자상거래 서비스 보호 법령에 의거하여 향후 5년간 보관됩니다.",
        "The partner's settlement records are kept for five years after you withdraw, as e-commerce law requires.",
    ),
    "withdraw_admin_of": (
        "관리자로 있는 파트너 (다른 관리자가 없으면 먼저 운영자 관리에서 초대해 주세요)",
        "Partners you are an admin of (invite another admin in Staff first if you are the only one)",
    ),
    "ops_partner_queue": ("입점 심사 대기 목록", "Partners waiting for verification"),
    "submission_application": ("신규 입점", "New application"),
    "submission_resubmission": ("재신청", "Re-submission"),
    "previous_rejection": ("이전 반려 사유", "Previous rejection"),
    "changed_since": ("반려 후 변경된 항목", "Changed since the rejection"),
    "what_to_check": ("심사 확인 항목", "What to check"),
    "check_item": ("항목", "Item"),
    "check_value": ("신청 내용", "Applied with"),
    "check_how": ("확인 방법", "How to check"),
    "check_business_number": ("사업자등록번호", "Business number"),
    "check_name": ("파트너명", "Name"),
    "check_category": ("카테고리", "Category"),
    "check_places": ("장소", "Places"),
    "check_via_agency": ("공식협력사 입점", "Through an agency"),
    "check_how_business_number": (
        "국세청 사업자 상태 조회로 등록·운영 여부를 확인합니다.",
        "The registration exists and is active (National Tax Service lookup).",
    ),
    "check_how_name": ("사업자등록증의 상호와 같은지 확인합니다.", "The name matches the business registration."),
    "check_how_category": ("사업 업종이 이 카테고리인지 확인합니다.", "The business is of this category."),
    "check_how_places": ("장소가 사업장의 실제 주소인지 확인합니다.", "The places are the business's own addresses."),
    "check_how_via_agency": (
        "숙소는 공식협력사를 통해서만 입점할 수 있습니다.",
        "Lodging joins through an official agency only.",
    ),
    "none_yet": ("없음", "none"),
    "reject_reason": ("반려 사유", "Reason for rejecting"),
}

# What to do next, per error code; the gateway's own message is shown when a code is not listed here.
NEXT_STEP: dict[str, tuple[str, str]] = {
    "gateway_unavailable": (
        "서버에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The platform cannot be reached. Try again in a moment.",
    ),
    "service_unavailable": (
        "일시적으로 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "This cannot be done right now. Try again in a moment.",
    ),
    "invalid_credentials": (
        "아이디 또는 비밀번호가 맞지 않습니다. 다시 입력해 주세요.",
        "The login ID or password is wrong. Enter them again.",
    ),
    "invalid_state": (
        "이미 다른 상태로 바뀐 예약입니다. 목록을 새로고침해 확인해 주세요.",
        "This reservation has already changed. Reload the list to see its state.",
    ),
    "forbidden": (
        "이 작업을 할 권한이 없습니다. 관리자에게 권한을 요청해 주세요.",
        "Your role may not do this. Ask an admin of the partner for the right role.",
    ),
    "partner_not_found": (
        "파트너를 찾을 수 없습니다. 파트너 목록에서 다시 선택해 주세요.",
        "That partner cannot be found. Pick it again from your partner list.",
    ),
    "csrf_failed": (
        "페이지가 오래되었습니다. 새로고침 후 다시 시도해 주세요.",
        "This page is out of date. Reload it and try again.",
    ),
    "last_admin": (
        "다른 관리자가 없는 파트너가 있어 탈퇴할 수 없습니다. 다른 관리자를 초대 후 탈퇴해 주세요.",
        "You are the only admin of a partner. Invite another admin, then withdraw.",
    ),
    "orders_to_finish": (
        "종료한 파트너에 아직 배송 중인 주문이 있어 탈퇴할 수 없습니다. 주문을 배송완료 처리한 후 탈퇴해 주세요.",
        "A partner you closed still has orders on their way. Mark them delivered, then withdraw.",
    ),
    "slot_blocked": (
        "예약불가로 설정된 날짜/시간입니다. 예약 달력에서 예약불가를 해제하거나 다른 날짜를 선택해 주세요.",
        "That date or time is blocked. Open it again on the calendar or pick another date.",
    ),
    "validation_failed": ("입력값을 확인해 주세요.", "Check the fields below."),
    "rate_limited": (
        "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        "Too many attempts. Wait a moment and try again.",
    ),
}


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "ko"


class Words:
    def __init__(self, lang: str):
        self.lang = lang
        self.index = LANGUAGES.index(lang)

    def __call__(self, key: str) -> str:
        pair = WORDS.get(key)
        return pair[self.index] if pair else key

    def __getattr__(self, key: str) -> str:
        return self(key)

    def state_name(self, state: str) -> str:
        return self(f"rsv_{state}")

    def error_text(self, error: ApiError) -> str:
        """Words that say what to do next: the console's own for codes it knows,
        else the gateway's message (in this language since v1.1), with the fields
        a 422 names."""
        known = NEXT_STEP.get(error.code)
        text = known[self.index] if known else (error.message or NEXT_STEP["service_unavailable"][self.index])
        names = (error.details or {}).get("partner_names")
        if isinstance(names, list) and names:  # last_admin: which partners still need another admin
            text += " (" + ", ".join(str(name) for name in names) + ")"
        fields = (error.details or {}).get("fields")
        if isinstance(fields, dict) and fields:
            text += " (" + ", ".join(f"{name}: {why}" for name, why in fields.items()) + ")"
        return text
