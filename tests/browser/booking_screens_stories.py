"""Browser stories for issue 22's booking-side screens (run through
``browser.stories``, which takes ``STORIES`` from here): the phone reveal
(R-RSV-12), 상품수정 with the live version kept in review (R-CAT-5), 예약 설정,
the inventory calendar's blocks (R-CAT-2), 회원탈퇴 refused for the last admin
(R-ACC-4), the operators' partner queue (R-ACC-8, R-ACC-15), the crawl of the
new pages and their screenshots at desktop and phone widths.
"""

from __future__ import annotations

from typing import Any

from browser.support import day, log_in
from support.api import expect


def reveal_phone(site, s, admin, api) -> None:
    """R-RSV-12: masked until an admin asks; the reveal is in the reservation's history."""
    from browser.stories import shoot

    pid, number = s["partner_id"], s["number"]
    admin.goto(f"/p/{pid}/reservations/{number}")
    assert "010-1234-5678" not in admin.content()
    admin.get_by_role("button", name="전화번호 보기").click()
    admin.locator("#revealed-phone").wait_for()
    assert admin.locator("#revealed-phone").inner_text() == "010-1234-5678"
    shoot(admin, "reservation-revealed")
    history = expect(api.get(f"/v1/partners/{pid}/reservations/{number}"), 200)["history"]
    assert [step["action"] for step in history].count("phone_revealed") == 1, history

    member = site.page()
    log_in(member, s["member_login"])
    member.goto(f"/p/{pid}/reservations/{number}")
    assert member.get_by_role("button", name="전화번호 보기").count() == 0
    assert "010-1234-5678" not in member.content()
    # R-ACC-11: a member cannot open the new product screens either (403 in words, never a 5xx).
    for screen in ("edit", "booking-settings", "calendar"):
        response = member.goto(f"/p/{pid}/products/{s['product_id']}/{screen}")
        assert response.status == 403, (screen, response.status)
        assert "권한이 없습니다" in member.locator(".error").inner_text()


def edit_in_review(admin, s, api, customer) -> None:
    """R-CAT-5: the edit waits for review beside the live version; customers keep the live one."""
    from browser.stories import shoot

    pid, product_id = s["partner_id"], s["product_id"]
    admin.goto(f"/p/{pid}/products/{product_id}")
    admin.get_by_role("link", name="상품수정").click()
    admin.get_by_label("상품명").fill("디자인 컷 (샴푸 포함)")
    admin.get_by_label("상품설명").fill("샴푸와 드라이까지 포함된 컷입니다.")
    admin.get_by_role("button", name="수정 내용 저장").click()
    admin.wait_for_url("**?done=1")
    admin.get_by_role("button", name="심사 요청").click()
    admin.wait_for_url("**?done=1")
    live, pending = admin.locator("[data-version=live]"), admin.locator("[data-version=pending]")
    assert "디자인 컷 (샴푸 포함)" not in live.inner_text() and "디자인 컷" in live.inner_text()
    assert "디자인 컷 (샴푸 포함)" in pending.inner_text() and "심사중" in pending.inner_text()
    assert "상품명" in pending.locator("dd").last.inner_text()  # what changed, in words
    shoot(admin, "product-edit-in-review")
    assert expect(customer.get(f"/v1/shop/products/{product_id}"), 200)["name"] == "디자인 컷"
    mine = expect(api.get(f"/v1/partners/{pid}/products/{product_id}"), 200)
    assert mine["live"]["name"] == "디자인 컷" and mine["pending"]["name"] == "디자인 컷 (샴푸 포함)"
    admin.goto(f"/p/{pid}/products/{product_id}/edit")
    shoot(admin, "product-edit")


