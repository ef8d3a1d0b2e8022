"""The commerce stories of the console tests (issue 23): the cafe's order
board, the shop's orders, money and statistics. Run like ``browser.stories``
(``python -m browser.commerce_stories <name> <setting json>``, see conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path

from browser.stories import CHROMIUM, CHROMIUM_ARGS, Site, admin_on_dashboard, crawl, shoot, shoot_on_phone
from browser.support import eventually, log_in
from support.api import ADDRESS, expect

SEOUL = dt.timezone(dt.timedelta(hours=9))


def place_order(customer, partner_id: str, channel: str, lines: list[dict], **extra) -> dict:
    body = {"partner_id": partner_id, "channel": channel, "lines": lines, **extra}
    if channel in ("delivery", "parcel"):
        body.setdefault("shipping_address", ADDRESS)
    return expect(
        customer.client.post("/v1/shop/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}), 201
    )


def customer_view(customer, order_id: str) -> dict:
    return expect(customer.client.get(f"/v1/shop/orders/{order_id}"), 200)


def cafe_story(site: Site) -> None:
    """Seed 004: a takeout order arrives live on 주문현황 (the tab's count, the title), 준비시작 from the
    list with its minutes, the ready time and the auto-complete on the detail, 처리완료 (R-ORD-1, R-ORD-2);
    a refusal is shown in the gateway's words; a delivery shipped and its invoice corrected (R-ORD-3)."""
    s = site.setting
    pid, americano, latte = s["partner_id"], s["americano"], s["latte"]
    owner = admin_on_dashboard(site)
    owner.get_by_role("link", name="주문현황").click()
    owner.wait_for_selector("#live[data-connected=yes]", state="attached")
    assert owner.locator("#order-board .empty").inner_text() == "주문 내역이 없습니다."
    assert owner.locator("#new-count").inner_text() == "0"

    # A customer orders takeout through the API: it appears on the open page, counted.
    customer = site.pc.customer_session()
    placed = place_order(customer, pid, "takeout", [{"product_id": americano, "quantity": 2}], note="덜 달게")
    row = owner.locator(f"tr[data-order='{placed['order_id']}']")
    row.wait_for()
    assert "포장" in row.inner_text() and "신규" in row.inner_text() and "Americano ×2" in row.inner_text()
    assert owner.locator("#new-count").inner_text() == "1"
    assert owner.title().startswith("(1) 주문현황")
    assert owner.locator("#live-badge").inner_text() == "1 새 주문"
    assert "분 남음" in row.locator(".auto").inner_text()  # R-ORD-2: the one-hour auto-complete
    shoot(owner, "orders")

    # 준비시작 from the list, 15 minutes: the order moves to 준비중 with its ready time.
    row.get_by_label("소요 시간(분)").select_option("15")
    row.get_by_role("button", name="준비시작").click()
    owner.wait_for_url("**done=1")
    assert owner.locator(f"tr[data-order='{placed['order_id']}']").count() == 0
    owner.locator("a[data-state=preparing]").click()
    owner.wait_for_url("**status=preparing**")
    row = owner.locator(f"tr[data-order='{placed['order_id']}']")
    assert "준비중" in row.inner_text()
    row.get_by_role("link").first.click()
    owner.wait_for_url(f"**/orders/{placed['order_id']}")
    seen = customer_view(customer, placed["order_id"])
    ready = dt.datetime.fromisoformat(seen["ready_at"]).astimezone(SEOUL)
    assert seen["status"] == "preparing" and seen["preparation_minutes"] == 15
    assert owner.locator("#ready-at").inner_text().startswith(ready.strftime("%H:%M"))
    due = dt.datetime.fromisoformat(seen["auto_complete_at"]).astimezone(SEOUL)
    assert owner.locator("#auto-complete").inner_text().startswith(due.strftime("%H:%M"))
    assert "덜 달게" in owner.locator("dl.facts").inner_text()
    shoot(owner, "order")
    owner.get_by_role("button", name="처리완료").click()
    owner.wait_for_url("**done=1")
    assert owner.locator("h1 .state").inner_text() == "완료"
    done = customer_view(customer, placed["order_id"])
    assert (done["status"], done["completed_by"]) == ("completed", "partner")
    assert owner.locator("section.actions button").count() == 0  # nothing left to do with it

    # A refusal in the gateway's words: the customer cancels while the detail is open (R-ORD-5).
    second = place_order(customer, pid, "dine_in", [{"product_id": latte, "quantity": 1}])
    owner.goto(f"/p/{pid}/orders/{second['order_id']}")
    expect(customer.client.post(f"/v1/shop/orders/{second['order_id']}/cancel", json={}), 200)
    owner.locator("#btn-start-preparing").click()
    refusal = owner.locator(".error").inner_text()
    assert "취소" in refusal, refusal
    assert owner.locator("h1 .state").inner_text() == "취소"

    # A delivery: 배송 준비 from the list, shipped with courier and invoice, the invoice corrected.
    delivery = place_order(customer, pid, "delivery", [{"product_id": latte, "quantity": 3}])
    owner.goto(f"/p/{pid}/orders?tab=shipped")
    row = owner.locator(f"tr[data-order='{delivery['order_id']}']")
    assert "배송" in row.inner_text() and "신규" in row.inner_text()
    row.get_by_role("button", name="배송 준비").click()
    owner.wait_for_url("**done=1")
    owner.locator("a[data-state=preparing_shipment]").click()
    owner.locator(f"tr[data-order='{delivery['order_id']}'] a").first.click()
    owner.wait_for_url(f"**/orders/{delivery['order_id']}")
    assert owner.locator("#btn-cancel").count() == 1  # before shipment the partner may cancel (seed 004)
    owner.get_by_label("택배사").select_option(label="CJ대한통운")
    owner.get_by_label("송장번호").fill("123456789012")
    owner.get_by_role("button", name="발송 처리").click()
    owner.wait_for_url("**done=1")
    assert owner.locator("h1 .state").inner_text() == "배송 중"
    assert owner.locator("#btn-cancel").count() == 0  # shipped: no cancelling (R-ORD-5)
    assert owner.locator("#invoice").inner_text().startswith("123456789012")
    owner.locator("#fix-invoice").fill("987654321098")
    owner.get_by_role("button", name="송장 수정").click()
    owner.wait_for_url("**done=1")
    assert owner.locator("#invoice").inner_text().startswith("987654321098")
    shipped = customer_view(customer, delivery["order_id"])
    assert (shipped["courier"], shipped["invoice_number"]) == ("cj", "987654321098"), shipped
    assert "987654321098" in (shipped["tracking_url"] or "")
    assert owner.get_by_role("link", name="배송조회").get_attribute("href") == shipped["tracking_url"]
    shoot(owner, "order-delivery")

    shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("orders", f"/p/{pid}/orders?tab=in_store&status=completed"),
            ("order", f"/p/{pid}/orders/{placed['order_id']}"),
            ("order-delivery", f"/p/{pid}/orders/{delivery['order_id']}"),
        ),
    )


