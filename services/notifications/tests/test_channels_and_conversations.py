"""Partner channel messages to their customers with a per-partner rate limit
(R-NTF-3); conversations opened by an accepted chat invitation, listed on
both sides (R-RSV-11); erasure pseudonymises what stored messages hold."""

import pytest

from chassis.errors import NotFound, RateLimited, ValidationFailed
from chassis.testing import eventually

from .support import WebhookReceiver, event, new_id, order, publish, query, reservation, scalar


def test_channel_messages_reach_the_chosen_audience_and_the_rate_limit_holds_under_concurrency(
    run_service, start_notifications, rpc, amqp_uri
):
    """R-NTF-3: coupons and on-site notices to the partner's own customers only
    (who they are, insights says: it reads the same events)."""
    partner_id, other_partner = new_id("p"), new_id("p")
    c1, c2, c3, c4, stranger = (new_id("c") for _ in range(5))
    run_service("insights", EVENT_RETRY_BASE_MS=100)
    db = start_notifications(partner_id, other_partner, CHANNEL_RATE_LIMIT=4, CHANNEL_RATE_WINDOW_S=3600)
    publish(
        amqp_uri,
        [
            event("reservation.confirmed", reservation(partner_id, c1, use_date="2025-06-01")),
            event("reservation.requested", reservation(partner_id, c2, use_date="2025-06-01")),
            event("reservation.confirmed", reservation(partner_id, c3, use_date="2025-06-02")),
            event("order.received", order(partner_id, c4)),
            event("order.received", order(other_partner, stranger)),
        ],
    )
    eventually(lambda: scalar(db, "SELECT count(*) FROM inbox") == 5, message="events handled")
    eventually(
        lambda: (
            [
                len(rpc.insights.channel_audience(p, {"audience": "all"})["customer_ids"])
                for p in (partner_id, other_partner)
            ]
            == [4, 1]
        ),
        message="insights knows the customers",
    )

    send = rpc.notifications.send_channel_message
    coupon = send(
        partner_id,
        f"{partner_id}-admin",
        {"audience": "all", "kind": "coupon", "body": "봄맞이 10% 할인", "coupon_code": "SPRING10"},
    )
    assert coupon["recipient_count"] == 4 and coupon["title"] == "쿠폰이 도착했습니다"
    inbox = rpc.notifications.list_customer_messages(c4)["items"]
    assert inbox[0]["kind"] == "channel.coupon" and "SPRING10" in inbox[0]["body"]
    assert rpc.notifications.list_customer_messages(c4, {"lang": "en"})["items"][0]["title"] == "You got a coupon"
    assert all(m["kind"] != "channel.coupon" for m in rpc.notifications.list_customer_messages(stranger)["items"])

    notice = send(
        partner_id,
        None,
        {
            "audience": "booked_on",
            "use_date": "2025-06-01",
            "kind": "notice",
            "title": "주차 안내",
            "body": "지하 2층 주차장을 이용해 주세요.",
        },
    )
    assert notice["recipient_count"] == 2
    noticed = {
        r["recipient_id"] for r in query(db, "SELECT recipient_id FROM messages WHERE source_id = %s", (notice["id"],))
    }
    assert noticed == {c1, c2}

    # Refused, naming the field, and nothing written: unknown customers, missing date, empty audience.
    for body, field in (
        ({"audience": "customers", "customer_ids": [c1, stranger], "kind": "notice", "body": "x"}, "customer_ids"),
        ({"audience": "booked_on", "kind": "notice", "body": "x"}, "use_date"),
        ({"audience": "booked_on", "use_date": "2030-01-01", "kind": "notice", "body": "x"}, "audience"),
        ({"audience": "all", "kind": "sms", "body": "x"}, "kind"),
        ({"audience": "all", "kind": "notice", "body": ""}, "body"),
    ):
        with pytest.raises(ValidationFailed) as failure:
            send(partner_id, None, body)
        assert field in failure.value.details["fields"], body
    assert scalar(db, "SELECT count(*) FROM channel_messages") == 2

    # Two sends left in the window; ten at once: exactly two go out, eight are told when to retry.
    pending = [
        send.call_async(
            partner_id, None, {"audience": "customers", "customer_ids": [c3], "kind": "notice", "body": f"#{i}"}
        )
        for i in range(10)
    ]
    outcomes = []
    for reply in pending:
        try:
            reply.result()
            outcomes.append("sent")
        except RateLimited as exc:
            outcomes.append(exc.details["retry_after_seconds"])
    assert outcomes.count("sent") == 2 and len(outcomes) == 10
    assert all(0 < wait <= 3600 for wait in outcomes if wait != "sent")
    assert scalar(db, "SELECT count(*) FROM channel_messages WHERE partner_id = %s", (partner_id,)) == 4
    # Another partner has its own budget.
    assert (
        rpc.notifications.send_channel_message(
            other_partner, None, {"audience": "all", "kind": "notice", "body": "영업시간 변경"}
        )["recipient_count"]
        == 1
    )
    listed = rpc.notifications.list_channel_messages(partner_id, {"limit": 3})
    assert len(listed["items"]) == 3 and listed["next_cursor"]