def settings_saved(admin, s, api) -> None:
    from browser.stories import shoot

    pid, product_id = s["partner_id"], s["product_id"]
    admin.goto(f"/p/{pid}/products/{product_id}")
    admin.get_by_role("link", name="예약 설정").click()
    assert "파트너가 직접 확정" in admin.locator("#current-settings").inner_text()  # the default
    admin.get_by_label("예약 즉시 자동 확정").check()
    admin.get_by_label("확정대기 유효시간(시간)").fill("6")
    admin.get_by_label("부분 취소 허용").uncheck()
    admin.get_by_role("button", name="저장").click()
    admin.wait_for_url("**?done=1")
    shown = admin.locator("#current-settings").inner_text()
    assert "예약 즉시 자동 확정" in shown and "6시간" in shown and "아니오" in shown, shown
    saved = expect(api.get(f"/v1/partners/{pid}/products/{product_id}/booking-settings"), 200)
    assert (saved["confirmation"], saved["request_ttl_hours"], saved["allow_partial_cancel"]) == ("auto", 6, False)
    admin.get_by_label("확정대기 유효시간(시간)").fill("0")  # out of range: the API's words, the form again
    admin.get_by_role("button", name="저장").click()
    assert "request_ttl_hours" in admin.locator(".error").inner_text()
    shoot(admin, "booking-settings")


def block_a_date(admin, s, customer) -> None:
    """R-CAT-2: a date blocked on the calendar cannot be booked through the API."""
    from browser.stories import shoot

    pid, product_id, date = s["partner_id"], s["product_id"], day(4)
    admin.goto(f"/p/{pid}/products/{product_id}/calendar?month={date[:7]}")
    admin.locator("#cal-slot-date").fill(date)
    admin.locator("#cal-slot-time").fill("10:00")
    admin.locator("#cal-slot-capacity").fill("3")
    admin.get_by_role("button", name="일정 추가").click()
    admin.wait_for_url("**done=1")
    cell = admin.locator(f"td[data-date='{date}']")
    assert "10:00" in cell.inner_text()
    shop = expect(customer.get(f"/v1/shop/products/{product_id}"), 200)
    line = [{"price_id": shop["prices"][0]["price_id"], "quantity": 1}]
    admin.locator("#cal-block-date").fill(date)
    admin.get_by_label("예약불가 사유").fill("정기 휴무")
    admin.locator("#btn-block").click()
    admin.wait_for_url("**done=1")
    assert "예약불가" in admin.locator(f"td[data-date='{date}']").inner_text()
    assert "정기 휴무" in admin.locator("ul.rows").inner_text()
    shoot(admin, "calendar")
    refused = book_at_ten(customer, product_id, date, line, f"block-{date}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_blocked", refused.text

    # 예약불가 해제: the date is open again and the same booking goes through.
    admin.locator("ul.rows li", has_text="정기 휴무").get_by_role("button", name="예약불가 해제").click()
    admin.wait_for_url("**done=1")
    assert "예약불가" not in admin.locator(f"td[data-date='{date}']").inner_text()
    booked = book_at_ten(customer, product_id, date, line, f"open-{date}")
    assert booked.status_code == 201, booked.text


def book_at_ten(customer, product_id: str, date: str, lines: list[dict], key: str):
    """The customer's booking request for 10:00 on ``date``, as sent (the caller checks the answer)."""
    return customer.post(
        "/v1/shop/reservations",
        json={
            "product_id": product_id,
            "date": date,
            "time": "10:00",
            "lines": lines,
            "booker": {"name": "박하늘", "phone": "010-5555-6666"},
        },
        headers={"Idempotency-Key": key},
    )


def last_admin_refused(admin, s, api) -> None:
    """R-ACC-4: the only admin of an operating partner cannot withdraw; the screen says why and what to do."""
    from browser.stories import shoot

    admin.goto("/me")
    admin.get_by_role("link", name="회원탈퇴").click()
    admin.wait_for_url("**/withdraw")
    admin.get_by_label("탈퇴 요건을 확인했으며 탈퇴에 동의합니다").check()
    admin.locator("#btn-withdraw").click()
    error = admin.locator(".error")
    error.wait_for()
    assert "다른 관리자를 초대 후 탈퇴해 주세요" in error.inner_text() and s["partner_name"] in error.inner_text()
    shoot(admin, "withdraw-refused")
    assert expect(api.get("/v1/me"), 200)["login_id"] == s["admin_login"]  # still a member


def operator_queue(site, s) -> Any:
    """R-ACC-8/R-ACC-15: the operator reads the queue with what to check, and verifies from it."""
    from browser.stories import shoot

    operator = site.page()
    log_in(operator, site.operator_login)
    operator.wait_for_url("**/ops")
    operator.get_by_role("link", name="입점 심사 대기 목록").click()
    entry = operator.locator(f"li[data-partner='{s['pending_partner_id']}']")
    checks = entry.locator("table.checks").inner_text()
    assert "사업자등록번호" in checks and "1234567890" in checks and "국세청" in checks, checks
    assert "카테고리\t스튜디오" in checks and "studio" not in checks, checks  # the category in words, not its code
    shoot(operator, "ops-partners")
    entry.get_by_role("button", name="승인").click()
    operator.wait_for_url("**/ops/partners?done=1")
    assert operator.locator(f"li[data-partner='{s['pending_partner_id']}']").count() == 0
    operator.get_by_role("link", name="운영중").click()
    operator.locator(f"li[data-partner='{s['pending_partner_id']}']").wait_for()
    return operator


def crawl_new_pages(admin, operator, s) -> None:
    """No 5xx on any link the new pages render; a label on every field."""
    from browser.stories import crawl

    pid, product_id = s["partner_id"], s["product_id"]
    statuses, unlabelled = crawl(admin, f"/p/{pid}/products/{product_id}", limit=30)
    base = f"/p/{pid}/products/{product_id}"
    for page in (f"{base}/edit", f"{base}/booking-settings", f"{base}/calendar"):
        assert statuses.get(page) == 200, (page, statuses)
    more, more_unlabelled = crawl(admin, "/me", limit=10)
    assert more.get("/withdraw") == 200, more
    ops, ops_unlabelled = crawl(operator, "/ops", limit=10)
    assert ops.get("/ops/partners") == 200 and ops.get("/ops/partners?status=rejected") == 200, ops
    everything = {**statuses, **more, **ops}
    assert {path: status for path, status in everything.items() if status >= 500} == {}, everything
    fields = {**unlabelled, **more_unlabelled, **ops_unlabelled}
    assert {path: missing for path, missing in fields.items() if missing} == {}


def phone_shots(site, s) -> None:
    from browser.stories import shoot, shoot_on_phone

    pid, product_id = s["partner_id"], s["product_id"]
    phone = shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("product-edit-in-review", f"/p/{pid}/products/{product_id}"),
            ("product-edit", f"/p/{pid}/products/{product_id}/edit"),
            ("booking-settings", f"/p/{pid}/products/{product_id}/booking-settings"),
            ("calendar", f"/p/{pid}/products/{product_id}/calendar?month={day(4)[:7]}"),
            ("withdraw", "/withdraw"),
        ),
    )
    phone.goto(f"/p/{pid}/reservations/{s['number']}")
    phone.get_by_role("button", name="전화번호 보기").click()
    phone.locator("#revealed-phone").wait_for()
    shoot(phone, "reservation-revealed", "phone")
    shoot_on_phone(site, site.operator_login, (("ops-partners", "/ops/partners?status=verified"),))


