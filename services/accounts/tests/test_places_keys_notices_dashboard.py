"""Places (R-ACC-9), partner API keys, notices (R-ACC-10), customer sessions
and the dashboard (R-ACC-11) through the gateway."""

import hashlib

import psycopg
from nameko.containers import ServiceContainer
from nameko.rpc import rpc

from support.api import assert_error, expect


def test_places_and_api_keys(platform):
    """Places: managers add and edit, every staff role reads. API keys are shown
    once, act as master of their own partner only, and stop working when revoked."""
    pc = platform
    partner = pc.create_partner()
    admin, member = partner.admin, pc.staff(partner, "member")
    places = f"{partner.path}/places"

    place = expect(
        admin.client.post(
            places,
            json={
                "name": "강남점",
                "address": "서울 강남구 테헤란로 1",
                "phone": "02-555-1234",
                "info": "주차 2시간 무료",
            },
        ),
        201,
    )
    assert place["phone"] == "02-555-1234" and place["info"] == "주차 2시간 무료"
    assert_error(admin.client.post(places, json={"name": "x"}), 422)
    assert_error(member.client.post(places, json={"name": "x", "address": "y"}), 403, "forbidden")
    edited = expect(admin.client.patch(f"{places}/{place['place_id']}", json={"info": None, "name": "강남 본점"}), 200)
    assert edited["name"] == "강남 본점" and edited["info"] is None and edited["address"] == place["address"]
    assert_error(admin.client.patch(f"{places}/not-a-uuid", json={"name": "x"}), 404, "place_not_found")
    assert [p["name"] for p in expect(member.client.get(places), 200)["items"]] == ["강남 본점"]

    created = expect(
        admin.client.post(f"{partner.path}/api-keys", json={"name": "예약 연동", "scopes": ["products:write"]}), 201
    )
    key = created["key"]
    assert key.startswith("pck_") and created["key_prefix"] == key[:10]
    listed = expect(admin.client.get(f"{partner.path}/api-keys"), 200)["items"]
    assert [k["api_key_id"] for k in listed] == [created["api_key_id"]] and key not in str(listed)
    assert_error(member.client.post(f"{partner.path}/api-keys", json={"name": "x", "scopes": ["orders:read"]}), 403)

    with psycopg.connect(pc.containers["accounts"].config["DATABASE_URL"]) as conn:
        stored = conn.execute("SELECT key_hash, key_prefix, name FROM api_keys").fetchall()
    assert stored == [(hashlib.sha256(key.encode()).digest(), key[:10], "예약 연동")]  # the key itself is not kept

    system = pc.client(key)
    assert expect(system.get(partner.path), 200)["role"] == "master"
    assert expect(system.post(places, json={"name": "홍대점", "address": "서울 마포구"}), 201)["name"] == "홍대점"
    assert_error(
        system.post(f"{partner.path}/api-keys", json={"name": "more", "scopes": ["orders:read"]}),
        403,
        "api_key_not_allowed",
    )
    assert_error(
        system.post(f"{partner.path}/invitations", json={"login_id": admin.login_id, "role": "admin"}),
        403,
        "api_key_not_allowed",
    )
    assert_error(system.get("/v1/me"), 403)  # a key is no member
    assert_error(system.delete("/v1/sessions/current"), 403, "not_a_session")

    assert expect(admin.client.delete(f"{partner.path}/api-keys/{created['api_key_id']}"), 204) is None
    assert_error(system.get(partner.path), 401, "invalid_token")
    assert_error(admin.client.delete(f"{partner.path}/api-keys/{created['api_key_id']}"), 404, "api_key_not_found")


