"""Each consumed event kind produces the expected messages for each recipient,
in Korean and English (R-NTF-1, R-NTF-2), once, even when delivered twice;
staff are asked of accounts, and a missing accounts RPC retries the event."""

import pytest

from chassis.contracts import Subscription
from chassis.testing import eventually
from chassis.tests.broker import queue_depths
from chassis.topology import dead_letter_queue, retry_queue

from .support import FAST, event, new_id, order, parked, publish, query, queues_settled, reservation, scalar

ALL_STAFF = ("admin", "master", "member")
MANAGERS = ("admin", "master")

# event kind -> (staff roles that receive it, customer recipients, Korean title, English title).
# Written out by hand from R-NTF-1, R-RSV-6/7/10/11, R-ORD-1..9 and the roles table.
EXPECTED = {
    "reservation.requested": (ALL_STAFF, ("customer",), "새 예약 신청", "New booking request"),
    "reservation.confirmed": (ALL_STAFF, ("customer",), "새 예약 (자동 확정)", "New booking (confirmed automatically)"),
    "reservation.rejected": ((), ("customer",), "예약 거절", "Booking rejected"),
    "reservation.cancelled": (ALL_STAFF, ("customer",), "예약 취소", "Booking cancelled"),
    "reservation.completed": ((), ("customer",), "이용 완료", "Visit completed"),
    "reservation.no_show": ((), ("customer",), "노쇼 처리 안내", "Marked as no-show"),
    "reservation.date_changed": (ALL_STAFF, ("customer",), "예약 일정 변경", "Booking date changed"),
    "reservation.transferred": ((), ("customer", "friend"), "티켓 양도 완료", "Ticket handed over"),
    "reservation.chat_requested": ((), ("customer",), "채팅 요청", "Chat request"),
    "reservation.chat_accepted": (ALL_STAFF, (), "채팅 수락", "Chat accepted"),
    "reservation.chat_declined": (ALL_STAFF, (), "채팅 거절", "Chat declined"),
    "reservation.expired": (ALL_STAFF, ("customer",), "확정 대기 만료", "Booking request expired"),
    "reservation.review_posted": (ALL_STAFF, (), "새 후기", "New review"),
    "reservation.review_replied": ((), ("customer",), "후기 답글", "Reply to your review"),
    "order.received": (ALL_STAFF, ("customer",), "새 주문 (포장)", "New order (takeout)"),
    "order.preparing": ((), ("customer",), "주문 준비 중", "Order being prepared"),
    "order.completed": ((), ("customer",), "주문 완료", "Order completed"),
    "order.cancelled": (ALL_STAFF, ("customer",), "주문 취소", "Order cancelled"),
    "order.shipment_prepared": ((), ("customer",), "배송 준비 중", "Preparing shipment"),
    "order.shipped": ((), ("customer",), "배송 시작", "Shipped"),
    "order.shipment_corrected": ((), ("customer",), "송장 정보 변경", "Tracking details corrected"),
    "order.delivered": ((), ("customer",), "배송 완료", "Delivered"),
    "order.refund_requested": (ALL_STAFF, ("customer",), "환불 요청", "Refund requested"),
    "order.refund_approved": ((), ("customer",), "환불 승인", "Refund approved"),
    "order.refund_rejected": ((), ("customer",), "환불 거절", "Refund rejected"),
    "order.exchange_requested": (ALL_STAFF, ("customer",), "교환 요청", "Exchange requested"),
    "order.exchange_approved": ((), ("customer",), "교환 승인", "Exchange approved"),
    "order.exchange_rejected": ((), ("customer",), "교환 거절", "Exchange rejected"),
    "order.exchange_returned": ((), ("customer",), "반송 상품 도착", "Return received"),
    "order.exchange_shipped": ((), ("customer",), "교환 상품 발송", "Replacement shipped"),
    "order.exchange_delivered": ((), ("customer",), "교환 완료", "Exchange completed"),
    "order.inquiry_posted": (ALL_STAFF, (), "새 문의", "New inquiry"),
    "order.inquiry_answered": ((), ("customer",), "문의 답변", "Inquiry answered"),
    "order.review_posted": (ALL_STAFF, (), "새 후기", "New review"),
    "order.review_replied": ((), ("customer",), "후기 답글", "Reply to your review"),
    "product.approved": (MANAGERS, (), "상품 심사 승인", "Product approved"),
    "product.rejected": (MANAGERS, (), "상품 심사 반려", "Product rejected"),
    "product.sold_out": (MANAGERS, (), "품절 알림", "Sold out"),
    "partner.verified": (MANAGERS, (), "입점 심사 승인", "Partner verified"),
    "partner.rejected": (MANAGERS, (), "입점 심사 반려", "Partner verification rejected"),
    "partner.registered": ((), ("operator",), "새 입점 신청", "New partner application"),  # issue 18 item 13
    "partner.resubmitted": ((), ("operator",), "입점 재심사 요청", "Partner re-submitted"),
    "staff.invited": ((), ("invitee",), "파트너 초대", "Invitation"),
    "payout.scheduled": (MANAGERS, (), "정산 예정", "Payout scheduled"),
    "tax_invoice.issued": (MANAGERS, (), "세금계산서 발행", "Tax invoice issued"),
    "webhook.disabled": (MANAGERS, (), "웹훅 비활성화", "Webhook disabled"),
}


