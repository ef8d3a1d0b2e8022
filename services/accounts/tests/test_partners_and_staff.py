"""Partners, onboarding, staff and roles through the gateway (R-ACC-6..9)."""

from support.api import assert_error, expect

PARTNER = {"name": "다온 헤어", "category": "salon", "business_number": "123-45-67890"}


def test_onboarding_verification_and_partner_edits(platform):
    """R-ACC-8: the creator is admin of a pending partner; operators verify or
    reject; R-ACC-9: lodging only through an agency."""
    pc = platform
    owner = pc.sign_up_member()
    operator = pc.operator().client

    created = expect(owner.client.post("/v1/partners", json=PARTNER), 201)
    assert created["status"] == "pending_verification" and created["role"] == "admin"
    path = f"/v1/partners/{created['partner_id']}"
    assert expect(owner.client.get("/v1/me/partners"), 200)["landing"] == {
        "screen": "dashboard",
        "partner_id": created["partner_id"],
    }  # R-ACC-7: an admin lands on the dashboard

    for mass_assigned in ({"status": "verified"}, {"partner_id": created["partner_id"]}, {"role": "admin"}):
        error = assert_error(owner.client.post("/v1/partners", json={**PARTNER, **mass_assigned}), 422)
        assert set(error["details"]["fields"]) == set(mass_assigned)
    lodging = {**PARTNER, "category": "lodging"}
    error = assert_error(owner.client.post("/v1/partners", json=lodging), 422, "agency_required")
    assert "via_agency" in error["details"]["fields"]
    assert expect(owner.client.post("/v1/partners", json={**lodging, "via_agency": True}), 201)["via_agency"] is True
    assert_error(owner.client.post("/v1/partners", json={**PARTNER, "category": "spaceship"}), 422)

    # Only operators review; a member calling the ops route is refused.
    assert_error(owner.client.post(f"/v1/ops/partners/{created['partner_id']}/verify", json={}), 403)
    assert_error(operator.post(f"/v1/ops/partners/{created['partner_id']}/reject", json={}), 422)
    rejected = expect(
        operator.post(f"/v1/ops/partners/{created['partner_id']}/reject", json={"reason": "사업자등록번호 불일치"}), 200
    )
    assert rejected["status"] == "rejected" and rejected["status_reason"] == "사업자등록번호 불일치"
    assert_error(
        operator.post(f"/v1/ops/partners/{created['partner_id']}/reject", json={"reason": "again"}),
        409,
        "invalid_state",
    )
    edited = expect(owner.client.patch(path, json={"business_number": "2234567890"}), 200)
    assert edited["business_number"] == "2234567890"
    verified = expect(operator.post(f"/v1/ops/partners/{created['partner_id']}/verify", json={}), 200)
    assert verified["status"] == "verified" and verified["verified_at"]
    assert_error(operator.post(f"/v1/ops/partners/{created['partner_id']}/verify", json={}), 409, "invalid_state")
    assert_error(
        operator.post("/v1/ops/partners/00000000-0000-4000-8000-000000000000/verify", json={}), 404, "partner_not_found"
    )
    assert_error(operator.post("/v1/ops/partners/not-a-uuid/verify", json={}), 404, "partner_not_found")

    # After verification the business number is locked; the name is not.
    assert_error(owner.client.patch(path, json={"business_number": "3334567890"}), 409, "field_locked")
    assert expect(owner.client.patch(path, json={"name": "다온 헤어 2호점"}), 200)["name"] == "다온 헤어 2호점"
    shown = expect(owner.client.get(path), 200)
    assert shown["status"] == "verified" and shown["name"] == "다온 헤어 2호점" and shown["role"] == "admin"