def test_notices_customers_and_lists(platform):
    """R-ACC-10: operators publish, members list and search by title (literally);
    lists page with limit (clamped) and cursor; customers get a token bound to
    one customer id per phone."""
    pc = platform
    operator, member = pc.operator().client, pc.sign_up_member()
    titles = [f"공지 {i}: 정산 일정 안내" for i in range(5)] + ["100% 환불 정책 변경", "예약_취소 규정"]
    for title in titles:
        expect(operator.post("/v1/ops/notices", json={"title": title, "body": "본문"}), 201)
    assert_error(member.client.post("/v1/ops/notices", json={"title": "x", "body": "y"}), 403)
    assert_error(operator.post("/v1/ops/notices", json={"title": "x"}), 422)

    first = expect(member.client.get("/v1/notices", params={"limit": 3}), 200)
    assert [n["title"] for n in first["items"]] == list(reversed(titles))[:3]  # newest first
    rest = expect(member.client.get("/v1/notices", params={"limit": 3, "cursor": first["next_cursor"]}), 200)
    last = expect(member.client.get("/v1/notices", params={"limit": 3, "cursor": rest["next_cursor"]}), 200)
    seen = [n["title"] for page in (first, rest, last) for n in page["items"]]
    assert seen == list(reversed(titles)) and last["next_cursor"] is None
    assert len(expect(member.client.get("/v1/notices", params={"limit": 1000}), 200)["items"]) == 7  # clamped to 100
    assert_error(member.client.get("/v1/notices", params={"limit": "ten"}), 422)
    assert_error(member.client.get("/v1/notices", params={"cursor": "garbage"}), 422)

    def search(q):
        return [n["title"] for n in expect(member.client.get("/v1/notices", params={"q": q}), 200)["items"]]

    assert search("정산") == list(reversed(titles[:5]))
    assert search("안내 정산") == list(reversed(titles[:5]))  # issue 17 item 8: words in any order
    assert search("환불 변경") == ["100% 환불 정책 변경"]
    assert search("100%") == ["100% 환불 정책 변경"]  # % is a character, not a wildcard
    assert search("예약_") == ["예약_취소 규정"]
    assert search("%") == ["100% 환불 정책 변경"]
    assert search("' OR 1=1 --") == []

    customer = pc.customer_session(name="이손님", phone="010-2222-3333", subject="messenger-user-7")
    again = pc.customer_session(name="이손님", phone="010-2222-3333", subject="messenger-user-7")
    assert again.customer_id == customer.customer_id and again.token != customer.token
    assert customer.token.startswith("pcc_")
    customer_client = customer.client
    assert_error(customer_client.get("/v1/me"), 403)
    assert_error(customer_client.get("/v1/notices"), 403)
    assert_error(pc.anonymous.post("/v1/customer-sessions", json={"id_token": 7}), 422)
    assert expect(customer_client.delete("/v1/sessions/current"), 204) is None
    assert_error(customer_client.delete("/v1/sessions/current"), 401)


class FakeReservations:
    """Stands in for the reservations service's side of the dashboard convention."""

    name = "reservations"

    @rpc
    def dashboard_summary(self, partner_id, role):
        return {"counts": {"requested": 2, "confirmed": 5}, "today": {"bookings": 3}, "asked_for": [partner_id, role]}


def test_dashboard_by_category_and_role(platform, amqp_uri):
    """R-ACC-11: booking partners see reservations, cafes orders; only admin and
    master see the sales summary; a missing service leaves an empty section."""
    pc = platform
    fake = ServiceContainer(FakeReservations, {"AMQP_URI": amqp_uri})
    fake.start()
    try:
        salon = pc.create_partner(category="salon")
        operator = pc.operator().client
        important = expect(
            operator.post(
                "/v1/ops/notices",
                json={"title": "개인정보 처리방침 변경", "body": ".", "category": "policy", "important": True},
            ),
            201,
        )
        assert (important["category"], important["important"]) == ("policy", True)
        assert_error(operator.post("/v1/ops/notices", json={"title": "x", "body": ".", "category": "gossip"}), 422)
        for title in ("운영팁: 리뷰 답글", "설 연휴 정산 안내", "신규 기능 안내"):
            expect(operator.post("/v1/ops/notices", json={"title": title, "body": ".", "category": "tip"}), 201)
        board = expect(salon.admin.client.get(f"{salon.path}/dashboard"), 200)
        # Issue 17 item 13: the important notice first, then the newest; a help page is linked.
        assert [n["title"] for n in board["notices"]] == [
            "개인정보 처리방침 변경",
            "신규 기능 안내",
            "설 연휴 정산 안내",
        ]
        assert board["help"]["url"].startswith("https://") and board["help"]["label"]["ko"] == "도움말"
        assert [n["title"] for n in expect(salon.admin.client.get("/v1/notices?category=policy"), 200)["items"]] == [
            "개인정보 처리방침 변경"
        ]
        assert board["partner"]["partner_id"] == salon.partner_id and board["role"] == "admin"
        assert board["sections"]["reservations"] == {
            "counts": {"requested": 2, "confirmed": 5},
            "today": {"bookings": 3},
            "asked_for": [salon.partner_id, "admin"],
        }
        assert set(board["sections"]) == {"catalog", "reservations", "insights", "settlement"}
        assert board["unavailable"] == ["catalog", "insights", "settlement"]
        assert board["sections"]["catalog"] == {"counts": {}}

        member = pc.staff(salon, "member")
        board = expect(member.client.get(f"{salon.path}/dashboard"), 200)
        assert board["role"] == "member" and set(board["sections"]) == {"catalog", "reservations", "insights"}
        assert board["sections"]["reservations"]["asked_for"] == [salon.partner_id, "member"]

        cafe = pc.create_partner(category="cafe")
        board = expect(cafe.admin.client.get(f"{cafe.path}/dashboard"), 200)
        assert set(board["sections"]) == {"catalog", "orders", "insights", "settlement"}
        assert board["unavailable"] == ["catalog", "insights", "orders", "settlement"]
    finally:
        fake.stop()
