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
    "terms_body": ("파트너센터는 예약과 주문의 관리, 고객 응대, 정산을 위한 서비스입니다. 고객의 개인정보는 "
                   "예약 처리 목적으로만 이용하며, 정산정보는 관련 법령에 따라 5년간 보관됩니다.",
                   "The Partner Center is for managing bookings and orders, serving customers and settlement. "
                   "Customers' personal data is used only to handle their bookings; settlement records are "
                   "kept for five years as the law requires."),
    "my_info": ("내 정보", "My information"),
    "withdraw": ("회원탈퇴", "Withdraw"),
    "withdraw_conditions": ("탈퇴와 동시에 모든 개인정보가 삭제되며, 삭제된 데이터는 복구가 불가능합니다. 운영중인 "
                            "파트너에 다른 관리자가 없는 경우 탈퇴가 불가합니다. 다른 관리자를 초대 후 탈퇴해주세요. "
                            "파트너의 정산정보는 향후 5년간 보관됩니다.",
                            "Withdrawing deletes all your personal data for good. An admin of a partner with no "
                            "other admin cannot withdraw: invite another admin first. The partner's settlement "
                            "records are kept for five years."),
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
    "reveal_phone": ("휴대폰번호 보기", "Show phone number"),
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
    "cat_salon": ("미용실", "Salon"), "cat_studio": ("스튜디오", "Studio"), "cat_exhibition": ("전시", "Exhibition"),
    "cat_activity": ("액티비티", "Activity"), "cat_restaurant": ("음식점", "Restaurant"),
    "cat_lodging": ("숙소", "Lodging"), "cat_cafe": ("카페", "Cafe"), "cat_fashion": ("패션", "Fashion"),
    "review_draft": ("작성중", "Draft"), "review_pending": ("심사중", "In review"),
    "review_approved": ("심사완료", "Approved"), "review_rejected": ("반려", "Rejected"),
    "display_bookable": ("예약가능", "Bookable"), "display_unavailable": ("예약불가", "Unavailable"),
    "display_closed": ("예약마감", "Closed"), "display_upcoming": ("판매예정", "Upcoming"),
}

# What to do next, per error code; the gateway's own message is shown when a code is not listed here.
NEXT_STEP: dict[str, tuple[str, str]] = {
    "gateway_unavailable": ("서버에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
                            "The platform cannot be reached. Try again in a moment."),
    "service_unavailable": ("일시적으로 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.",
                            "This cannot be done right now. Try again in a moment."),
    "invalid_credentials": ("아이디 또는 비밀번호가 맞지 않습니다. 다시 입력해 주세요.",
                            "The login ID or password is wrong. Enter them again."),
    "invalid_state": ("이미 다른 상태로 바뀐 예약입니다. 목록을 새로고침해 확인해 주세요.",
                      "This reservation has already changed. Reload the list to see its state."),
    "forbidden": ("이 작업을 할 권한이 없습니다. 관리자에게 권한을 요청해 주세요.",
                  "Your role may not do this. Ask an admin of the partner for the right role."),
    "partner_not_found": ("파트너를 찾을 수 없습니다. 파트너 목록에서 다시 선택해 주세요.",
                          "That partner cannot be found. Pick it again from your partner list."),
    "csrf_failed": ("페이지가 오래되었습니다. 새로고침 후 다시 시도해 주세요.",
                    "This page is out of date. Reload it and try again."),
    "last_admin": ("다른 관리자가 없는 파트너가 있어 탈퇴할 수 없습니다. 다른 관리자를 초대 후 탈퇴해 주세요.",
                   "You are the only admin of a partner. Invite another admin, then withdraw."),
    "validation_failed": ("입력값을 확인해 주세요.", "Check the fields below."),
    "rate_limited": ("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.", "Too many attempts. Wait a moment and try again."),
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
        fields = (error.details or {}).get("fields")
        if isinstance(fields, dict) and fields:
            text += " (" + ", ".join(f"{name}: {why}" for name, why in fields.items()) + ")"
        return text