def payload_for(event_type: str, partner_id: str, customer_id: str, friend_id: str, invitee_id: str) -> dict:
    family, kind = event_type.split(".", 1)
    if family == "reservation":
        return reservation(
            partner_id,
            customer_id,
            status=kind,
            actor="customer" if kind != "confirmed" else "system",
            to_customer_id=friend_id,
            invitation_id=new_id("inv"),
            reason="일정 변경",
        )
    if family == "order":
        return order(
            partner_id,
            customer_id,
            status=kind,
            actor="customer",
            request_id=new_id("rq"),
            courier="CJ대한통운",
            invoice_number="6543-2100",
            refund_amount=6000,
        )
    if family == "product":
        return {
            "partner_id": partner_id,
            "product_id": "prod-1",
            "name": "봄 전시",
            "kind": "booking",
            "reason": "사진이 흐립니다",
        }
    if family == "partner":
        return {
            "partner_id": partner_id,
            "name": "다온 살롱",
            "category": "beauty",
            "status": kind,
            "reason": "사업자번호 불일치",
            "changes": {"business_number": {"before": "1", "after": "2"}},
        }
    if event_type == "staff.invited":
        return {"partner_id": partner_id, "invitation_id": new_id("inv"), "member_id": invitee_id, "role": "member"}
    if event_type == "webhook.disabled":
        return {"partner_id": partner_id, "webhook_id": new_id("w"), "url": "https://example.com/h", "failures": 16}
    return {
        "partner_id": partner_id,
        "period_start": "2025-04-01",
        "period_end": "2025-04-30",
        "amount": 480000,
        "pay_date": "2025-05-10",
        "payout_id": "po-1",
        "invoice_number": "TI-2025-0001",
    }


def test_each_event_kind_gives_each_recipient_one_message_in_both_languages_even_when_delivered_twice(
    start_notifications, rpc, amqp_uri
):
    """R-NTF-1 / R-NTF-2: every kind, every recipient, ko and en, one message
    per recipient per event although every event is delivered twice."""
    partner_id, customer_id, friend_id, invitee_id, operator_id = (new_id(p) for p in ("p", "c", "friend", "m", "op"))
    db = start_notifications(partner_id, operators=[operator_id])

    events = {t: event(t, payload_for(t, partner_id, customer_id, friend_id, invitee_id)) for t in EXPECTED}
    publish(amqp_uri, list(events.values()) + list(events.values()))  # every event twice
    eventually(
        lambda: scalar(db, "SELECT count(*) FROM inbox") == len(EXPECTED), timeout=30, message="every event handled"
    )
    eventually(lambda: queues_settled(amqp_uri, EXPECTED), timeout=60, interval=0.5, message="every duplicate consumed")

    people = {
        "customer": ("customer", customer_id),
        "friend": ("customer", friend_id),
        "invitee": ("member", invitee_id),
        "operator": ("member", operator_id),
    }
    for event_type, (roles, others, title_ko, title_en) in EXPECTED.items():
        rows = query(
            db,
            """SELECT recipient_kind, recipient_id, content, actions FROM messages
                            WHERE source_id = %s""",
            (events[event_type].event_id,),
        )
        expected = {("member", f"{partner_id}-{role}") for role in roles} | {people[o] for o in others}
        got = [(r["recipient_kind"], r["recipient_id"]) for r in rows]
        assert sorted(got) == sorted(expected), event_type  # a duplicate would show twice
        titles = {(r["content"]["ko"]["title"], r["content"]["en"]["title"]) for r in rows}
        assert (title_ko, title_en) in titles, (event_type, titles)
        for row in rows:
            assert row["content"]["ko"]["body"] and row["content"]["en"]["body"]
            assert row["content"]["ko"]["body"] != row["content"]["en"]["body"]
    assert parked(amqp_uri) == {}

    # The inboxes, through the service's RPC, in the language asked for.
    member_inbox = rpc.notifications.list_partner_notifications(partner_id, f"{partner_id}-member", {"limit": 100})
    member_titles = {m["title"] for m in member_inbox["items"]}
    assert (
        "새 예약 신청" in member_titles and "상품 심사 승인" not in member_titles
    )  # a member does not manage products
    admin_en = rpc.notifications.list_partner_notifications(
        partner_id, f"{partner_id}-admin", {"lang": "en", "limit": "100"}
    )
    assert {"Product approved", "Payout scheduled", "New booking request"} <= {m["title"] for m in admin_en["items"]}
    request = next(m for m in admin_en["items"] if m["title"] == "New booking request")
    assert [(a["kind"], a["label"]) for a in request["actions"]] == [
        ("view", "View booking"),
        ("confirm", "Confirm"),
        ("reject", "Reject"),
    ]
    customer_inbox = rpc.notifications.list_customer_messages(customer_id, {"limit": 5})
    assert len(customer_inbox["items"]) == 5 and customer_inbox["next_cursor"]
    rest = rpc.notifications.list_customer_messages(
        customer_id, {"limit": 100, "cursor": customer_inbox["next_cursor"]}
    )
    expected_customer = sum("customer" in others for _, others, _, _ in EXPECTED.values())
    assert len(customer_inbox["items"]) + len(rest["items"]) == expected_customer
    assert rest["next_cursor"] is None
    invitee = rpc.notifications.list_member_notifications(invitee_id)
    assert [a["href"].rsplit("/", 1)[1] for a in invitee["items"][0]["actions"]] == ["accept", "decline"]
    # Another partner's staff member sees nothing of this partner.
    assert rpc.notifications.list_partner_notifications(new_id("p"), f"{partner_id}-admin")["items"] == []

    first = customer_inbox["items"][0]
    read = rpc.notifications.mark_customer_message_read(customer_id, first["id"])
    assert read["read_at"] is not None
    unread = rpc.notifications.list_customer_messages(customer_id, {"unread": "true", "limit": 100})
    assert first["id"] not in {m["id"] for m in unread["items"]}
    assert len(unread["items"]) == expected_customer - 1
    # Every new message was also queued once for the messenger channel, and sent.
    eventually(
        lambda: (
            scalar(db, "SELECT count(*) FROM deliveries WHERE channel = 'messenger' AND status = 'delivered'")
            == scalar(db, "SELECT count(*) FROM messages")
        ),
        message="messenger pushes sent",
    )