def booking_screens_story(site) -> None:
    s = site.setting
    admin = site.page()
    log_in(admin, s["admin_login"])
    api = site.pc.client(site.pc.login(s["admin_login"]))
    customer = site.pc.client(s["customer_token"])
    reveal_phone(site, s, admin, api)
    edit_in_review(admin, s, api, customer)
    settings_saved(admin, s, api)
    block_a_date(admin, s, customer)
    last_admin_refused(admin, s, api)
    operator = operator_queue(site, s)
    crawl_new_pages(admin, operator, s)
    phone_shots(site, s)
    in_english(site, s)


def in_english(site, s) -> None:
    """English second: the new screens in the browser's language, no key left untranslated."""
    english = site.page(locale="en-US")
    log_in_english(english, s["admin_login"])
    base = f"/p/{s['partner_id']}/products/{s['product_id']}"
    for path, heading in (
        (f"{base}/edit", "Edit product"),
        (f"{base}/booking-settings", "Booking settings"),
        (f"{base}/calendar", "Inventory calendar"),
        ("/withdraw", "Withdraw"),
    ):
        english.goto(path)
        assert english.locator("h1").inner_text().startswith(heading), (path, english.locator("h1").inner_text())
        assert "_" not in english.locator("main").inner_text().replace("__", ""), path  # no raw word keys


def log_in_english(page, login_id: str) -> None:
    from support.api import DEFAULT_PASSWORD

    page.goto("/login")
    page.get_by_label("Login ID").fill(login_id)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


STORIES = {"booking_screens_story": booking_screens_story}
