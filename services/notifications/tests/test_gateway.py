"""Notifications through the gateway over HTTP, with the real accounts
service telling who the partner's staff are: inboxes per role and language,
invitations in the member's own inbox, webhooks, channel messages and
conversations, with the contract's errors."""

from chassis.testing import eventually
from support.api import assert_error, expect

from .support import FAST, event, publish, reservation


def test_inboxes_webhooks_channel_messages_and_conversations_through_the_gateway(partner_center, amqp_uri):
    pc = partner_center("notifications", "insights", service_config={"notifications": FAST})
    partner, other = pc.create_partner(category="salon"), pc.create_partner(category="cafe")
    pid = partner.partner_id
    master, member = pc.staff(partner, "master"), pc.staff(partner, "member")
    admin, customer, stranger = partner.admin, pc.customer_session(), pc.customer_session()

    # An invitation reaches the invitee's own inbox before they are staff (R-ACC-6 via staff.invited).
    invitation = eventually(
        lambda: [
            m for m in expect(member.client.get("/v1/me/notifications"), 200)["items"] if m["kind"] == "staff.invited"
        ],
        message="invitation message",
    )[0]
    assert invitation["title"] == "파트너 초대"
    assert [a["href"].rsplit("/", 1)[1] for a in invitation["actions"]] == ["accept", "decline"]

    # A new booking: every staff role and the customer, each in their inbox (R-RSV-7, R-NTF-1).
    booking = reservation(pid, customer.customer_id, invitation_id="inv-gw-1")
    publish(amqp_uri, [event("reservation.requested", booking)])
    inbox = lambda who, **kw: expect(who.client.get(f"{partner.path}/notifications", **kw), 200)["items"]  # noqa: E731
    for staff in (admin, master, member):
        eventually(
            lambda staff=staff: any(m["kind"] == "reservation.requested" for m in inbox(staff)),
            message="staff told of the booking",
        )
    english = inbox(member, headers={"Accept-Language": "en-US,en;q=0.9"})[0]
    assert english["title"] == "New booking request" and booking["reservation_number"] in english["body"]
    assert [(a["kind"], a["href"]) for a in english["actions"]][1] == (
        "confirm",
        f"{partner.path}/reservations/{booking['reservation_number']}/confirm",
    )
    assert inbox(member, params={"lang": "ko"})[0]["title"] == "새 예약 신청"
    verified = eventually(
        lambda: [m for m in inbox(admin) if m["kind"] == "partner.verified"], message="verification told to the admin"
    )
    assert verified[0]["title"] == "입점 심사 승인"
    theirs = eventually(
        lambda: expect(other.admin.client.get(f"/v1/partners/{other.partner_id}/notifications"), 200)["items"],
        message="the other partner's own messages",
    )
    assert {m["kind"] for m in theirs} == {"partner.verified"}  # none of this partner's
    assert_error(other.admin.client.get(f"{partner.path}/notifications"), 404, "partner_not_found")
    assert_error(pc.api_key(partner).get(f"{partner.path}/notifications"), 403, "member_inbox_only")
    # one pagination rule (chassis.paging, issue 15): a limit out of 1..100 is clamped, not refused
    assert len(inbox(member, params={"limit": "0"})) == 1
    assert len(inbox(member, params={"limit": "1000"})) >= 1
    error = assert_error(
        member.client.get(f"{partner.path}/notifications", params={"limit": "ten"}), 422, "validation_failed"
    )
    assert set(error["details"]["fields"]) == {"limit"}

    mine = eventually(lambda: expect(customer.client.get("/v1/shop/messages"), 200)["items"], message="customer told")
    assert mine[0]["title"] == "예약 신청 완료"
    read = expect(customer.client.post(f"/v1/shop/messages/{mine[0]['id']}/read"), 200)
    assert read["read_at"] is not None
    assert_error(stranger.client.post(f"/v1/shop/messages/{mine[0]['id']}/read"), 404, "message_not_found")
    assert expect(stranger.client.get("/v1/shop/messages"), 200)["items"] == []

    # Webhooks: managers only; the secret once; bad bodies named; another partner's is a 404.
    hook = expect(
        master.client.post(
            f"{partner.path}/webhooks", json={"url": "https://partner.example/hooks", "events": ["reservation.*"]}
        ),
        201,
    )
    assert hook["secret"].startswith("whsec_")
    listed = expect(admin.client.get(f"{partner.path}/webhooks"), 200)["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert_error(
        member.client.post(f"{partner.path}/webhooks", json={"url": "https://x.example", "events": ["*"]}),
        403,
        "forbidden",
    )
    error = assert_error(
        admin.client.post(
            f"{partner.path}/webhooks", json={"url": "javascript:alert(1)", "events": ["*"], "partner_id": "x"}
        ),
        422,
        "validation_failed",
    )
    assert {"url", "partner_id"} <= set(error["details"]["fields"])
    assert_error(
        other.admin.client.get(f"/v1/partners/{other.partner_id}/webhooks/{hook['id']}/deliveries"),
        404,
        "webhook_not_found",
    )
    assert expect(admin.client.get(f"{partner.path}/webhooks/{hook['id']}/deliveries"), 200)["next_cursor"] is None
    expect(admin.client.delete(f"{partner.path}/webhooks/{hook['id']}"), 204)
    assert_error(admin.client.get(f"{partner.path}/webhooks/{hook['id']}"), 404, "webhook_not_found")

    # Channel messages (R-NTF-3): the partner's customers only (insights learns them from the same events).
    sent = eventually(
        lambda: (
            (
                r := admin.client.post(
                    f"{partner.path}/channel-messages",
                    json={"audience": "all", "kind": "notice", "body": "오늘은 2시에 엽니다."},
                )
            ).status_code
            == 201
            and r.json()
        ),
        message="a channel message once insights knows the customer",
    )
    assert sent["recipient_count"] == 1
    assert expect(customer.client.get("/v1/shop/messages"), 200)["items"][0]["body"] == "오늘은 2시에 엽니다."
    assert_error(
        admin.client.post(
            f"{partner.path}/channel-messages",
            json={"audience": "customers", "customer_ids": [stranger.customer_id], "kind": "coupon", "body": "x"},
        ),
        422,
        "validation_failed",
    )
    assert_error(
        member.client.post(f"{partner.path}/channel-messages", json={"audience": "all", "kind": "notice", "body": "x"}),
        403,
        "forbidden",
    )

    # A conversation once the customer accepted the chat (R-RSV-11), used from both sides.
    conversation_id = "7d1c54b2-8a55-4c8e-9a43-3f1a1e0c0001"
    publish(amqp_uri, [event("reservation.chat_accepted", {**booking, "conversation_id": conversation_id})])
    eventually(
        lambda: expect(member.client.get(f"{partner.path}/conversations"), 200)["items"],
        message="conversation listed for the partner",
    )
    messages_path = f"{partner.path}/conversations/{conversation_id}/messages"
    expect(member.client.post(messages_path, json={"body": "안녕하세요, 예약 관련 안내드립니다."}), 201)
    mine = expect(customer.client.get("/v1/shop/conversations"), 200)["items"]
    assert [(c["id"], c["unread"]) for c in mine] == [(conversation_id, 1)]
    expect(
        customer.client.post(f"/v1/shop/conversations/{conversation_id}/messages", json={"body": "네, 감사합니다"}), 201
    )
    lines = expect(admin.client.get(messages_path), 200)["items"]
    assert [(m["author"], m["body"]) for m in lines] == [
        ("customer", "네, 감사합니다"),
        ("partner", "안녕하세요, 예약 관련 안내드립니다."),
    ]
    assert_error(
        stranger.client.get(f"/v1/shop/conversations/{conversation_id}/messages"), 404, "conversation_not_found"
    )
    assert_error(
        other.admin.client.get(f"/v1/partners/{other.partner_id}/conversations/{conversation_id}/messages"),
        404,
        "conversation_not_found",
    )
    assert_error(
        customer.client.post(f"/v1/shop/conversations/{conversation_id}/messages", json={"text": "x"}),
        422,
        "validation_failed",
    )


def test_a_webhook_to_a_non_public_address_is_refused_at_once_saying_what_to_do(partner_center):
    """Issue 17 item 10: refused when created (422 naming url), not accepted and then failing every delivery."""
    pc = partner_center("notifications")  # the default config: private addresses refused
    partner = pc.create_partner()
    for url in ("http://127.0.0.1:8080/hook", "https://10.1.2.3/hook", "http://localhost/hook"):
        error = assert_error(
            partner.admin.client.post(
                f"{partner.path}/webhooks", json={"url": url, "events": ["*"]}, headers={"Accept-Language": "en"}
            ),
            422,
            "webhook_url_not_public",
        )
        assert "url" in error["details"]["fields"] and "public https address" in error["message"]