def test_bad_list_queries_are_refused_naming_the_field(run_service, rpc):
    run_service("notifications", **FAST)
    from chassis.errors import ValidationFailed

    for bad, field in (
        ({"limit": "x"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"lang": "fr"}, "lang"),
        ({"sort": "asc"}, "sort"),
    ):
        with pytest.raises(ValidationFailed) as failure:
            rpc.notifications.list_customer_messages("c-1", bad)
        assert field in failure.value.details["fields"], bad
    # limit is clamped to 1..100 like every list's (chassis.paging, issue 15), not refused
    for out_of_range in (0, 1000):
        assert rpc.notifications.list_customer_messages("c-1", {"limit": out_of_range}) == {
            "items": [],
            "next_cursor": None,
        }
    from chassis.errors import Forbidden, NotFound

    with pytest.raises(Forbidden):
        rpc.notifications.list_partner_notifications("p-1", None)  # an API key has no inbox
    with pytest.raises(NotFound):
        rpc.notifications.mark_customer_message_read("c-1", "not-a-uuid")


def test_staff_message_waits_in_retry_while_accounts_lacks_the_rpc_then_is_delivered(
    run_service, start_accounts, amqp_uri
):
    """A missing accounts RPC fails the delivery into retry; nothing is half
    stored (not even the customer's message), nothing is dropped."""
    partner_id, customer_id = new_id("p"), new_id("c")
    container = run_service(
        "notifications", **{**FAST, "EVENT_MAX_ATTEMPTS": 30, "EVENT_RETRY_BASE_MS": 200, "RPC_TIMEOUT": 1}
    )
    db = container.config["DATABASE_URL"]
    accounts_without = start_accounts(SERVICE_CLASS="fake_accounts.service:AccountsWithoutStaffDirectory")
    sub = Subscription("reservation.requested", "notifications", "on_reservation_requested")
    publish(amqp_uri, [event("reservation.requested", reservation(partner_id, customer_id))])
    eventually(
        lambda: queue_depths(amqp_uri)[retry_queue(sub)][0] == 1,
        timeout=30,
        interval=0.3,
        message="event scheduled for retry",
    )
    assert scalar(db, "SELECT count(*) FROM messages") == 0
    accounts_without.stop()

    start_accounts(partner_id)
    eventually(
        lambda: scalar(db, "SELECT count(*) FROM messages") == 4,
        timeout=30,
        message="messages stored once accounts answers",
    )
    assert queue_depths(amqp_uri)[dead_letter_queue(sub)] == (0, 0)
    recipients = {r["recipient_id"] for r in query(db, "SELECT recipient_id FROM messages")}
    assert recipients == {customer_id, f"{partner_id}-admin", f"{partner_id}-master", f"{partner_id}-member"}
