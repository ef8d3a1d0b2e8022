"""Pure rules of notifications: templates for every consumed event kind in
both languages (R-NTF-1, R-NTF-2), recipients by role, webhook signatures,
retry schedule and the disable rule, cursors."""

import random

import pytest

from chassis.contracts import NOTIFIED_EVENTS, PAYLOADS
from chassis.errors import ValidationFailed
from chassis.validation import parse
from notifications import domain
from notifications.domain import Recipient, StaffMember
from notifications.schemas import ListQuery
from notifications.use_cases import next_page

from . import support

STAFF = [StaffMember("m-admin", "admin"), StaffMember("m-master", "master"), StaffMember("m-member", "member")]
EVERYONE = {Recipient("member", s.member_id) for s in STAFF}
MANAGERS = {Recipient("member", "m-admin"), Recipient("member", "m-master")}
CUSTOMER = Recipient("customer", "c-1")


def reservation(**extra):
    """A booking of p-1 by c-1 with the ids its kinds' actions link to (an invitation, a conversation, a friend)."""
    return support.reservation(
        "p-1",
        "c-1",
        "R7K2Q9",
        **{
            "product_name": "컷트 / Haircut",
            "total": 35000,
            "invitation_id": "inv-1",
            "conversation_id": "conv-1",
            "to_customer_id": "c-2",
            **extra,
        },
    )


def order(**extra):
    """A takeout order of p-1 by c-1 of two items, with a refund request and a shipment."""
    return support.order(
        "p-1",
        "c-1",
        "o-1",
        **{
            "total": 9000,
            "request_id": "rq-1",
            "courier": "CJ",
            "invoice_number": "123-456",
            "lines": [
                support.line("l1", "prod-1", "Americano", 2, 3000),
                support.line("l2", "prod-2", "Latte", 1, 3000),
            ],
            **extra,
        },
    )


def sample_payload(event_type: str) -> dict:
    family = event_type.split(".")[0]
    if family == "reservation":  # what this kind carries (chassis.contracts.RESERVATION_PAYLOADS)
        fields = PAYLOADS[event_type].model_fields
        return {k: v for k, v in reservation(status=event_type.split(".")[1], actor="customer").items() if k in fields}
    if family == "order":
        return order(status=event_type.split(".")[1], actor="customer")
    if family == "product":
        return {"partner_id": "p-1", "product_id": "prod-1", "name": "봄 전시", "kind": "booking", "reason": "blurry"}
    if family == "partner":
        return {
            "partner_id": "p-1",
            "name": "다온 살롱",
            "category": "beauty",
            "status": "verified",
            "reason": "x",
            "changes": {"name": {"before": "다온", "after": "다온 살롱"}},
        }
    if event_type == "staff.invited":
        return {"partner_id": "p-1", "invitation_id": "inv-9", "member_id": "m-new", "role": "master"}
    if event_type in ("payout.scheduled", "tax_invoice.issued"):
        return {
            "partner_id": "p-1",
            "period_start": "2025-04-01",
            "period_end": "2025-04-30",
            "amount": 1200000,
            "pay_date": "2025-05-10",
            "invoice_number": "TI-1",
        }
    if event_type == "webhook.disabled":
        return {"partner_id": "p-1", "webhook_id": "w-1", "url": "https://example.com/hook", "failures": 16}
    raise KeyError(event_type)


NOTIFYING = [t for t in NOTIFIED_EVENTS if t not in domain.ERASURE_EVENTS]


@pytest.mark.parametrize("event_type", NOTIFYING)
def test_every_notified_event_kind_renders_in_korean_and_english_with_working_links(event_type):
    """R-NTF-1/R-NTF-2: each consumed kind has templates; every message has a
    title and body in both languages, nothing left unformatted, and actions
    whose links are complete API paths."""
    payload = PAYLOADS[event_type].model_validate(sample_payload(event_type)).model_dump(mode="json")
    planned = domain.plan_messages(event_type, payload, STAFF, ["operator-1"])
    assert planned, f"{event_type} produces no message"
    for message in planned:
        for lang in ("ko", "en"):
            text = message.content[lang]["title"] + message.content[lang]["body"]
            assert message.content[lang]["title"] and message.content[lang]["body"]
            assert "{" not in text and "}" not in text and "None" not in text, text
        assert message.content["ko"]["body"] != message.content["en"]["body"]
        for action in message.actions:
            assert action["href"].startswith("/v1/") and "{" not in action["href"], action
            assert action["label"]["ko"] and action["label"]["en"]
    recipients = [m.recipient for m in planned]
    assert len(recipients) == len(set(recipients)), "one message per recipient per event"


