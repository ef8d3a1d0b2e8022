"""Finding bookings and the people around them, through the gateway: search
(R-RSV-8), the dashboard (R-ACC-11), sharing, saving and ticket transfer
(R-RSV-10), chat requests (R-RSV-11), and erasure of the booker's data."""

import uuid

from chassis.privacy import pseudonym
from chassis.testing import eventually
from chassis.tests.broker import erasure, publish_envelope
from support.api import assert_error, expect

from .helpers import booked, day, db_rows, live_product, outbox


def numbers(response) -> list[str]:
    return [r["number"] for r in expect(response, 200)["items"]]


def test_r_rsv_8_search_by_name_part_or_phone_filters_pages_and_the_dashboard(partner_center):
    pc = partner_center("catalog", "reservations")
    partner = pc.create_partner(category="salon")
    product = live_product(
        pc,
        partner,
        slots=[{"date": day(), "time": "10:00", "capacity": 9}, {"date": day(4), "time": "10:00", "capacity": 9}],
    )
    customer = pc.customer_session()
    dahon = booked(customer, product, booker={"name": "김다온", "phone": "010-1234-5678"})
    minji = booked(customer, product, booker={"name": "Kim Minji", "phone": "010 9876 1111"})
    seojun = booked(customer, product, date=day(4), booker={"name": "이서준", "phone": "01022225678"})
    staff = pc.staff(partner, "member").client
    rsv = f"{partner.path}/reservations"

    assert numbers(staff.get(f"{rsv}?q=5678")) == [seojun["number"], dahon["number"]]
    assert numbers(staff.get(f"{rsv}?q=kim")) == [minji["number"]]  # any case, from the start of the name
    assert numbers(staff.get(f"{rsv}?q=김다")) == [dahon["number"]]
    # Issue 17 item 8: any part of the name (Korean included), and a whole phone number.
    assert numbers(staff.get(f"{rsv}?q=다온")) == [dahon["number"]]
    assert numbers(staff.get(f"{rsv}?q=온")) == [dahon["number"]]
    assert numbers(staff.get(f"{rsv}?q=minj")) == [minji["number"]]
    assert numbers(staff.get(f"{rsv}?q=서김")) == []  # both characters, but not side by side
    assert numbers(staff.get(f"{rsv}?q=010-1234-5678")) == [seojun["number"], dahon["number"]]
    assert numbers(staff.get(f"{rsv}?q=01098761111")) == [minji["number"]]
    assert numbers(staff.get(f"{rsv}?q=9999")) == []
    assert numbers(staff.get(f"{rsv}?date={day(4)}")) == [seojun["number"]]
    assert numbers(staff.get(f"{rsv}?product_id={product['product_id']}&status=requested&q=1111")) == [minji["number"]]
    first = expect(staff.get(f"{rsv}?limit=2"), 200)
    assert [r["number"] for r in first["items"]] == [seojun["number"], minji["number"]] and first["next_cursor"]
    assert numbers(staff.get(f"{rsv}?limit=2&cursor={first['next_cursor']}")) == [dahon["number"]]
    for bad in ("status=lost", "limit=x", "cursor=nope", "date=tomorrow"):
        assert_error(staff.get(f"{rsv}?{bad}"), 422)
    board = f"{partner.path}/reservation-board?product_id={product['product_id']}"
    assert "to" in assert_error(staff.get(f"{board}&from={day(4)}&to={day(0)}"), 422)["details"]["fields"]
    assert "from" in assert_error(staff.get(board), 422)["details"]["fields"]
    # Another partner searching for the same digits finds nothing of this partner.
    other = pc.create_partner(category="salon")
    assert numbers(other.admin.client.get(f"{other.path}/reservations?q=5678")) == []

    expect(staff.post(f"{rsv}/{dahon['number']}/confirm"), 200)
    dashboard = expect(staff.get(f"{partner.path}/dashboard"), 200)
    section = dashboard["sections"]["reservations"]
    assert "reservations" not in dashboard["unavailable"]
    assert section["counts"] == {
        "requested": 2,
        "confirmed": 1,
        "rejected": 0,
        "cancelled": 0,
        "completed": 0,
        "no_show": 0,
    }
    assert section["today"]["bookings"] == 3 and section["today"]["date"] == day(0)


