"""The browser stories of the console tests, run by ``python -m browser.stories
<name> <setting json>`` in a process without eventlet (see conftest.py).

Each story gets a ``Site``: ``.url`` (the console), ``.pc`` (a
``support.api.Platform`` on the gateway, for what customers do through the
API), ``.operator_login`` and ``.page()`` (a new browser context: its own
cookies, one per person in the story).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

from support.api import Platform

from browser.support import book, day, eventually, log_in, message_kinds, sign_up

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@dataclass
class Site:
    url: str
    pc: Platform
    operator_login: str
    browser: object
    setting: dict = field(default_factory=dict)

    def page(self, width: int = 1280, height: int = 900, locale: str = "ko-KR"):
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale=locale,
                                           base_url=self.url)
        context.set_default_timeout(20_000)
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
    operator.get_by_label("파트너 ID").fill(partner_id)
    operator.get_by_role("button", name="승인").click()
    operator.wait_for_url("**/ops?done=1")

    # The owner creates a timed product and submits it for review.
    owner.goto(f"/p/{partner_id}")
    assert "운영중" in owner.locator("h1").inner_text()
    owner.get_by_role("link", name="상품").click()
    owner.get_by_role("link", name="상품 등록").click()
    owner.get_by_label("상품명").fill("디자인 컷")
    owner.get_by_label("일정 유형").select_option("datetime")
    owner.get_by_label("가격(원) 1").fill("30000")
    owner.get_by_label("가격(원) 2").fill("15000")
    owner.get_by_role("button", name="저장").click()
    owner.wait_for_url("**/products/*")
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
    assert "confirm" in history and "complete" in history

    # The customer's messages say so.
    eventually(lambda: {"reservation.confirmed", "reservation.completed"} <= message_kinds(customer),
               "the customer is told of the confirmation and the completion")


STORIES = {"booking_story": booking_story}


def main(name: str, setting: dict) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=setting.get("chromium", CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            site = Site(setting["console_url"], Platform(setting["gateway_url"], {}, setting["dev_key_file"]), setting["operator_login"],
                        browser, setting)
            STORIES[name](site)
        finally:
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