def test_new_booking_goes_to_every_staff_role_and_the_customer_with_confirm_and_reject_links():
    """R-RSV-7, R-NTF-2."""
    planned = {m.recipient: m for m in domain.plan_messages("reservation.requested", reservation(), STAFF)}
    assert set(planned) == EVERYONE | {CUSTOMER}
    staff_message = planned[Recipient("member", "m-member")]
    assert staff_message.content["ko"]["title"] == "새 예약 신청"
    assert staff_message.content["en"]["title"] == "New booking request"
    assert "김*온" in staff_message.content["ko"]["body"] and "35,000원" in staff_message.content["ko"]["body"]
    assert (
        "KRW 35,000" in staff_message.content["en"]["body"]
        and "2025-05-01 14:00" in staff_message.content["en"]["body"]
    )
    assert [(a["kind"], a["method"], a["href"]) for a in staff_message.actions] == [
        ("view", "GET", "/v1/partners/p-1/reservations/R7K2Q9"),
        ("confirm", "POST", "/v1/partners/p-1/reservations/R7K2Q9/confirm"),
        ("reject", "POST", "/v1/partners/p-1/reservations/R7K2Q9/reject"),
    ]
    assert staff_message.subject_customer_id == "c-1"
    assert planned[CUSTOMER].actions[0]["href"] == "/v1/shop/reservations/R7K2Q9"
    assert "김*온" not in planned[CUSTOMER].content["ko"]["body"]


def test_cancellation_tells_the_partner_only_when_someone_else_cancelled():
    """R-RSV-7: a cancellation by the customer (or the system) reaches the partner; the partner's own does not."""
    by_customer = domain.plan_messages(
        "reservation.cancelled", reservation(actor="customer", refund_amount=30000, fee_amount=5000), STAFF
    )
    assert {m.recipient for m in by_customer} == EVERYONE | {CUSTOMER}
    customer = next(m for m in by_customer if m.recipient == CUSTOMER)
    assert "30,000원" in customer.content["ko"]["body"] and "5,000원" in customer.content["ko"]["body"]
    by_partner = domain.plan_messages("reservation.cancelled", reservation(actor="partner"), STAFF)
    assert {m.recipient for m in by_partner} == {CUSTOMER}
    partly = domain.plan_messages("reservation.cancelled", reservation(actor="customer", partial=True), STAFF)
    assert {m.recipient for m in partly} == EVERYONE | {CUSTOMER}  # still one message each (R-RSV-4 partial)
    assert {m.content["ko"]["title"] for m in partly} == {"예약 일부 취소"}


def test_completion_invites_the_customer_to_review_and_chat_request_carries_start_chat():
    """R-RSV-6, R-RSV-11, R-NTF-2."""
    [completed] = domain.plan_messages("reservation.completed", reservation(), STAFF)
    assert completed.recipient == CUSTOMER and "write_review" in [a["kind"] for a in completed.actions]
    assert "후기" in completed.content["ko"]["body"] and "review" in completed.content["en"]["body"]
    [chat] = domain.plan_messages("reservation.chat_requested", reservation(), STAFF)
    assert chat.actions[0] == {
        "kind": "start_chat",
        "method": "POST",
        "href": "/v1/shop/chat-invitations/inv-1/accept",
        "label": {"ko": "채팅 시작하기", "en": "Start chat"},
    }