def shop_story(site: Site) -> None:
    """Seed 003: a parcel order with a coupon is shipped from the console with its tracking, the customer asks
    a refund of one of its two lines, the owner approves it on the order (R-ORD-3, R-ORD-7, R-ORD-8); an
    inquiry answered (R-ORD-9); goods with their stock, sold-out shown."""
    s = site.setting
    pid = s["partner_id"]
    owner = admin_on_dashboard(site)
    customer = site.pc.customer_session()
    placed = place_order(
        customer,
        pid,
        "parcel",
        [
            {"product_id": s["shirt"], "option_id": s["white_m"], "quantity": 1},
            {"product_id": s["hat"], "option_id": s["hat_free"], "quantity": 1},
        ],
        coupon_code=s["coupon_code"],
    )
    assert placed["discount_amount"] == 5000 and placed["total"] == 39000 + 15000 - 5000

    # 주문현황, 배송 tab (the shop has no in-store orders): 배송 준비, then 발송 처리 with the tracking link.
    owner.get_by_role("link", name="주문현황").click()
    owner.locator("nav.tabs a", has_text="배송").first.click()
    row = owner.locator(f"tr[data-order='{placed['order_id']}']")
    assert "택배" in row.inner_text() and "Linen shirt (White / M) ×1" in row.inner_text()
    row.get_by_role("button", name="배송 준비").click()
    owner.wait_for_url("**done=1")
    owner.goto(f"/p/{pid}/orders/{placed['order_id']}")
    facts = owner.locator("dl.facts").inner_text()
    assert s["coupon_code"] in facts and "-5,000" in facts and "49,000" in facts, facts
    owner.get_by_label("택배사").select_option(label="한진택배")
    owner.get_by_label("송장번호").fill("555566667777")
    owner.get_by_role("button", name="발송 처리").click()
    owner.wait_for_url("**done=1")
    assert owner.locator("h1 .state").inner_text() == "배송 중"
    shipped = customer_view(customer, placed["order_id"])
    assert (
        shipped["tracking_url"]
        and owner.get_by_role("link", name="배송조회").get_attribute("href") == shipped["tracking_url"]
    )

    # The customer asks a refund of the hat only, and asks a question.
    hat_line = next(line["line_id"] for line in placed["lines"] if line["product_id"] == s["hat"])
    asked = expect(
        customer.client.post(
            f"/v1/shop/orders/{placed['order_id']}/refund-requests",
            json={"reason": "사이즈가 맞지 않아요", "lines": [{"line_id": hat_line, "quantity": 1}]},
        ),
        201,
    )
    expect(
        customer.client.post(
            f"/v1/shop/orders/{placed['order_id']}/inquiries", json={"body": "셔츠는 언제 도착하나요?"}
        ),
        201,
    )

    # The dashboard, every service running: the open order, and the refund and the question waiting (R-ACC-11).
    owner.get_by_role("link", name="대시보드").click()
    assert owner.locator("#dashboard-unavailable").count() == 0
    waiting = owner.locator("#orders-waiting").inner_text()
    assert "환불 요청\n1" in waiting and "미답변 문의\n1" in waiting, waiting
    assert "배송 중\n1" in owner.locator("#orders-open").inner_text()
    shoot(owner, "dashboard-shop")

    # 환불/교환 lists it; the order shows it by line; the owner approves it there.
    owner.get_by_role("link", name="환불/교환").click()
    card = owner.locator(f"div[data-request='{asked['request_id']}']")
    assert "환불" in card.inner_text() and "사이즈가 맞지 않아요" in card.inner_text()
    shoot(owner, "claims")
    card.get_by_role("link").click()
    owner.wait_for_url(f"**/orders/{placed['order_id']}")
    card = owner.locator(f"div[data-request='{asked['request_id']}']")
    assert "Bucket hat (Free) ×1" in card.inner_text() and "Linen shirt" not in card.inner_text()
    shoot(owner, "order-shop")
    card.get_by_role("button", name="승인").click()
    owner.wait_for_url("**done=1")
    card = owner.locator(f"div[data-request='{asked['request_id']}']")
    assert "승인" in card.locator(".state").inner_text()
    refunded = customer_view(customer, placed["order_id"])
    hat = next(line for line in refunded["lines"] if line["line_id"] == hat_line)
    assert hat["refunded_quantity"] == 1 and refunded["refunded_amount"] == asked["amount"] > 0
    assert f"{refunded['refunded_amount']:,}" in owner.locator("dl.facts").inner_text()
    assert owner.locator(f"tr[data-line='{hat_line}']").inner_text().count("(-1)") == 1

    # An exchange of the shirt for another size, through its steps on the order (issue 18 item 7).
    shirt_line = next(line["line_id"] for line in placed["lines"] if line["product_id"] == s["shirt"])
    swap = expect(
        customer.client.post(
            f"/v1/shop/orders/{placed['order_id']}/exchange-requests",
            json={
                "reason": "L 사이즈로 바꿔주세요",
                "lines": [{"line_id": shirt_line, "quantity": 1, "option_id": s["white_l"]}],
            },
        ),
        201,
    )
    owner.goto(f"/p/{pid}/orders/{placed['order_id']}")
    for button in ("승인", "반품 도착"):
        owner.locator(f"div[data-request='{swap['request_id']}']").get_by_role("button", name=button).click()
        owner.wait_for_url("**done=1")
    card = owner.locator(f"div[data-request='{swap['request_id']}']")
    assert "반품 도착" in card.locator(".state").inner_text()
    card.get_by_label("택배사").select_option(label="CJ대한통운")
    card.get_by_label("송장번호").fill("880011223344")
    card.get_by_role("button", name="교환품 발송").click()
    owner.wait_for_url("**done=1")
    owner.locator(f"div[data-request='{swap['request_id']}']").get_by_role("button", name="교환 완료").click()
    owner.wait_for_url("**done=1")
    assert "교환 완료" in owner.locator(f"div[data-request='{swap['request_id']}'] .state").inner_text()
    swapped = next(
        r for r in customer_view(customer, placed["order_id"])["requests"] if r["request_id"] == swap["request_id"]
    )
    assert swapped["status"] == "exchanged" and swapped["replacement"]["invoice_number"] == "880011223344", swapped

    # The question, answered from 문의.
    owner.get_by_role("link", name="문의").click()
    owner.get_by_label("답변").fill("내일 도착 예정입니다.")
    owner.get_by_role("button", name="답변 등록").click()
    owner.wait_for_url("**done=1")
    answered = customer_view(customer, placed["order_id"])
    assert [q["answer"] for q in answered.get("inquiries", [])] == ["내일 도착 예정입니다."] or eventually(
        lambda: (
            owner.goto(f"/p/{pid}/inquiries?answered=true")
            and "내일 도착 예정입니다." in owner.locator("main").inner_text()
        ),
        "the answer is listed",
    )

    owner.goto(f"/p/{pid}/inquiries?answered=all")
    shoot(owner, "inquiries")
    owner.goto(f"/p/{pid}/reviews")
    shoot(owner, "reviews")

    # 상품 재고: the sold-out option says so.
    owner.get_by_role("link", name="상품 재고").click()
    sold_out = owner.locator(f"tr[data-option='{s['black_l']}']")
    assert "품절" in sold_out.inner_text()
    shoot(owner, "goods")

    crawled_clean(owner, f"/p/{pid}/claims", {"orders", "claims", "inquiries", "goods", "reviews", "coupons"})
    shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("claims", f"/p/{pid}/claims?status=all"),
            ("order-shop", f"/p/{pid}/orders/{placed['order_id']}"),
            ("goods", f"/p/{pid}/goods"),
            ("inquiries", f"/p/{pid}/inquiries?answered=all"),
            ("reviews", f"/p/{pid}/reviews"),
        ),
    )


