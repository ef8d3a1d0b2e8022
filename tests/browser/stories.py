"""The browser stories of the console tests, run by ``python -m browser.stories
<name> <setting json>`` in a process without eventlet (see conftest.py).

Each story gets a ``Site``: ``.url`` (the console), ``.pc`` (a
``support.api.Platform`` on the gateway, for what customers do through the
API), ``.operator_login`` and ``.page()`` (a new browser context: its own
cookies, one per person in the story).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser.support import book, day, eventually, log_in, message_kinds, sign_up
from support.api import Platform

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class Site:
    url: str
    pc: Platform
    operator_login: str
    browser: Any  # playwright's Browser
    setting: dict = field(default_factory=dict)

    def page(self, width: int = 1280, height: int = 900, locale: str = "ko-KR"):
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, base_url=self.url
        )
        context.set_default_timeout(30_000)  # a machine shared by many
        return context.new_page()


def booking_story(site: Site) -> None:
    owner = site.page()
    operator = site.page()
    pc = site.pc

    # The owner signs up (terms agreed) and registers a partner: it waits for verification.
    sign_up(owner)
    owner.get_by_role("link", name="파트너 입점 신청").click()
    owner.get_by_label("파트너명").fill("다온 헤어")
    owner.get_by_label("카테고리").select_option("salon")
    owner.get_by_label("사업자등록번호").fill("123-45-67890")
    owner.get_by_role("button", name="입점 신청").click()
    owner.wait_for_url("**/p/*")
    assert "심사중" in owner.locator("h1").inner_text()
    partner_id = owner.url.rstrip("/").split("/p/")[1]

    # The operator verifies it from the operator's screen.
    log_in(operator, site.operator_login)
    operator.wait_for_url("**/ops")
    operator.get_by_role("link", name="입점 심사 대기 목록").click()  # the queue, with what to check
    operator.locator(f"li[data-partner='{partner_id}']").get_by_role("button", name="승인").click()
    operator.wait_for_url("**/ops/partners?done=1")

    # The owner creates a timed product and submits it for review.
    owner.goto(f"/p/{partner_id}")
    assert "운영중" in owner.locator("h1").inner_text()
    owner.get_by_role("link", name="장소").click()
    owner.get_by_label("장소명").fill("본점")
    owner.get_by_label("주소").fill("서울 강남구 테헤란로 1")
    owner.get_by_role("button", name="장소 추가").click()
    owner.wait_for_url("**?done=1")
    owner.get_by_role("link", name="상품", exact=True).click()
    owner.get_by_role("link", name="상품 등록").click()
    owner.get_by_label("예약장소").select_option(label="본점")
    owner.get_by_label("상품명").fill("디자인 컷")
    owner.get_by_label("일정 유형").select_option("datetime")
    owner.get_by_label("가격(원) 1").fill("30000")
    owner.get_by_label("가격(원) 2").fill("15000")
    owner.get_by_role("button", name="저장").click()
    owner.wait_for_url(re.compile(r".*/products/(?!new\b)[^/?]+$"))  # the new product's page, not the form's
    product_id = owner.url.split("/products/")[1].split("?")[0]
    owner.get_by_role("button", name="심사 요청").click()
    owner.wait_for_url("**?done=1")
    assert "심사중" in owner.locator("h1").inner_text()

    # The operator approves it: what changed is listed with it.
    operator.goto("/ops")
    review = operator.locator("li[data-review]", has_text="디자인 컷")
    review.get_by_role("button", name="승인").click()
    operator.wait_for_url("**/ops?done=1")

    # The owner opens a slot, then watches 예약관리.
    owner.goto(f"/p/{partner_id}/products/{product_id}")
    assert "심사완료" in owner.locator("h1").inner_text()
    owner.locator("#slot-date").fill(day())
    owner.locator("#slot-time").fill("10:00")
    owner.locator("#slot-capacity").fill("5")
    owner.get_by_role("button", name="일정 추가").click()
    owner.wait_for_url("**?done=1")
    owner.get_by_role("link", name="예약관리").click()
    owner.wait_for_selector("#live[data-connected=yes]", state="attached")
    assert owner.locator("#reservation-list").inner_text().strip() == "예약 내역이 없습니다."

    # A customer books through the API; the request appears on the open page.
    customer = pc.customer_session()
    booking = book(customer, product_id, day())
    row = owner.locator(f"tr[data-number='{booking['number']}']")
    row.wait_for()
    assert "예약신청" in row.inner_text()
    assert owner.title().startswith("(1) 예약관리")
    assert owner.locator("#live-badge").inner_text() == "1 새 예약신청"

    # The owner confirms, then completes it.
    row.get_by_role("link", name=booking["number"]).click()
    owner.get_by_role("button", name="예약확정").click()
    owner.wait_for_url("**?done=1")
    assert "예약확정" in owner.locator("h1 .state").inner_text()
    owner.get_by_role("button", name="이용완료").click()
    owner.wait_for_url("**?done=1")
    assert "이용완료" in owner.locator("h1 .state").inner_text()
    history = owner.locator("ol.history").inner_text()
    assert "예약신청" in history and "예약확정" in history and "이용완료" in history, history
    assert "T" not in owner.locator("ol.history time").first.inner_text()  # the partner's time, not an ISO instant

    # The customer's messages say so.
    eventually(
        lambda: {"reservation.confirmed", "reservation.completed"} <= message_kinds(customer),
        "the customer is told of the confirmation and the completion",
    )


def desk_story(site: Site) -> None:
    """Search, the status board, a rejection with its reason, a chat; screenshots."""
    pc, s = site.pc, site.setting
    pid = s["partner_id"]
    owner = admin_on_dashboard(site)
    # Seed 000: the dashboard in words (R-ACC-11); insights and settlement are not running here, so it says so.
    dashboard = owner.locator("main").inner_text()
    assert "오늘 들어온 예약" in dashboard and "상품 현황" in dashboard and "예약가능" in dashboard, dashboard
    assert "(고객·리뷰, 정산)" in owner.locator("#dashboard-unavailable").inner_text()
    assert "insights" not in dashboard and "awaiting_confirmation" not in dashboard, dashboard
    shoot(owner, "dashboard")
    owner.get_by_role("link", name="예약관리").click()
    first, second = s["numbers"]

    # Search by the last four phone digits, then by name (R-RSV-8).
    owner.get_by_label("검색").fill("5678")
    owner.get_by_role("button", name="검색").click()
    owner.wait_for_url("**q=5678**")
    rows = owner.locator("#reservation-list tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-number") == first
    owner.get_by_label("검색").fill("이서준")
    owner.get_by_role("button", name="검색").click()
    owner.wait_for_url("**q=**")
    owner.locator(f"tr[data-number='{second}']").wait_for()
    assert rows.count() == 1
    shoot(owner, "reservations")

    # A rejection with its reason: the reason stays on the reservation and reaches the customer.
    owner.get_by_role("link", name=second).click()
    owner.get_by_label("확정거절 사유").fill("디자이너 일정이 변경되었습니다")
    owner.locator("#btn-reject").click()
    owner.wait_for_url("**?done=1")
    assert "확정거절" in owner.locator("h1 .state").inner_text()
    assert "디자이너 일정이 변경되었습니다" in owner.locator("dl.facts").inner_text()
    rejected_customer = pc.client(s["customer_tokens"][1])
    eventually(
        lambda: any(
            m["kind"] == "reservation.rejected" for m in rejected_customer.get("/v1/shop/messages").json()["items"]
        ),
        "the customer is told of the rejection",
    )

    # A chat: requested from the reservation, accepted by the customer, answered in 채팅.
    owner.goto(f"/p/{pid}/reservations/{first}")
    shoot(owner, "reservation")
    owner.get_by_role("button", name="채팅하기").click()
    owner.wait_for_url("**?done=1")
    customer = pc.client(s["customer_tokens"][0])
    invitation = eventually(
        lambda: [i for i in customer.get("/v1/shop/chat-invitations").json()["items"] if i["state"] == "pending"],
        "the chat invitation reaches the customer",
    )[0]
    assert customer.post(f"/v1/shop/chat-invitations/{invitation['invitation_id']}/accept").status_code == 200
    owner.get_by_role("link", name="채팅", exact=True).click()
    owner.get_by_role("link", name=f"예약번호 {first}").click()
    owner.get_by_label("메시지").fill("안녕하세요, 예약 확인드립니다.")
    owner.get_by_role("button", name="보내기").click()
    owner.locator("ol.chat li", has_text="예약 확인드립니다").wait_for()
    shoot(owner, "chat")
    conversation = owner.url.rstrip("/").split("/chats/")[1]
    said = customer.get(f"/v1/shop/conversations/{conversation}/messages").json()["items"]
    assert any(m["body"] == "안녕하세요, 예약 확인드립니다." and m["author"] == "partner" for m in said)

    # The status board (예약현황): the slot with one request and one rejection left out of it.
    owner.get_by_role("link", name="예약현황").click()
    slot = owner.locator("table.board tbody tr", has_text=s["date"])
    cells = slot.locator("td").all_inner_texts()
    assert cells[:4] == [s["date"], "10:00", "1", "0"], cells
    shoot(owner, "board")

    # Phone width: the same screens, laid out for a phone.
    shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("dashboard", f"/p/{pid}"),
            ("reservations", f"/p/{pid}/reservations?status=all"),
            ("reservation", f"/p/{pid}/reservations/{first}"),
            ("board", f"/p/{pid}/board"),
        ),
    )


SHOTS = REPO / "reports" / "console"


def shoot(page, name: str, width: str = "desktop") -> None:
    """The README's screenshots, only when asked (PC_CONSOLE_SCREENSHOTS=1), so an
    ordinary ``make test`` leaves the committed ones alone."""
    if os.environ.get("PC_CONSOLE_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def admin_on_dashboard(site: Site) -> Any:
    """A page signed in as the setting's admin, landed on its partner's dashboard (``/p/<partner_id>``)."""
    admin = site.page()
    log_in(admin, site.setting["admin_login"])
    admin.wait_for_url(f"**/p/{site.setting['partner_id']}")
    return admin


def shoot_on_phone(site: Site, login_id: str, screens) -> Any:
    """A phone-sized page signed in as ``login_id`` that opens and shoots each ``(name, path)`` of
    ``screens`` in turn; the page, for what the story does on it next."""
    phone = site.page(width=390, height=844)
    log_in(phone, login_id)
    for name, path in screens:
        phone.goto(path)
        shoot(phone, name, "phone")
    return phone


def labelled_fields_missing(page) -> list[str]:
    """Form fields (not hidden) that no label names: accessibility basics."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML)""")