def test_reservation_review_tells_every_staff_member_with_a_reply_link_and_the_reply_tells_the_customer():
    """R-RSV-6, issue #11: like order reviews; the visit-complete message links to the review POST."""
    posted = domain.plan_messages(
        "reservation.review_posted",
        reservation(status="completed", actor="customer", review_id="rv-1", rating=4, review_text="Great"),
        STAFF,
    )
    assert {m.recipient for m in posted} == EVERYONE
    assert "4" in posted[0].content["ko"]["body"] and "4/5" in posted[0].content["en"]["body"]
    assert [(a["kind"], a["method"], a["href"]) for a in posted[0].actions] == [
        ("view", "GET", "/v1/partners/p-1/reservations/R7K2Q9"),
        ("reply", "POST", "/v1/partners/p-1/reviews/rv-1/reply"),
    ]
    [replied] = domain.plan_messages(
        "reservation.review_replied",
        reservation(status="completed", actor="partner", review_id="rv-1", rating=4, reply_text="Thanks"),
        STAFF,
    )
    assert replied.recipient == CUSTOMER and replied.content["en"]["title"] == "Reply to your review"
    [completed] = domain.plan_messages("reservation.completed", reservation(status="completed"), STAFF)
    assert ("write_review", "POST", "/v1/shop/reservations/R7K2Q9/reviews") in [
        (a["kind"], a["method"], a["href"]) for a in completed.actions
    ]


def test_auto_confirmed_booking_is_news_for_the_partner_but_a_partner_confirmation_is_not():
    assert {
        m.recipient for m in domain.plan_messages("reservation.confirmed", reservation(actor="system"), STAFF)
    } == EVERYONE | {CUSTOMER}
    assert {
        m.recipient for m in domain.plan_messages("reservation.confirmed", reservation(actor="partner"), STAFF)
    } == {CUSTOMER}


def test_roles_decide_which_staff_receive_product_and_finance_messages():
    """Role groups mirror the roles table: product review and payouts go to admins and masters only."""
    for event_type, payload in (
        ("product.rejected", sample_payload("product.rejected")),
        ("payout.scheduled", sample_payload("payout.scheduled")),
        ("webhook.disabled", sample_payload("webhook.disabled")),
    ):
        assert {m.recipient for m in domain.plan_messages(event_type, payload, STAFF)} == MANAGERS
    assert domain.needs_staff("product.rejected", sample_payload("product.rejected"))
    assert not domain.needs_staff("order.shipped", order())


def test_order_messages_name_the_items_and_offer_the_channel_specific_next_step():
    """R-ORD-1/2/3: a takeout order offers "start preparing", a parcel order "prepare shipment"."""
    takeout = next(m for m in domain.plan_messages("order.received", order(), STAFF) if m.recipient.kind == "member")
    assert "Americano 외 1건" in takeout.content["ko"]["body"] and "(포장)" in takeout.content["ko"]["title"]
    assert "Americano and 1 more" in takeout.content["en"]["body"]
    assert [a["kind"] for a in takeout.actions] == ["view", "start_preparing", "cancel"]
    parcel = next(
        m
        for m in domain.plan_messages("order.received", order(channel="parcel"), STAFF)
        if m.recipient.kind == "member"
    )
    assert [a["kind"] for a in parcel.actions] == ["view", "prepare_shipment", "cancel"]
    no_request = next(
        m
        for m in domain.plan_messages("order.refund_requested", order(request_id=None), STAFF)
        if m.recipient.kind == "member"
    )
    assert [a["kind"] for a in no_request.actions] == ["view"]  # approve/reject need the request id


def test_ticket_transfer_tells_both_holders_and_an_invitation_reaches_the_invitee():
    planned = domain.plan_messages("reservation.transferred", reservation(), STAFF)
    assert {m.recipient for m in planned} == {CUSTOMER, Recipient("customer", "c-2")}
    to_self = domain.plan_messages("reservation.transferred", reservation(to_customer_id="c-1"), STAFF)
    assert [m.template for m in to_self] == ["reservation.transferred/new_holder"]  # still one per recipient
    [invite] = domain.plan_messages("staff.invited", sample_payload("staff.invited"), STAFF)
    assert invite.recipient == Recipient("member", "m-new") and "마스터" in invite.content["ko"]["body"]


