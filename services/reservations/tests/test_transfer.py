"""R-RSV-10 hand-over (issue 17 item 1), through the gateway: only the customer
whose verified phone is ``to_phone`` takes the ticket, also when two customers
race for it; from then on the holder, not the booker, cancels, moves, hands it
on and gets its messages, and the partner sees the holder."""

from concurrent.futures import ThreadPoolExecutor

from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import booked, live_product, outbox


def inbox_titles(customer) -> list[str]:
    return [m["title"] for m in expect(customer.client.get("/v1/shop/messages"), 200)["items"]]


def test_r_rsv_10_only_the_named_phone_takes_the_ticket_then_the_holder_owns_it(partner_center):
    pc = partner_center("catalog", "reservations", "notifications")
    partner = pc.create_partner(category="exhibition")
    product = live_product(pc, partner, payment="prepaid")
    booker = pc.customer_session(name="김다온", phone="010-1234-5678")
    recipient = pc.customer_session(name="이서준", phone="010-2222-3333")
    impostor = pc.customer_session(name="박민지", phone="010-9876-5678")
    reservation = booked(booker, product, booker={"name": "김다온", "phone": "010-1234-5678"})
    path = f"/v1/shop/reservations/{reservation['number']}"
    offer = expect(booker.client.post(f"{path}/transfer", json={"to_phone": "010-2222-3333"}), 200)
    accept = f"/v1/shop/transfers/{offer['transfer_token']}/accept"

    # Knowing the token is not enough: another phone gets the 404 of an unknown token.
    assert_error(impostor.client.post(accept), 404, "transfer_not_found")
    # Two customers whose verified phone is the one named (two accounts of the identity
    # provider) race with the impostor: exactly one takes the ticket.
    twin = pc.customer_session(name="이서준", phone="010-2222-3333", subject=f"twin-{recipient.customer_id}")
    assert twin.customer_id != recipient.customer_id
    with ThreadPoolExecutor(3) as pool:
        raced = list(pool.map(lambda c: c.client.post(accept), (impostor, recipient, twin)))
    assert raced[0].status_code == 404 and sorted(r.status_code for r in raced[1:]) == [200, 404]
    winner, loser = (recipient, twin) if raced[1].status_code == 200 else (twin, recipient)
    assert expect(winner.client.post(accept), 200)["role"] == "holder"  # a retry answers the same
    assert_error(loser.client.post(accept), 404, "transfer_not_found")
    recipient = winner
    url = pc.containers["reservations"].config["DATABASE_URL"]
    assert [e["holder_customer_id"] for e in outbox(url, "reservation.transferred", reservation["number"])] == [
        recipient.customer_id
    ]  # one hand-over, one event

    # The booker can no longer cancel, move or hand it on; the holder can.
    for action, body in (
        ("cancel", {}),
        ("change-date", {"date": "2099-01-01", "time": "10:00"}),
        ("transfer", {"to_phone": "010-1111-2222"}),
    ):
        assert_error(booker.client.post(f"{path}/{action}", json=body), 409, "not_ticket_holder")
    assert expect(recipient.client.get(f"{path}/cancellation-quote"), 200)["allowed"] is True

    # R-RSV-11 (issue 17 item 9): the holder accepts a chat; the partner's list shows it at once, named.
    chat = expect(partner.admin.client.post(f"{partner.path}/reservations/{reservation['number']}/chat-requests"), 201)
    accepted = expect(recipient.client.post(f"/v1/shop/chat-invitations/{chat['invitation_id']}/accept"), 200)
    listed = expect(partner.admin.client.get(f"{partner.path}/conversations"), 200)["items"]
    assert [(c["id"], c["customer_name"]) for c in listed] == [(accepted["conversation_id"], "이*준")]

    # The partner sees who holds it (phone masked), and its cancellation reaches the holder.
    seen = expect(partner.admin.client.get(f"{partner.path}/reservations/{reservation['number']}"), 200)
    assert seen["holder"] == {"customer_id": recipient.customer_id, "name": "이서준", "phone": "010-****-3333"}
    assert seen["booker"]["name"] == "김다온"
    expect(
        partner.admin.client.post(
            f"{partner.path}/reservations/{reservation['number']}/cancel", json={"reason": "전시장 점검"}
        ),
        200,
    )
    eventually(lambda: any("취소" in t for t in inbox_titles(recipient)), message="the holder is told")
    assert not any("취소" in t for t in inbox_titles(booker))