def money_story(site: Site) -> None:
    """R-STL-1..4: a settled period's payout and tax invoice (downloadable) on 정산 as the API gives them,
    the sales summary with its discounts, the ledger as CSV, the dashboard's settlement summary; a member
    sees none of it (R-ACC-11)."""
    s = site.setting
    pid, payout, invoice, summary = s["partner_id"], s["payout"], s["invoice"], s["summary"]
    owner = admin_on_dashboard(site)
    tiles = owner.locator("#money-summary").inner_text()
    assert f"{s['dashboard']['unsettled_balance']:,}" in tiles, tiles
    # Only settlement runs here: the sections of the others are named as not loaded, not shown empty.
    dashboard = owner.locator("main").inner_text()
    assert "sales_today" not in dashboard and "catalog" not in dashboard, dashboard
    assert "주문" in owner.locator("#dashboard-unavailable").inner_text()
    shoot(owner, "dashboard-money")

    owner.locator("header nav").get_by_role("link", name="정산").click()
    row = owner.locator(f"#payouts tr[data-period='{payout['period_end']}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == f"{payout['period_start']} ~ {payout['period_end']}", cells
    assert cells[1:6] == [f"{payout[k]:,}" for k in ("sales", "refunds", "commission", "net")] + [
        f"{payout['payout']['amount']:,}"
    ], cells
    assert cells[6].startswith(payout["payout"]["pay_date"]) and cells[7] == invoice["invoice_number"]
    upcoming = owner.locator("#payout-upcoming").inner_text()
    assert f"{s['upcoming']['amount']:,}" in upcoming and s["upcoming"]["pay_date"] in upcoming
    bill = (
        owner.locator(f"#tax-invoices tr[data-invoice='{invoice['invoice_number']}']").locator("td").all_inner_texts()
    )
    assert bill[2:5] == [f"{invoice[k]:,}" for k in ("supply_amount", "vat_amount", "total_amount")], bill
    shoot(owner, "settlement")
    with owner.expect_download() as waiting:
        owner.get_by_role("link", name="내려받기").click()
    download = waiting.value
    assert download.suggested_filename == f"{invoice['invoice_number']}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].split(",")[:5] == [
        invoice["invoice_number"],
        f"{invoice['period_start']}~{invoice['period_end']}",
        str(invoice["supply_amount"]),
        str(invoice["vat_amount"]),
        str(invoice["total_amount"]),
    ], text

    # 매출: the period's totals with the coupons' discounts, as the sales summary gives them.
    owner.goto(f"/p/{pid}/sales?from={summary['from']}&to={summary['to']}")
    for key in ("sales", "discounts", "refunds", "commission", "revenue"):
        assert owner.locator(f"#sales-totals li[data-key={key}] strong").inner_text() == f"{summary['totals'][key]:,}"
    bars = owner.locator("#sales-by-day g")
    assert [(g.get_attribute("data-label"), int(g.get_attribute("data-value"))) for g in bars.all()] == [
        (d["date"], d["sales"]) for d in summary["days"]
    ]
    shoot(owner, "sales")
    owner.get_by_role("link", name="원장").click()
    owner.goto(f"/p/{pid}/ledger?from={summary['from']}&to={summary['to']}")
    shoot(owner, "ledger")
    exported = owner.request.get(f"/p/{pid}/ledger?from={summary['from']}&to={summary['to']}&format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert len(exported.text().strip().splitlines()) == 1 + s["ledger_count"]

    # A member: no 정산 link, and every money page refused.
    member = site.page()
    log_in(member, s["member_login"])
    member.goto(f"/p/{pid}")
    assert member.locator("#money-summary").count() == 0
    assert member.locator("header nav").get_by_role("link", name="정산").count() == 0
    for path in (
        f"/p/{pid}/settlement",
        f"/p/{pid}/sales",
        f"/p/{pid}/ledger",
        f"/p/{pid}/settlement/tax-invoices/{invoice['invoice_number']}.csv",
    ):
        assert member.goto(path).status == 403, path

    shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("settlement", f"/p/{pid}/settlement"),
            ("sales", f"/p/{pid}/sales?from={summary['from']}&to={summary['to']}"),
            ("ledger", f"/p/{pid}/ledger?from={summary['from']}&to={summary['to']}"),
            ("dashboard-money", f"/p/{pid}"),
        ),
    )