def test_r_rsv_10_r_rsv_11_share_save_transfer_chat_and_erasure(partner_center):
    pc = partner_center("catalog", "reservations")
    url = pc.containers["reservations"].config["DATABASE_URL"]
    partner = pc.create_partner(category="studio")
    product = live_product(pc, partner, payment="prepaid")
    booker = pc.customer_session(name="김다온", phone="010-1234-5678")
    friend, holder = pc.customer_session(), pc.customer_session(phone="010-5555-0000")
    reservation = booked(booker, product, booker={"name": "김다온", "phone": "010-1234-5678"})
    path = f"/v1/shop/reservations/{reservation['number']}"

    # R-RSV-10: share, a friend sees it (no money, name masked) and saves it; read only for them.
    token = expect(booker.client.post(f"{path}/share"), 201)["share_token"]
    shared = expect(friend.client.get(f"/v1/shop/shared/{token}"), 200)
    assert shared["booker"] == {"name": "김*온"} and "total" not in shared and shared["role"] == "friend"
    assert expect(friend.client.post(f"/v1/shop/shared/{token}/save"), 200)["saved"] is True
    assert numbers(friend.client.get("/v1/shop/reservations")) == [reservation["number"]]
    assert expect(friend.client.get(path), 200)["role"] == "friend"
    assert_error(friend.client.post(f"{path}/cancel", json={}), 404)
    assert_error(friend.client.post("/v1/shop/shared/not-a-token/save"), 404, "share_not_found")

    # R-RSV-10: the ticket handed to a friend's phone; they take it with the token.
    offer = expect(booker.client.post(f"{path}/transfer", json={"to_phone": "010-5555-0000"}), 200)
    assert offer["transfer"]["to_phone"] == "010-****-0000" and offer["transfer"]["state"] == "pending"
    assert expect(booker.client.get(path), 200)["transfer"]["state"] == "pending"
    assert (
        "to_phone"
        in assert_error(booker.client.post(f"{path}/transfer", json={"to_phone": "call me"}), 422)["details"]["fields"]
    )
    taken = expect(holder.client.post(f"/v1/shop/transfers/{offer['transfer_token']}/accept"), 200)
    assert taken["role"] == "holder" and taken["booker"] == {"name": "김*온", "phone": None}
    assert_error(friend.client.post(f"/v1/shop/transfers/{offer['transfer_token']}/accept"), 404, "transfer_not_found")
    assert expect(booker.client.get(path), 200)["holder"] == "friend"
    assert_error(booker.client.post(f"{path}/transfer", json={"to_phone": "010-1111-2222"}), 409, "not_ticket_holder")
    transferred = outbox(url, "reservation.transferred", reservation["number"])
    assert [(e["customer_id"], e["to_customer_id"]) for e in transferred] == [(booker.customer_id, holder.customer_id)]

    # R-RSV-11: the partner asks to chat; nothing is open until the ticket's holder accepts.
    staff = pc.staff(partner, "member")
    chat = f"{partner.path}/reservations/{reservation['number']}/chat-requests"
    invitation = expect(staff.client.post(chat), 201)
    assert invitation["state"] == "pending" and invitation["conversation_id"] is None
    assert expect(staff.client.post(chat), 201)["invitation_id"] == invitation["invitation_id"]  # one at a time
    assert expect(booker.client.get("/v1/shop/chat-invitations"), 200)["items"] == []
    pending = expect(holder.client.get("/v1/shop/chat-invitations?state=pending"), 200)["items"]
    assert [(i["invitation_id"], i["number"]) for i in pending] == [
        (invitation["invitation_id"], reservation["number"])
    ]
    assert_error(booker.client.post(f"/v1/shop/chat-invitations/{invitation['invitation_id']}/accept"), 404)
    accepted = expect(holder.client.post(f"/v1/shop/chat-invitations/{invitation['invitation_id']}/accept"), 200)
    assert accepted["state"] == "accepted" and accepted["conversation_id"]
    assert (
        expect(staff.client.get(f"{partner.path}/reservations/{reservation['number']}"), 200)["conversation_id"]
        == accepted["conversation_id"]
    )
    assert_error(staff.client.post(chat), 409, "chat_already_open")
    assert_error(
        holder.client.post(f"/v1/shop/chat-invitations/{invitation['invitation_id']}/decline"), 409, "invalid_state"
    )
    chat_events = [
        (e["type"], e["invitation_id"], e["conversation_id"])
        for e in outbox(url, number=reservation["number"])
        if "chat" in e["type"]
    ]
    assert chat_events == [
        ("reservation.chat_requested", invitation["invitation_id"], None),
        ("reservation.chat_accepted", invitation["invitation_id"], accepted["conversation_id"]),
    ]
    second = booked(booker, product)
    declined_invitation = expect(
        staff.client.post(f"{partner.path}/reservations/{second['number']}/chat-requests"), 201
    )
    declined = expect(
        booker.client.post(f"/v1/shop/chat-invitations/{declined_invitation['invitation_id']}/decline"), 200
    )
    assert declined["state"] == "declined" and outbox(url, "reservation.chat_declined", second["number"])

    # Erasure: the booker's name and phone go, amounts and the booking stay; a withdrawn
    # staff member stays only as a pseudonym in the history.
    amqp = pc.containers["reservations"].config["AMQP_URI"]
    erased = pseudonym("customer", booker.customer_id)
    publish_envelope(amqp, erasure("customer", booker.customer_id))
    withdrawn = pseudonym("member", staff.member_id)
    duplicate = erasure("member", staff.member_id)
    publish_envelope(amqp, duplicate)
    publish_envelope(amqp, duplicate)  # delivered twice: one effect
    view_path = f"{partner.path}/reservations/{reservation['number']}"
    seen = eventually(
        lambda: (lambda v: v if v["booker"]["name"] is None else None)(
            expect(partner.admin.client.get(view_path), 200)
        ),
        message="booker pseudonymised",
    )
    assert (seen["customer_id"], seen["booker"]["phone"], seen["total"]) == (erased, None, 30000)
    assert numbers(partner.admin.client.get(f"{partner.path}/reservations?q=5678")) == []
    assert eventually(
        lambda: withdrawn in str(expect(partner.admin.client.get(view_path), 200)["history"]),
        message="member pseudonymised",
    )
    assert staff.member_id not in str(db_rows(url, "SELECT actor_id FROM reservation_history"))
    assert booker.customer_id not in str(db_rows(url, "SELECT customer_id, response FROM booking_intents"))
    assert numbers(booker.client.get("/v1/shop/reservations")) == []
    # Every event written went out (none without a subscriber waits forever in the outbox).
    eventually(
        lambda: db_rows(url, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0,
        message="outbox drained",
    )
    assert uuid.UUID(accepted["conversation_id"])
