"""End to end with the real producers: a customer books through the gateway,
the partner's staff get the message and act on it by following its links
(R-RSV-7, R-NTF-2), the customer hears of the confirmation, accepts the chat
invitation from their message's link, and both sides talk (R-RSV-11)."""

from chassis.testing import eventually
from reservations.tests.helpers import booked, live_product
from support.api import expect

from .support import FAST


def follow(client, action: dict, **kwargs):
    return client.request(action["method"], action["href"], **kwargs)


def test_a_booking_reaches_staff_whose_message_links_confirm_it_and_open_the_chat(partner_center):
    pc = partner_center("catalog", "reservations", "notifications", service_config={"notifications": FAST})
    partner = pc.create_partner(category="salon")
    member = pc.staff(partner, "member")
    product = live_product(pc, partner, settings={"confirmation": "manual"})
    customer = pc.customer_session()
    number = booked(customer, product)["number"]

    def staff_message(kind):
        items = expect(member.client.get(f"{partner.path}/notifications"), 200)["items"]
        return next((m for m in items if m["kind"] == kind and number in m["body"]), None)

    request = eventually(lambda: staff_message("reservation.requested"), timeout=20, message="staff told")
    assert request["title"] == "새 예약 신청"
    actions = {a["kind"]: a for a in request["actions"]}
    assert expect(follow(member.client, actions["view"]), 200)["number"] == number
    assert expect(follow(member.client, actions["confirm"], json={}), 200)["status"] == "confirmed"

    def customer_message(kind):
        items = expect(customer.client.get("/v1/shop/messages", params={"lang": "en"}), 200)["items"]
        return next((m for m in items if m["kind"] == kind), None)

    confirmed = eventually(lambda: customer_message("reservation.confirmed"), timeout=20, message="customer told")
    assert confirmed["title"] == "Booking confirmed"
    assert expect(follow(customer.client, confirmed["actions"][0]), 200)["status"] == "confirmed"

    expect(member.client.post(f"{partner.path}/reservations/{number}/chat-requests", json={}), 201)
    invitation = eventually(
        lambda: customer_message("reservation.chat_requested"), timeout=20, message="chat invitation told"
    )
    start_chat = next(a for a in invitation["actions"] if a["kind"] == "start_chat")
    expect(follow(customer.client, start_chat, json={}), 200)

    accepted = eventually(lambda: staff_message("reservation.chat_accepted"), timeout=20, message="chat accepted")
    open_chat = accepted["actions"][0]
    expect(member.client.post(open_chat["href"], json={"body": "방문 전 주차 안내드립니다."}), 201)
    conversation_id = open_chat["href"].split("/")[-2]
    lines = expect(customer.client.get(f"/v1/shop/conversations/{conversation_id}/messages"), 200)["items"]
    assert [(m["author"], m["body"]) for m in lines] == [("partner", "방문 전 주차 안내드립니다.")]
