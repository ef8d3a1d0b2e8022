"""Issue 17 item 10: errors name the object and the next step, in Korean by
default and in English by Accept-Language; the code never changes."""

from support.api import assert_error, expect

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def test_errors_say_what_to_do_next_in_korean_or_english(platform):
    pc = platform
    partner = pc.create_partner(name="다온 헤어")
    admin = partner.admin

    korean = assert_error(admin.client.post("/v1/me/withdraw", json={"confirm": True}), 409, "last_admin")
    assert "다온 헤어" in korean["message"] and "다른 관리자를 초대" in korean["message"]
    english = assert_error(
        admin.client.post("/v1/me/withdraw", json={"confirm": True}, headers=ENGLISH), 409, "last_admin"
    )
    assert english["message"] == (
        "You are the only admin of 다온 헤어: invite another admin or close the partner, then withdraw."
    )
    assert english["details"] == korean["details"]

    # R-ACC-6: a declined invitation is not "no such invitation": it says it was declined and what to do.
    bob = pc.sign_up_member()
    invitation = pc.invite(partner, bob, "member")
    expect(bob.client.post(f"/v1/invitations/{invitation['invitation_id']}/decline"), 200)
    error = assert_error(
        bob.client.post(f"/v1/invitations/{invitation['invitation_id']}/accept", headers=ENGLISH),
        409,
        "invitation_not_pending",
    )
    assert "declined" in error["message"] and "new one" in error["message"]
    assert (
        "거절"
        in assert_error(
            bob.client.post(f"/v1/invitations/{invitation['invitation_id']}/accept"), 409, "invitation_not_pending"
        )["message"]
    )

    # Validation names the fields in either language; the gateway's own errors are rendered too.
    response = pc.anonymous.post("/v1/members", json={"login_id": "x"})
    assert "agree_terms" in assert_error(response, 422)["message"] and response.headers["Content-Language"] == "ko"
    assert "/docs" in assert_error(pc.anonymous.get("/v1/nowhere", headers=ENGLISH), 404, "route_not_found")["message"]