def test_invitations_roles_and_partner_lists(platform):
    """R-ACC-6 invitations with accept/decline; R-ACC-7 partner list with role
    and status; admins change any role, masters only masters and members;
    the last admin cannot be demoted or removed (R-ACC-4)."""
    pc = platform
    partner = pc.create_partner()
    admin = partner.admin
    alice, bob, carol = pc.sign_up_member(), pc.sign_up_member(), pc.sign_up_member()

    invitation = pc.invite(partner, alice, "master")
    assert invitation["status"] == "pending" and invitation["role"] == "master"
    assert_error(
        admin.client.post(f"{partner.path}/invitations", json={"login_id": alice.login_id.upper(), "role": "member"}),
        409,
        "already_invited",
    )
    assert_error(
        admin.client.post(f"{partner.path}/invitations", json={"login_id": "nobody-here", "role": "member"}),
        404,
        "member_not_found",
    )
    assert_error(
        admin.client.post(f"{partner.path}/invitations", json={"login_id": admin.login_id, "role": "member"}),
        409,
        "already_member",
    )
    assert_error(
        admin.client.post(f"{partner.path}/invitations", json={"login_id": bob.login_id, "role": "owner"}), 422
    )
    pending = expect(alice.client.get("/v1/me/invitations"), 200)["items"]
    assert [(i["invitation_id"], i["partner_name"], i["role"]) for i in pending] == [
        (invitation["invitation_id"], partner.name, "master")
    ]
    # Another member cannot act on Alice's invitation: it does not exist for them.
    assert_error(bob.client.post(f"/v1/invitations/{invitation['invitation_id']}/accept"), 404, "invitation_not_found")
    accepted = expect(alice.client.post(f"/v1/invitations/{invitation['invitation_id']}/accept"), 200)
    assert accepted["role"] == "master" and accepted["partner_id"] == partner.partner_id
    assert_error(
        alice.client.post(f"/v1/invitations/{invitation['invitation_id']}/accept"), 409, "invitation_not_pending"
    )
    mine = expect(alice.client.get("/v1/me/partners"), 200)
    assert mine["items"] == [
        {
            "partner_id": partner.partner_id,
            "name": partner.name,
            "category": "salon",
            "role": "master",
            "status": "verified",
        }
    ]
    assert mine["landing"]["screen"] == "partner_list"  # R-ACC-7: masters pick from the list

    declined = pc.invite(partner, bob, "member")
    assert expect(bob.client.post(f"/v1/invitations/{declined['invitation_id']}/decline"), 200)["status"] == "declined"
    assert expect(bob.client.get("/v1/me/partners"), 200)["items"] == []
    assert expect(bob.client.get("/v1/me/invitations"), 200)["items"] == []

    # A master invites members and masters, never admins.
    assert_error(
        alice.client.post(f"{partner.path}/invitations", json={"login_id": carol.login_id, "role": "admin"}),
        403,
        "role_not_allowed",
    )
    pc.accept(carol, pc.invite(partner, carol, "member", by=alice)["invitation_id"])
    # A member manages no staff (the gateway's role table).
    assert_error(
        carol.client.post(f"{partner.path}/invitations", json={"login_id": bob.login_id, "role": "member"}),
        403,
        "forbidden",
    )

    # Staff list: phones masked except the viewer's own.
    staff = {s["member_id"]: s for s in expect(carol.client.get(f"{partner.path}/members"), 200)["items"]}
    assert {s["role"] for s in staff.values()} == {"admin", "master", "member"}
    assert staff[carol.member_id]["phone"] == carol.phone
    assert staff[admin.member_id]["phone"] == "010-****-" + admin.phone[-4:]

    # Role changes: masters only between master and member; admins anything.
    members_path = f"{partner.path}/members"
    assert (
        expect(alice.client.patch(f"{members_path}/{carol.member_id}", json={"role": "master"}), 200)["role"]
        == "master"
    )
    assert_error(
        alice.client.patch(f"{members_path}/{carol.member_id}", json={"role": "admin"}), 403, "role_not_allowed"
    )
    assert_error(
        alice.client.patch(f"{members_path}/{admin.member_id}", json={"role": "member"}), 403, "role_not_allowed"
    )
    assert_error(admin.client.patch(f"{members_path}/{admin.member_id}", json={"role": "master"}), 409, "last_admin")
    assert_error(admin.client.delete(f"{members_path}/{admin.member_id}"), 409, "last_admin")
    assert_error(
        admin.client.patch(f"{members_path}/{bob.member_id}", json={"role": "master"}), 404, "member_not_found"
    )
    assert (
        expect(admin.client.patch(f"{members_path}/{alice.member_id}", json={"role": "admin"}), 200)["role"] == "admin"
    )
    # With a second admin, the first may step down.
    assert (
        expect(admin.client.patch(f"{members_path}/{admin.member_id}", json={"role": "member"}), 200)["role"]
        == "member"
    )
    assert expect(alice.client.delete(f"{members_path}/{carol.member_id}"), 204) is None
    assert_error(carol.client.get(partner.path), 404, "partner_not_found")  # removed staff no longer see it
    assert expect(carol.client.get("/v1/me/partners"), 200)["items"] == []


def test_another_partners_objects_are_not_found(platform):
    """BOLA: the admin of partner B, or B's API key, gets 404 (never 403, never
    data) for partner A's paths, and A's object ids under B's own path."""
    pc = platform
    a, b = pc.create_partner(), pc.create_partner()
    place = expect(a.admin.client.post(f"{a.path}/places", json={"name": "본점", "address": "서울 중구 1"}), 201)
    key_a = expect(a.admin.client.post(f"{a.path}/api-keys", json={"name": "pos", "scopes": ["orders:write"]}), 201)
    a_member = pc.staff(a, "member")
    b_key = pc.api_key(b)

    for intruder in (b.admin.client, b_key):
        for method, path, body in [
            ("GET", a.path, None),
            ("PATCH", a.path, {"name": "mine"}),
            ("GET", f"{a.path}/members", None),
            ("GET", f"{a.path}/places", None),
            ("PATCH", f"{a.path}/places/{place['place_id']}", {"name": "mine"}),
            ("GET", f"{a.path}/dashboard", None),
            ("GET", f"{a.path}/api-keys", None),
            ("POST", f"{a.path}/invitations", {"login_id": "x", "role": "member"}),
            ("PATCH", f"{a.path}/members/{a_member.member_id}", {"role": "master"}),
            ("DELETE", f"{a.path}/members/{a_member.member_id}", None),
            ("DELETE", f"{a.path}/api-keys/{key_a['api_key_id']}", None),
        ]:
            response = intruder.request(method, path, json=body)
            error = assert_error(response, 404)
            assert a.name not in response.text and place["place_id"] not in error["message"]
    # A's ids under B's own path are B's unknown objects.
    assert_error(
        b.admin.client.patch(f"{b.path}/places/{place['place_id']}", json={"name": "x"}), 404, "place_not_found"
    )
    assert_error(b.admin.client.delete(f"{b.path}/members/{a_member.member_id}"), 404, "member_not_found")
    assert_error(b.admin.client.delete(f"{b.path}/api-keys/{key_a['api_key_id']}"), 404, "api_key_not_found")
    # Nothing of A changed.
    assert expect(a.admin.client.get(a.path), 200)["name"] == a.name
    assert expect(a.admin.client.get(f"{a.path}/places"), 200)["items"][0]["name"] == "본점"
    assert pc.client(key_a["key"]).get(a.path).status_code == 200