def crawl(page, start: str, limit: int = 20) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Every same-site link the console renders, breadth first from ``start``:
    (path -> status, path -> its form fields without a label)."""
    statuses: dict[str, int] = {}
    unlabelled: dict[str, list[str]] = {}
    queue = [start]
    while queue and len(statuses) < limit:
        path = queue.pop(0)
        if path in statuses or path.endswith("/events") or path.startswith("/static/"):
            continue
        response = page.request.get(path, max_redirects=0)  # the context's base URL
        statuses[path] = response.status
        if response.status in (301, 302, 303, 307):
            queue.append("/" + response.headers["location"].split("://", 1)[-1].split("/", 1)[-1])
            continue
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        page.goto(path, wait_until="domcontentloaded")
        unlabelled[path] = labelled_fields_missing(page)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            if href.startswith("/") and not href.startswith("//") and not href.startswith("/lang/"):
                queue.append(href)
    return statuses, unlabelled


def roles_story(site: Site) -> None:
    """R-ACC-11 roles, the crawl, labels on every field and the focus order of the actions."""
    s = site.setting
    pid, number = s["partner_id"], s["numbers"][0]

    # A member: the partner list (not the dashboard), no product editing, no settlement.
    member = site.page()
    log_in(member, s["member_login"])
    member.get_by_role("link", name=s["partner_name"]).click()
    nav = member.locator("header nav")
    assert nav.get_by_role("link", name="예약관리").count() == 1
    assert nav.get_by_role("link", name="상품").count() == 0 and nav.get_by_role("link", name="정산").count() == 0
    for path in (f"/p/{pid}/products/new", f"/p/{pid}/products", f"/p/{pid}/settlement"):
        response = member.goto(path)
        assert response.status == 403, (path, response.status)
        assert "권한이 없습니다" in member.locator(".error").inner_text()
    # ...but a member handles reservations (api.md Roles): the actions are there, in keyboard order.
    member.goto(f"/p/{pid}/reservations/{number}")
    member.locator("#btn-confirm").focus()
    order = ["btn-confirm"]
    for _ in range(5):
        member.keyboard.press("Tab")
        order.append(member.evaluate("() => document.activeElement.id"))
    assert order == ["btn-confirm", "reason-reject", "btn-reject", "reason-cancel", "btn-cancel", "btn-chat"], order

    # The crawl: no page the console links to answers 5xx, for an admin and for the operator;
    # on every page, every form field has a label.
    admin = site.page()
    log_in(admin, s["admin_login"])
    operator = site.page()
    log_in(operator, site.operator_login)
    for who, start in ((admin, "/?list=1"), (member, f"/p/{pid}/reservations?status=all"), (operator, "/ops")):
        statuses, unlabelled = crawl(who, start)
        assert len(statuses) >= (2 if who is operator else 5), statuses
        assert {path: status for path, status in statuses.items() if status >= 500} == {}, statuses
        assert {path: fields for path, fields in unlabelled.items() if fields} == {}
    # English second: by the browser's language, and the member's own choice in the header.
    english = site.page(locale="en-US")
    english.goto("/login")
    assert english.locator("h1").inner_text() == "Log in"
    log_in_english = english.get_by_role("link", name="한국어")
    log_in_english.click()
    english.wait_for_url("**/login")
    assert english.locator("h1").inner_text() == "로그인"

    for anonymous_path in ("/login", "/signup"):
        page = site.page()
        page.goto(anonymous_path)
        assert labelled_fields_missing(page) == [], anonymous_path


STORIES = {"booking_story": booking_story, "desk_story": desk_story, "roles_story": roles_story}


def all_stories() -> dict:
    """These and the stories of other modules (imported here, not at their top: they use this one's helpers)."""
    from browser import booking_screens_stories

    return {**STORIES, **booking_screens_stories.STORIES}


def main(name: str, setting: dict) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=setting.get("chromium", CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            platform = Platform(setting["gateway_url"], {}, setting["dev_key_file"])
            site = Site(setting["console_url"], platform, setting["operator_login"], browser, setting)
            all_stories()[name](site)
        finally:
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