def test_accepted_chat_opens_a_conversation_both_sides_use_and_erasure_pseudonymises_it(
    start_notifications, rpc, amqp_uri
):
    """R-RSV-11: no conversation before acceptance; after it, staff and customer
    exchange messages, each side sees its unread count; other partners and
    customers get 404. Then customer.erased and member.withdrawn."""
    partner_id, customer_id = new_id("p"), new_id("c")
    db = start_notifications(partner_id)
    booking = reservation(partner_id, customer_id, invitation_id=new_id("inv"))
    with WebhookReceiver() as receiver:  # its delivery log holds the booking too, until erasure
        rpc.notifications.create_webhook(partner_id, {"url": receiver.url, "events": ["reservation.requested"]})
        publish(amqp_uri, [event("reservation.requested", booking), event("reservation.chat_requested", booking)])
        eventually(lambda: receiver.count() == 1, message="webhook delivered")
    assert receiver.bodies()[0]["data"]["customer_id"] == customer_id
    eventually(lambda: scalar(db, "SELECT count(*) FROM inbox") == 2, message="requested and chat request handled")
    assert rpc.notifications.list_conversations(partner_id)["items"] == []  # not before the customer accepts

    publish(amqp_uri, [event("reservation.chat_accepted", booking)])
    conversations = eventually(
        lambda: rpc.notifications.list_conversations(partner_id)["items"], message="conversation opened"
    )
    conversation_id = conversations[0]["id"]
    assert conversations[0]["reservation_number"] == booking["reservation_number"]
    again = rpc.notifications.open_conversation(
        {k: booking[k] for k in ("partner_id", "customer_id", "reservation_number", "invitation_id")}
    )
    assert again["id"] == conversation_id  # reservations calling directly lands on the same one
    accepted = [
        m
        for m in rpc.notifications.list_partner_notifications(partner_id, f"{partner_id}-member")["items"]
        if m["kind"] == "reservation.chat_accepted"
    ][0]
    assert accepted["actions"][0]["href"] == f"/v1/partners/{partner_id}/conversations/{conversation_id}/messages"

    staff_line = rpc.notifications.post_partner_conversation_message(
        partner_id, f"{partner_id}-master", conversation_id, {"body": "주차 가능 여부를 확인해 드릴게요."}
    )
    assert staff_line["author"] == "partner"
    mine = rpc.notifications.list_customer_conversations(customer_id)["items"]
    assert mine[0]["id"] == conversation_id and mine[0]["unread"] == 1 and "customer_id" not in mine[0]
    rpc.notifications.post_customer_conversation_message(
        customer_id, conversation_id, {"body": "제 번호는 010-1234-5678"}
    )
    seen_by_customer = rpc.notifications.customer_conversation_messages(customer_id, conversation_id)["items"]
    assert [m["author"] for m in seen_by_customer] == ["customer", "partner"]
    assert "member_id" not in seen_by_customer[1]  # which colleague wrote is the partner's business
    assert rpc.notifications.list_conversations(partner_id)["items"][0]["unread"] == 1
    seen_by_staff = rpc.notifications.partner_conversation_messages(partner_id, conversation_id)["items"]
    assert seen_by_staff[1]["member_id"] == f"{partner_id}-master"
    assert rpc.notifications.list_conversations(partner_id)["items"][0]["unread"] == 0  # read by listing
    eventually(
        lambda: (
            scalar(
                db,
                "SELECT count(*) FROM deliveries WHERE source_type = 'conversation.message' AND status = 'delivered'",
            )
            == 1
        ),
        message="customer pushed about the reply",
    )

    other_partner, other_customer = new_id("p"), new_id("c")
    with pytest.raises(NotFound):
        rpc.notifications.partner_conversation_messages(other_partner, conversation_id)
    with pytest.raises(NotFound):
        rpc.notifications.post_customer_conversation_message(other_customer, conversation_id, {"body": "hi"})
    with pytest.raises(ValidationFailed):
        rpc.notifications.post_customer_conversation_message(customer_id, conversation_id, {"body": "a\x00b"})

    # Erasure of the customer: nothing of them is left in messages, deliveries or the conversation.
    pseudonym = f"customer-{new_id('x')}"
    publish(amqp_uri, [event("customer.erased", {"customer_id": customer_id, "pseudonym": pseudonym})])
    eventually(lambda: rpc.notifications.list_customer_messages(customer_id)["items"] == [], message="erased")
    dump = (
        str(query(db, "SELECT * FROM messages"))
        + str(query(db, "SELECT * FROM deliveries"))
        + str(query(db, "SELECT * FROM conversations"))
        + str(query(db, "SELECT * FROM conversation_messages"))
    )
    assert customer_id not in dump and "김*온" not in dump and "010-1234-5678" not in dump
    assert len(rpc.notifications.list_customer_messages(pseudonym)["items"]) == 2  # kept, under the pseudonym
    staff_view = rpc.notifications.partner_conversation_messages(partner_id, conversation_id)["items"]
    assert staff_view[0]["redacted"] and staff_view[0]["body"] == "" and not staff_view[1]["redacted"]
    request = [
        m
        for m in rpc.notifications.list_partner_notifications(partner_id, f"{partner_id}-admin")["items"]
        if m["kind"] == "reservation.requested"
    ][0]
    assert booking["reservation_number"] in request["body"] and "김*온" not in request["body"]

    # Withdrawal of a staff member: their messages and chat lines keep only the pseudonym.
    member_pseudonym = f"member-{new_id('x')}"
    publish(amqp_uri, [event("member.withdrawn", {"member_id": f"{partner_id}-master", "pseudonym": member_pseudonym})])
    eventually(
        lambda: rpc.notifications.list_partner_notifications(partner_id, f"{partner_id}-master")["items"] == [],
        message="withdrawn",
    )
    assert scalar(db, "SELECT count(*) FROM messages WHERE recipient_id = %s", (member_pseudonym,)) == 2
    assert (
        rpc.notifications.partner_conversation_messages(partner_id, conversation_id)["items"][1]["member_id"]
        == member_pseudonym
    )
