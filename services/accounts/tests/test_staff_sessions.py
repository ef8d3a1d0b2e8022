"""R-ACC-16: members change their password (the old one required), list their
sessions and end the others; a change ends every other session; an operator
forces a reset; sessions expire."""

import psycopg

from support.api import assert_error, expect


def test_R_ACC_16_password_change_sessions_and_operator_reset(platform):
    pc = platform
    member = pc.sign_up_member()
    phone, laptop = member.client, pc.client(pc.login(member.login_id, member.password))

    sessions = expect(phone.get("/v1/me/sessions"), 200)["items"]
    assert len(sessions) == 2 and [s["current"] for s in sessions].count(True) == 1
    laptop_id = next(s["session_id"] for s in expect(laptop.get("/v1/me/sessions"), 200)["items"] if s["current"])
    expect(phone.delete(f"/v1/me/sessions/{laptop_id}"), 204)  # end the other one
    assert_error(laptop.get("/v1/me"), 401, "invalid_token")
    assert_error(phone.delete(f"/v1/me/sessions/{laptop_id}"), 404)
    stranger = pc.sign_up_member()
    mine = expect(phone.get("/v1/me/sessions"), 200)["items"][0]["session_id"]
    assert_error(stranger.client.delete(f"/v1/me/sessions/{mine}"), 404)  # another member's session

    # A change needs the old password and ends every other session, not this one.
    tablet = pc.client(pc.login(member.login_id, member.password))
    error = assert_error(
        phone.post("/v1/me/password", json={"old_password": "wrong one!", "new_password": "a new long password"}), 401
    )
    assert error["code"] == "invalid_credentials"
    assert_error(phone.post("/v1/me/password", json={"old_password": member.password, "new_password": "short"}), 422)
    expect(
        phone.post("/v1/me/password", json={"old_password": member.password, "new_password": "a new long password"}),
        204,
    )
    assert_error(tablet.get("/v1/me"), 401)
    expect(phone.get("/v1/me"), 200)
    assert_error(
        pc.anonymous.post("/v1/sessions", json={"login_id": member.login_id, "password": member.password}), 401
    )
    assert pc.login(member.login_id, "a new long password")

    # An operator forces a reset: every session ends; the temporary password works once, to change it.
    reset = expect(pc.operator().client.post(f"/v1/ops/members/{member.member_id}/password-reset"), 200)
    assert reset["sessions_ended"] == 2 and len(reset["temporary_password"]) >= 8
    assert_error(phone.get("/v1/me"), 401)
    login = expect(
        pc.anonymous.post("/v1/sessions", json={"login_id": member.login_id, "password": reset["temporary_password"]}),
        201,
    )
    assert login["must_change_password"] is True
    assert_error(stranger.client.post(f"/v1/ops/members/{member.member_id}/password-reset"), 403)
    assert_error(pc.operator().client.post("/v1/ops/members/not-an-id/password-reset"), 404)

    # Sessions expire: one past its time opens nothing.
    with psycopg.connect(pc.containers["accounts"].config["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE member_id = %s", (member.member_id,)
        )
    assert_error(pc.client(login["token"]).get("/v1/me"), 401)
