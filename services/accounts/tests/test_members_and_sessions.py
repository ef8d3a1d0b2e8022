"""Members and sessions through the gateway (R-ACC-1, R-ACC-2; api.md, Accounts)."""
from support.api import assert_error, expect


def test_sign_up_login_profile_and_logout(platform):
    """R-ACC-1 sign-up needs agree_terms: true; login ids are unique
    case-insensitively; the owner sees their own phone whole; logout ends the token."""
    pc = platform
    anonymous = pc.anonymous
    body = {"login_id": "Daon.Kim", "password": "long enough pw", "name": "김다온",
            "phone": "010-1234-5678", "agree_terms": True}

    refused = assert_error(anonymous.post("/v1/members", json={**body, "agree_terms": False}), 422,
                           "validation_failed")
    assert "agree_terms" in refused["details"]["fields"]
    assert_error(anonymous.post("/v1/sessions", json={"login_id": "Daon.Kim", "password": "long enough pw"}),
                 401, "invalid_credentials")  # nothing was created without the agreement

    member = expect(anonymous.post("/v1/members", json=body), 201)
    assert member["login_id"] == "Daon.Kim" and member["phone"] == "010-1234-5678" and "password" not in str(member)
    assert_error(anonymous.post("/v1/members", json={**body, "login_id": "daon.KIM"}), 409, "login_id_taken")

    assert_error(anonymous.post("/v1/sessions", json={"login_id": "daon.kim", "password": "wrong password"}),
                 401, "invalid_credentials")
    assert_error(anonymous.post("/v1/sessions", json={"login_id": "nobody", "password": "long enough pw"}),
                 401, "invalid_credentials")
    session = expect(anonymous.post("/v1/sessions", json={"login_id": "daon.kim", "password": "long enough pw"}),
                     201)
    assert session["token"] and session["expires_at"]
    me = pc.client(session["token"])
    assert expect(me.get("/v1/me"), 200) == member

    edited = expect(me.patch("/v1/me", json={"name": "김다온2", "phone": "010 9999 8888"}), 200)
    assert edited["name"] == "김다온2" and edited["phone"] == "010-9999-8888"
    assert_error(me.patch("/v1/me", json={"login_id": "other"}), 422, "validation_failed")
    assert_error(me.patch("/v1/me", json={}), 422, "validation_failed")

    assert expect(me.delete("/v1/sessions/current"), 204) is None
    assert_error(me.get("/v1/me"), 401, "invalid_token")
    assert_error(me.delete("/v1/sessions/current"), 401)
    assert_error(anonymous.get("/v1/me"), 401, "unauthenticated")
    assert_error(pc.client("pcs_forged").get("/v1/me"), 401, "invalid_token")