def statistics_story(site: Site) -> None:
    """A scripted sequence of orders (the test's): 통계 shows the API's figures, tile for tile and bar for bar,
    and its CSV the API's rows; 고객 finds a customer by name and by the last four digits, phones masked; a
    member sees counts but no money (R-ACC-11)."""
    s = site.setting
    pid, stats, names = s["partner_id"], s["stats"], s["customers"]
    owner = admin_on_dashboard(site)
    owner.locator("header nav").get_by_role("link", name="통계").click()
    owner.goto(f"/p/{pid}/statistics?from={stats['from']}&to={stats['to']}")

    def tile(key):
        return owner.locator(f"#stat-tiles li[data-key={key}] strong").inner_text()

    def bars(chart_id):
        return [
            (g.get_attribute("data-label"), int(g.get_attribute("data-value")))
            for g in owner.locator(f"svg#{chart_id} g").all()
        ]

    assert tile("orders_total") == str(stats["orders"]["total"])
    assert owner.locator("#stat-tiles li[data-key=bookings_total]").count() == 0  # a cafe takes no bookings
    assert owner.locator("svg#bookings-by-state").count() == 0 and owner.get_by_text("인기 시간대").count() == 0
    assert (tile("sales"), tile("refunds"), tile("net")) == tuple(
        f"{stats['revenue'][k]:,}" for k in ("sales", "refunds", "net")
    )
    order_words = {
        "received": "신규",
        "preparing": "준비중",
        "preparing_shipment": "배송 준비 중",
        "shipped": "배송 중",
        "completed": "완료",
        "cancelled": "취소",
    }
    assert bars("orders-by-state") == [(order_words[k], v) for k, v in stats["orders"]["by_state"].items()]
    assert bars("revenue-by-product") == [(p["product_name"], p["net"]) for p in stats["revenue"]["by_product"]]
    assert bars("revenue-by-day") == [(d["date"], d["net"]) for d in stats["revenue"]["by_day"]]
    exported = owner.request.get(
        f"/p/{pid}/statistics?from={stats['from']}&to={stats['to']}&format=csv&table=by_product"
    )
    rows = [line.split(",") for line in exported.text().lstrip("\ufeff").strip().splitlines()]
    assert rows[0] == ["상품", "매출", "환불", "순매출"], rows[0]
    assert [(r[0], int(r[3])) for r in rows[1:]] == [
        (p["product_name"], p["net"]) for p in stats["revenue"]["by_product"]
    ]
    shoot(owner, "statistics")

    # 고객: by name, by the last four digits; the phone masked as the API gives it.
    owner.locator("header nav").get_by_role("link", name="고객").click()
    assert owner.locator("#customers tbody tr").count() == len(names)
    first = names[0]
    owner.get_by_label("검색").fill(first["name"])
    owner.get_by_role("button", name="검색").click()
    owner.wait_for_url("**q=**")
    rows = owner.locator("#customers tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-customer") == first["customer_id"]
    assert rows.first.locator("td.phone").inner_text() == first["phone"]
    owner.goto(f"/p/{pid}/customers?q={first['last4']}")
    assert owner.locator(f"#customers tr[data-customer='{first['customer_id']}']").count() == 1
    owner.goto(f"/p/{pid}/customers?segment=recent")
    shoot(owner, "customers")
    exported = owner.request.get(f"/p/{pid}/customers?format=csv")
    assert len(exported.text().strip().splitlines()) == 1 + len(names)

    # A member: counts and rates, no money.
    member = site.page()
    log_in(member, s["member_login"])
    member.goto(f"/p/{pid}/statistics?from={stats['from']}&to={stats['to']}")
    assert member.locator("#stat-tiles li[data-key=orders_total] strong").inner_text() == str(stats["orders"]["total"])
    assert member.locator("#stat-tiles li[data-key=sales]").count() == 0

    shoot_on_phone(
        site,
        s["admin_login"],
        (
            ("statistics", f"/p/{pid}/statistics?from={stats['from']}&to={stats['to']}"),
            ("customers", f"/p/{pid}/customers"),
        ),
    )


