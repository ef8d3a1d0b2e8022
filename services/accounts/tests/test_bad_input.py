"""Bad input on every accounts route that takes a body: unknown fields, wrong
types and NUL characters are 422 naming the field; a 2 MiB body is 413, a
non-JSON one 415, broken JSON 400; SQL-looking text is stored literally.
Never a 5xx, and nothing half-written."""

import requests

from support.api import assert_error, expect

HOSTILE = "Robert'); DROP TABLE members;-- \" \\ %_ ${x} <script>"


def body_routes(pc, partner, member, place_id):
    """(client, method, path, a valid body) for every accounts route with a body."""
    admin, operator = partner.admin.client, pc.operator().client
    return [
        (
            pc.anonymous,
            "POST",
            "/v1/members",
            {
                "login_id": "valid.one",
                "password": "long password",
                "name": "n",
                "phone": "010-1234-5678",
                "agree_terms": True,
            },
        ),
        (pc.anonymous, "POST", "/v1/sessions", {"login_id": member.login_id, "password": member.password}),
        (pc.anonymous, "POST", "/v1/customer-sessions", {"id_token": pc.id_token("010-1234-5678")}),
        (member.client, "PATCH", "/v1/me", {"name": "n", "phone": "010-1234-5678"}),
        (member.client, "POST", "/v1/me/withdraw", {"confirm": True}),
        (
            member.client,
            "POST",
            "/v1/partners",
            {"name": "p", "category": "cafe", "business_number": "1234567890", "via_agency": False},
        ),
        (admin, "PATCH", partner.path, {"name": "p", "business_number": "1234567890"}),
        (admin, "POST", f"{partner.path}/invitations", {"login_id": member.login_id, "role": "member"}),
        (admin, "PATCH", f"{partner.path}/members/{partner.admin.member_id}", {"role": "admin"}),
        (admin, "POST", f"{partner.path}/places", {"name": "p", "address": "a", "phone": "02-555-1234", "info": "i"}),
        (
            admin,
            "PATCH",
            f"{partner.path}/places/{place_id}",
            {"name": "p", "address": "a", "phone": "02-555-1234", "info": "i"},
        ),
        (admin, "POST", f"{partner.path}/api-keys", {"name": "k", "scopes": ["orders:read"]}),
        (operator, "POST", "/v1/ops/notices", {"title": "t", "body": "b"}),
        (operator, "POST", f"/v1/ops/partners/{partner.partner_id}/verify", {"reason": "r"}),
        (operator, "POST", f"/v1/ops/partners/{partner.partner_id}/reject", {"reason": "r"}),
    ]


def wrong_type(value):
    return "yes" if isinstance(value, bool) else 12345


def test_bad_bodies_are_4xx_naming_the_field_on_every_route(platform):
    pc = platform
    partner = pc.create_partner()
    member = pc.sign_up_member()
    place = expect(partner.admin.client.post(f"{partner.path}/places", json={"name": "본점", "address": "서울"}), 201)
    before = expect(partner.admin.client.get(partner.path), 200)

    for client, method, path, valid in body_routes(pc, partner, member, place["place_id"]):
        where = f"{method} {path}"
        error = assert_error(client.request(method, path, json={**valid, "zzz_unknown": 1}), 422)
        assert "zzz_unknown" in error["details"]["fields"], where
        for field, value in valid.items():
            error = assert_error(client.request(method, path, json={**valid, field: wrong_type(value)}), 422)
            assert field in error["details"]["fields"], (where, field, error)
            if isinstance(value, str):
                error = assert_error(client.request(method, path, json={**valid, field: "a\u0000b"}), 422)
                assert field in error["details"]["fields"], (where, field, error)
        for not_an_object in ([valid], "text", 7):
            assert_error(client.request(method, path, json=not_an_object), 422)
        assert_error(
            client.request(method, path, data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}),
            413,
            "payload_too_large",
        )
        assert_error(
            client.request(method, path, data="name=x", headers={"Content-Type": "text/plain"}),
            415,
            "unsupported_media_type",
        )
        assert_error(
            client.request(method, path, data=b'{"name": ', headers={"Content-Type": "application/json"}),
            400,
            "malformed_request",
        )

    # Nothing was half-written: the member and partner are as they were.
    assert expect(member.client.get("/v1/me"), 200)["name"] == member.name
    assert expect(partner.admin.client.get(partner.path), 200) == before
    assert expect(partner.admin.client.get(f"{partner.path}/api-keys"), 200)["items"] == []


def test_sql_looking_text_is_stored_literally_and_odd_paths_are_404(platform):
    pc = platform
    member = pc.sign_up_member(name=HOSTILE[:50])
    assert expect(member.client.get("/v1/me"), 200)["name"] == HOSTILE[:50]
    partner = pc.create_partner(admin=member, name=HOSTILE)
    assert expect(member.client.get(partner.path), 200)["name"] == HOSTILE
    place = expect(
        member.client.post(f"{partner.path}/places", json={"name": HOSTILE, "address": HOSTILE, "info": HOSTILE}), 201
    )
    listed = expect(member.client.get(f"{partner.path}/places"), 200)["items"]
    assert listed == [place] and place["info"] == HOSTILE
    expect(pc.operator().client.post("/v1/ops/notices", json={"title": HOSTILE, "body": HOSTILE}), 201)
    assert [n["title"] for n in expect(member.client.get("/v1/notices", params={"q": "DROP TABLE"}), 200)["items"]] == [
        HOSTILE
    ]
    assert expect(member.client.get("/v1/notices", params={"q": "' OR ''='"}), 200)["items"] == []
    assert_error(
        pc.anonymous.post("/v1/sessions", json={"login_id": "' OR 1=1 --", "password": "' OR 1=1 --"}),
        401,
        "invalid_credentials",
    )

    for path in (
        f"/v1/partners/{requests.utils.quote(HOSTILE, safe='')}",
        "/v1/partners/1%20OR%201=1",
        f"{partner.path}/places/{requests.utils.quote(HOSTILE, safe='')}",
    ):
        response = member.client.get(path) if "places" not in path else member.client.patch(path, json={"name": "x"})
        assert response.status_code == 404, (path, response.text)
    for query in ({"limit": "-5"}, {"limit": "1e9"}, {"limit": HOSTILE}, {"cursor": HOSTILE}, {"q": "\u0000"}):
        response = member.client.get("/v1/notices", params=query)
        assert response.status_code in (200, 422), (query, response.text)
    assert len(expect(member.client.get("/v1/notices", params={"limit": "-5"}), 200)["items"]) == 1  # clamped to 1
