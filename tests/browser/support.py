"""Steps the console tests share: people signing in, forms filled as a person would."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from support.api import DEFAULT_PASSWORD, expect, random_phone, unique

SEOUL = ZoneInfo("Asia/Seoul")


def day(offset: int = 3) -> str:
    return (dt.datetime.now(SEOUL).date() + dt.timedelta(days=offset)).isoformat()


def log_in(page, login_id: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("아이디").fill(login_id)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def sign_up(page) -> str:
    login_id = unique("owner_")
    page.goto("/signup")
    page.get_by_label("아이디").fill(login_id)
    page.get_by_label("비밀번호").fill(DEFAULT_PASSWORD)
    page.get_by_label("이름").fill("김사장")
    page.get_by_label("휴대폰번호").fill(random_phone())
    page.get_by_label("이용약관에 동의합니다").check()
    page.get_by_role("button", name="회원가입").click()
    page.wait_for_url("**/")
    return login_id


def staff_logins(pc, partner) -> dict:
    """A story's setting for a partner's staff: the partner's id and name, its admin's login and that of
    a member added for the story."""
    return {
        "partner_id": partner.partner_id,
        "partner_name": partner.name,
        "admin_login": partner.admin.login_id,
        "member_login": pc.staff(partner, "member").login_id,
    }


def eventually(probe, what: str, attempts: int = 100, pause: float = 0.2):
    """Asks ``probe`` until it answers something truthy (events travel through
    RabbitMQ): its answer, or a failure naming ``what`` never happened."""
    for _ in range(attempts):
        answer = probe()
        if answer:
            return answer
        time.sleep(pause)
    raise AssertionError(f"never happened: {what}")


def message_kinds(customer) -> set[str]:
    return {m["kind"] for m in expect(customer.client.get("/v1/shop/messages?limit=50"), 200)["items"]}


def book(
    customer, product_id: str, date: str, time_of_day: str = "10:00", name: str = "김다온", phone: str = "010-1234-5678"
) -> dict:
    shop = expect(customer.client.get(f"/v1/shop/products/{product_id}"), 200)
    price_id = shop["prices"][0]["price_id"]
    return expect(
        customer.client.post(
            "/v1/shop/reservations",
            json={
                "product_id": product_id,
                "date": date,
                "time": time_of_day,
                "lines": [{"price_id": price_id, "quantity": 1}],
                "booker": {"name": name, "phone": phone},
            },
            headers={"Idempotency-Key": unique("k")},
        ),
        201,
    )
