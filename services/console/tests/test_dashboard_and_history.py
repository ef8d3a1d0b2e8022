"""What a partner reads on the dashboard and in a reservation's history (seed 000:
예약 현황, 정산 요약, 공지사항, 도움말): every figure in words, every time in the
partner's zone (Asia/Seoul), no field name or UTC timestamp from the API.

Rendered through the console's own templates with the gateway's answers as
data; the browser stories check the same screens against a running platform."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from console.web import Console, Ctx

PARTNER = {"partner_id": "p-1", "name": "다온 헤어", "role": "admin", "category": "salon"}
DETAILS = {"status": "verified"}


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, no attributes, no script or style."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def render(template: str, lang: str = "ko", **values) -> str:
    console = Console("http://127.0.0.1:9", secret=b"test")
    request = Request(EnvironBuilder(path="/p/p-1", headers=[("Cookie", f"pc_lang={lang}")]).get_environ())
    return visible(Ctx(console, request).render(template, **values).get_data(as_text=True))


def booking_summary(**overrides) -> dict:
    """The gateway's dashboard for a salon's admin, as its route builds it."""
    summary = {
        "partner": {"partner_id": "p-1", "name": "다온 헤어", "category": "salon", "status": "verified"},
        "role": "admin",
        "sections": {
            "reservations": {
                "counts": {"requested": 2, "confirmed": 5, "completed": 9, "no_show": 1, "rejected": 0, "cancelled": 3},
                "today": {"date": "2026-12-05", "bookings": 4, "visits": 6, "awaiting_confirmation": 1},
            },
            "catalog": {
                "counts": {"bookable": 3, "unavailable": 1, "closed": 0, "upcoming": 2},
                "total": 7,
                "live": 6,
                "review": {"draft": 1, "pending": 2, "rejected": 1},
            },
            "insights": {
                "counts": {"customers": 41, "new_customers_month": 7, "reviews": 12, "unreplied_reviews": 3},
                "rating": {"average": 4.25, "count": 12},
                "month_to_date": {
                    "bookings": 18,
                    "orders": 0,
                    "cancellation_rate": 0.125,
                    "no_show_rate": None,
                    "revenue": 540000,
                },
            },
            "settlement": {
                "counts": {"sales_today": 0, "sales_month_to_date": 540000},
                "sales": {
                    "today": {"sales": 30000},
                    "month_to_date": {"sales": 540000},
                    "unsettled_balance": 120000,
                    "next_payout": None,
                    "last_payout": None,
                },
            },
        },
        "unavailable": [],
        "notices": [{"notice_id": "n-1", "title": "연말 정산 일정 안내"}],
        "help": {"label": {"ko": "예약하기 도움말", "en": "Booking help"}, "url": "https://example.org/help"},
    }
    summary.update(overrides)
    return summary


def test_r_acc_11_a_salons_dashboard_says_every_figure_in_words():
    text = render("dashboard.html", partner=PARTNER, details=DETAILS, summary=booking_summary())

    assert "오늘의 예약 2026-12-05" in text
    assert "오늘 들어온 예약 4" in text and "오늘 방문 6" in text and "오늘 방문 중 확정대기 1" in text
    assert "상품 현황" in text and "예약가능 3" in text and "판매예정 2" in text and "심사중 2" in text
    assert "고객 41" in text and "이번 달 신규 고객 7" in text and "미답변 리뷰 3" in text
    assert "평균 별점 4.2" in text or "평균 별점 4.3" in text
    assert "취소율 12.5%" in text and "노쇼율 -" in text and "순매출 540,000" in text
    assert "정산 전 잔액 120,000" in text
    assert "연말 정산 일정 안내" in text and "예약하기 도움말" in text


@pytest.mark.parametrize(
    "raw",
    ["awaiting_confirmation", "new_customers_month", "unreplied_reviews", "sales_today", "bookable", "insights"],
)
def test_r_acc_11_no_field_name_of_the_api_reaches_the_dashboard(raw):
    assert raw not in render("dashboard.html", partner=PARTNER, details=DETAILS, summary=booking_summary())


def test_r_acc_11_a_section_that_did_not_answer_is_named_not_shown_as_zeros():
    summary = booking_summary(unavailable=["insights"])
    summary["sections"]["insights"] = {"counts": {}}

    text = render("dashboard.html", partner=PARTNER, details=DETAILS, summary=summary)

    assert "일부 정보를 지금 불러오지 못했습니다" in text and "(고객·리뷰)" in text
    assert "평균 별점" not in text and "이번 달 신규 고객" not in text
    assert "오늘 들어온 예약 4" in text  # the sections that answered still show


def test_r_ord_1_a_shops_dashboard_shows_open_orders_today_and_what_waits_for_an_answer():
    summary = booking_summary()
    del summary["sections"]["reservations"]
    summary["sections"]["orders"] = {
        "counts": {"received": 2, "preparing": 0, "preparing_shipment": 1, "shipped": 4},
        "open_by_tab": {"in_store": 0, "delivery": 0, "parcel": 7},
        "today": {"date": "2026-12-05", "received": 3, "completed": 1, "cancelled": 0, "completed_sales": 49000},
        "waiting": {"refund_requests": 1, "exchange_requests": 0, "unanswered_inquiries": 2, "unreplied_reviews": 0},
    }
    shop = {**PARTNER, "category": "fashion"}

    text = render("dashboard.html", partner=shop, details=DETAILS, summary=summary)

    assert "주문 현황" in text and "신규 2" in text and "배송 준비 중 1" in text and "배송 중 4" in text
    assert "오늘의 주문 2026-12-05" in text and "접수 3" in text and "완료 매출 49,000" in text
    assert "환불 요청 1" in text and "미답변 문의 2" in text
    assert "refund_requests" not in text and "취소율" not in text  # a shop's month counts orders, not bookings
    assert "판매중 3" in text and "예약가능" not in text  # goods are on sale, not bookable
    assert text.count("미답변 리뷰") == 1  # in 답변 대기 only, not again under 고객·리뷰


@pytest.mark.parametrize(
    ("category", "booking_screens", "order_screens"),
    [("salon", True, False), ("cafe", False, True), ("fashion", False, True)],
)
def test_a_partners_nav_has_the_screens_of_what_it_sells(category, booking_screens, order_screens):
    partner = {**PARTNER, "category": category}

    text = render("dashboard.html", partner=partner, details=DETAILS, summary=booking_summary())

    assert ("예약관리" in text and "예약현황" in text) is booking_screens
    assert ("주문현황" in text) is order_screens


def test_the_dashboard_in_english_uses_the_english_words():
    text = render("dashboard.html", lang="en", partner=PARTNER, details=DETAILS, summary=booking_summary())

    assert "Booked today 4" in text and "Average rating" in text and "Booking help" in text
    assert "오늘" not in text


def reservation(history: list[dict], **fields) -> dict:
    return {
        "number": "LE9RZV5QTN",
        "status": "cancelled",
        "booker": {"name": "김다온", "phone": "010-****-5678"},
        "product": {"name": "디자인 컷"},
        "date": "2026-12-08",
        "time": "10:00",
        "total": 30000,
        "reason": None,
        "conversation_id": None,
        "history": history,
        **fields,
    }


def test_r_rsv_2_the_history_reads_in_words_at_seoul_time():
    history = [
        {"at": "2026-12-04T17:39:18.986679+00:00", "action": "booked", "actor_kind": "customer", "details": None},
        {"at": "2026-12-04T23:05:00+00:00", "action": "confirm", "actor_kind": "member", "details": {"reason": None}},
        {
            "at": "2026-12-05T01:00:00+00:00",
            "action": "expired",
            "actor_kind": "system",
            "details": {"reason": "request_expired"},
        },
        {"at": "2026-12-05T02:00:00+00:00", "action": "something_new", "actor_kind": "system", "details": None},
    ]
    r = reservation(history, reason="request_expired")

    text = render("reservation.html", partner=PARTNER, r=r, actions=[], needs_reason=set())

    # 17:39 UTC on the 4th is 02:39 on the 5th in Seoul; 23:05 UTC is 08:05 the next morning.
    assert "2026-12-05 02:39 · 예약신청 고객" in text
    assert "2026-12-05 08:05 · 예약확정 파트너" in text
    assert "2026-12-05 10:00 · 자동취소 (확정 기한 초과) 자동 · 확정 기한이 지났습니다" in text
    assert "something_new" in text  # a step the console has no words for yet still shows, as recorded
    assert "T17:39" not in text and "booked" not in text and "request_expired" not in text


def test_an_instants_day_is_the_partners_day_not_utcs():
    row = {
        "customer_id": "c-1",
        "name": "김다온",
        "phone": "010-****-5678",
        "visit_count": 2,
        "last_visit_at": "2026-12-04T20:30:00+00:00",  # 05:30 on the 5th in Seoul
        "total_spent": 60000,
        "coupon_uses": 0,
    }

    templates = Console("http://127.0.0.1:9", secret=b"test").templates
    shown = templates.from_string("{{ day_of(c.last_visit_at) }}|{{ day_of(None) }}").render(c=row)

    assert shown == "2026-12-05|"


LATE_EVENING_UTC = "2026-12-04T17:39:18.986679+00:00"  # 02:39 on the 5th in Seoul


@pytest.mark.parametrize(
    ("template", "values", "shown"),
    [
        (
            "chat.html",
            {"messages": [{"author": "customer", "body": "주차 되나요?", "created_at": LATE_EVENING_UTC}]},
            "12-05 02:39",
        ),
        (
            "notifications.html",
            {"items": [{"title": "새 예약", "body": "확인해 주세요", "created_at": LATE_EVENING_UTC, "actions": []}]},
            "2026-12-05 02:39",
        ),
        (
            "notices.html",
            {"notices": [{"title": "점검 안내", "body": "새벽 점검", "published_at": LATE_EVENING_UTC}]},
            "2026-12-05",
        ),
    ],
)
def test_messages_notifications_and_notices_are_timed_in_seoul(template, values, shown):
    text = render(template, partner=PARTNER, **values)

    assert shown in text
    assert "T17:39" not in text and "2026-12-04" not in text


def test_r_acc_8_the_operators_checks_name_the_category_in_words():
    submission = {"kind": "application", "submitted_at": LATE_EVENING_UTC, "changes": None}
    item = {
        "partner_id": "p-2",
        "name": "빛 스튜디오",
        "category": "studio",
        "submission": submission,
        "checks": [
            {"item": "category", "value": "studio"},
            {"item": "business_number", "value": "1234567890"},
        ],
    }

    text = render("ops_partners.html", items=[item], tabs=["pending"], shown="verified")

    assert "카테고리 스튜디오" in text and "1234567890" in text
    assert "studio" not in text.replace("스튜디오", "")
    assert "2026-12-05 02:39" in text


def an_order(channel: str, customer_name: str | None) -> dict:
    line = {"line_id": "l-1", "product_name": "Linen shirt", "option_label": "White / M", "quantity": 1}
    return {
        "order_id": "o-1",
        "number": 7,
        "channel": channel,
        "status": "received",
        "customer_name": customer_name,
        "received_at": LATE_EVENING_UTC,
        "total": 39000,
        "lines": [{**line, "amount": 39000, "refunded_quantity": 0}],
    }


@pytest.mark.parametrize(
    ("category", "channel", "customer_name", "items_word", "orderer_shown"),
    [("cafe", "takeout", "김다온", "메뉴", True), ("fashion", "parcel", None, "상품", False)],
)
def test_r_ord_1_an_order_reads_in_the_partners_own_words(category, channel, customer_name, items_word, orderer_shown):
    partner = {**PARTNER, "category": category}
    order = an_order(channel, customer_name)
    values = {"group": "in_store", "actions": [], "couriers": [], "minutes": [], "line_names": {}, "auto_note": ""}

    text = render("order.html", partner=partner, o=order, **values)

    assert f"{items_word} 옵션 수량 금액" in text  # the lines table's header
    assert ("주문자 김다온" in text) is orderer_shown
    assert ("주문자" in text) is orderer_shown  # no empty 주문자 row on a parcel order
    assert "2026-12-05 02:39" in text


def period_statistics() -> dict:
    """The gateway's statistics for a period, with both kinds of figures (insights counts both)."""
    return {
        "from": "2026-12-01",
        "to": "2026-12-06",
        "bookings": {"total": 5, "people": 7, "cancellation_rate": 0.2, "no_show_rate": 0.0, "by_state": {}},
        "orders": {"total": 4, "by_state": {}},
        "busiest_slots": [],
        "revenue": None,
    }


@pytest.mark.parametrize(
    ("category", "shown", "not_shown"),
    [
        (
            "salon",
            ["예약 건수 5", "이용 인원 7", "취소율 20.0%", "예약 상태별", "인기 시간대"],
            ["주문 건수", "주문 상태별"],
        ),
        ("cafe", ["주문 건수 4", "주문 상태별"], ["예약 건수", "이용 인원", "취소율", "예약 상태별", "인기 시간대"]),
    ],
)
def test_r_acc_11_statistics_show_the_figures_of_what_the_partner_sells(category, shown, not_shown):
    partner = {**PARTNER, "category": category}
    charts = {"bookings-by-state": [], "orders-by-state": [], "slots": []}
    query = {"from": "2026-12-01", "to": "2026-12-06"}

    text = render("statistics.html", partner=partner, stats=period_statistics(), charts=charts, query=query)

    assert all(words in text for words in shown), text
    assert not any(words in text for words in not_shown), text