def crawled_clean(page, start: str, must_reach: set[str], limit: int = 70) -> None:
    """The crawl of part one over the commerce pages: no 5xx, a label on every field, and the new pages reached."""
    statuses, unlabelled = crawl(page, start, limit=limit)
    assert {path: status for path, status in statuses.items() if status >= 500} == {}, statuses
    assert {path: fields for path, fields in unlabelled.items() if fields} == {}
    reached = {path.split("?")[0].rsplit("/", 1)[-1] for path in statuses}
    assert must_reach <= reached, (must_reach - reached, statuses)


def coupon_story(site: Site) -> None:
    """Coupons (issue #11): created with a code and a limit of one, redeemed by an order, shown used up;
    the limit raised; paused (an order with it is refused) and resumed. Then the crawl over every new page."""
    s = site.setting
    pid = s["partner_id"]
    owner = admin_on_dashboard(site)
    owner.locator("header nav").get_by_role("link", name="쿠폰").click()
    owner.get_by_label("쿠폰명").fill("첫 주문 할인")
    owner.get_by_label("할인 방식").select_option("fixed")
    owner.get_by_label("할인 금액 또는 %").fill("1000")
    owner.get_by_label("총 사용 한도").fill("1")
    owner.get_by_label("발급 방식").select_option("code")
    owner.get_by_label("쿠폰 코드").fill(s["code"])
    owner.get_by_role("button", name="만들기").click()
    owner.wait_for_url("**done=1")
    card = owner.locator("div[data-coupon]", has_text="첫 주문 할인")
    assert "사용중" in card.inner_text() and s["code"] in card.inner_text(), card.inner_text()
    assert card.locator("[data-key=redeemed]").inner_text() == "사용 0"
    assert card.locator("[data-key=remaining]").inner_text() == "남은 수량 1"

    # The same code again: the API refuses it, in its words, and the form keeps what was typed.
    owner.get_by_label("쿠폰명").fill("중복 코드")
    owner.get_by_label("할인 금액 또는 %").fill("500")
    owner.get_by_label("쿠폰 코드").fill(s["code"])
    owner.get_by_role("button", name="만들기").click()
    assert owner.locator(".error").inner_text().strip() != ""
    assert owner.get_by_label("쿠폰명").input_value() == "중복 코드"

    # A customer redeems it: used up.
    customer = site.pc.customer_session()
    placed = place_order(customer, pid, "takeout", [{"product_id": s["latte"], "quantity": 1}], coupon_code=s["code"])
    assert placed["discount_amount"] == 1000
    owner.goto(f"/p/{pid}/coupons")
    card = owner.locator("div[data-coupon]", has_text="첫 주문 할인")
    assert "소진" in card.locator(".state").inner_text()
    assert card.locator("[data-key=redeemed]").inner_text() == "사용 1"
    assert card.locator("[data-key=remaining]").inner_text() == "남은 수량 0"

    # The limit raised to three: active again, two left.
    card.get_by_label("총 사용 한도").fill("3")
    card.get_by_role("button", name="한도 저장").click()
    owner.wait_for_url("**done=1")
    card = owner.locator("div[data-coupon]", has_text="첫 주문 할인")
    assert "사용중" in card.locator(".state").inner_text()
    assert card.locator("[data-key=remaining]").inner_text() == "남은 수량 2"

    # Paused: an order with it is refused; resumed.
    card.get_by_role("button", name="일시중지").click()
    owner.wait_for_url("**done=1")
    card = owner.locator("div[data-coupon]", has_text="첫 주문 할인")
    assert "일시중지" in card.locator(".state").inner_text()
    refused = customer.client.post(
        "/v1/shop/orders",
        json={
            "partner_id": pid,
            "channel": "takeout",
            "lines": [{"product_id": s["latte"], "quantity": 1}],
            "coupon_code": s["code"],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "coupon_paused", refused.text
    shoot(owner, "coupons")
    card.get_by_role("button", name="재개").click()
    owner.wait_for_url("**done=1")
    assert "사용중" in owner.locator("div[data-coupon]", has_text="첫 주문 할인").locator(".state").inner_text()

    # The crawl over the cafe's new pages.
    crawled_clean(
        owner,
        f"/p/{pid}/orders",
        {"orders", "coupons", "customers", "statistics", "settlement", "sales", "ledger", "reviews"},
    )
    # English second: the member's switch in the header, on the new screens too.
    owner.goto(f"/p/{pid}/orders")
    owner.get_by_role("link", name="English").click()
    owner.wait_for_url(f"**/p/{pid}/orders")
    assert owner.locator("h1").inner_text().startswith("Orders")
    assert owner.locator("nav.tabs").first.inner_text().split() == ["Dine-in", "/", "takeout", "Delivery"]
    for path, title in (
        ("statistics", "Statistics"),
        ("coupons", "Coupons"),
        ("settlement", "Settlement"),
        ("customers", "Customers"),
    ):
        owner.goto(f"/p/{pid}/{path}")
        assert owner.locator("h1").inner_text().startswith(title), (path, owner.locator("h1").inner_text())
    owner.goto(f"/p/{pid}/coupons")
    assert owner.locator(".coupon-active").first.inner_text() == "Active"

    shoot_on_phone(site, s["admin_login"], (("coupons", f"/p/{pid}/coupons"),))


STORIES = {
    "coupon_story": coupon_story,
    "statistics_story": statistics_story,
    "cafe_story": cafe_story,
    "shop_story": shop_story,
    "money_story": money_story,
}


def main(name: str, setting: dict) -> None:
    from playwright.sync_api import sync_playwright

    from support.api import Platform

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=setting.get("chromium", CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            site = Site(
                setting["console_url"],
                Platform(setting["gateway_url"], {}, setting["dev_key_file"]),
                setting["operator_login"],
                browser,
                setting,
            )
            STORIES[name](site)
        finally:
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