def test_staff_directory_answer_is_read_defensively():
    rows = [
        {"member_id": "a", "role": "admin"},
        {"member_id": "a", "role": "member"},
        {"member_id": "b", "role": "operator"},
        {"role": "admin"},
        {"member_id": "c", "role": "member"},
    ]
    assert domain.staff_from_directory(rows) == [StaffMember("a", "admin"), StaffMember("c", "member")]


def test_erasure_rerenders_without_the_booker_name_and_with_the_pseudonym():
    [partner_message] = [
        m for m in domain.plan_messages("reservation.requested", reservation(), STAFF) if m.recipient.id == "m-admin"
    ]
    params, content, actions = domain.erased_rendering(
        partner_message.template, partner_message.params, "c-1", "cust-x"
    )
    assert "booker" not in params and params["customer_id"] == "cust-x"
    assert "김*온" not in str(content) and "R7K2Q9" in content["ko"]["body"]
    assert actions == partner_message.actions


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = "sha256=" + hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert domain.sign("whsec_k", 1700000000, body) == expected
    assert domain.verify("whsec_k", 1700000000, body, expected)
    assert not domain.verify("whsec_k", 1700000001, body, expected)
    assert not domain.verify("other", 1700000000, body, expected)


def test_default_webhook_retry_schedule_spans_more_than_a_day_and_always_backs_off():
    """Issue #7: retries with exponential backoff and jitter over at least a day (config.yaml defaults)."""
    from chassis.config import load_config

    config = load_config("notifications")
    policy = domain.RetryPolicy(
        float(config["WEBHOOK_RETRY_BASE_S"]), float(config["WEBHOOK_RETRY_CAP_S"]), int(config["WEBHOOK_MAX_ATTEMPTS"])
    )
    assert policy.shortest_total() >= 24 * 3600
    rng = random.Random(7)
    for _ in range(200):
        delays = [policy.delay(n, rng) for n in range(1, policy.max_attempts)]
        assert all(policy.nominal_delay(n) / 2 <= d <= policy.nominal_delay(n) for n, d in enumerate(delays, 1))
    assert len({round(policy.delay(3, rng), 6) for _ in range(50)}) > 40  # jittered, not lock-step
    assert not policy.exhausted(policy.max_attempts - 1) and policy.exhausted(policy.max_attempts)


def test_webhook_is_disabled_only_after_enough_failures_over_enough_time():
    assert not domain.should_disable(15, 90000, limit=16, period_seconds=86400)
    assert not domain.should_disable(500, 600, limit=16, period_seconds=86400)  # a burst in a short outage
    assert domain.should_disable(16, 86400, limit=16, period_seconds=86400)


def test_webhook_event_patterns():
    assert domain.valid_event_pattern("reservation.requested") and domain.valid_event_pattern("order.*")
    assert domain.valid_event_pattern("*")
    assert not domain.valid_event_pattern("customer.erased") and not domain.valid_event_pattern("bogus.*")
    assert not domain.valid_event_pattern("reservation.shared")  # not consumed, so never delivered
    assert domain.webhook_wants(["order.*"], "order.received")
    assert not domain.webhook_wants(["reservation.requested"], "reservation.cancelled")


def test_list_cursors_continue_below_the_last_row_and_refuse_garbage():
    rows = [{"id": i} for i in (9, 8, 7)]
    page, cursor = next_page(rows, 2, "id")
    assert page == rows[:2] and parse(ListQuery, {"cursor": cursor}).before == 8
    assert next_page(rows, 3, "id") == (rows, None)
    assert parse(ListQuery, {}).before is None and parse(ListQuery, {"limit": 500}).limit == 100
    for bad in ("%%%", "bjotNA", cursor[:-1] + "!", "eDox"):
        with pytest.raises(ValidationFailed) as refused:
            parse(ListQuery, {"cursor": bad}).before  # noqa: B018 (the property decodes the cursor)
        assert "cursor" in refused.value.details["fields"]
