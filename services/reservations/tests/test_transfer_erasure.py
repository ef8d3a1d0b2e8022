"""Issue 16 leftover (R-ACC-3 with R-RSV-10), through the gateway: a ticket handed
to a phone whose owner is then erased loses that phone. Accounts announces the
erasure with the phone's keyed pseudonym only (``phone_key``); reservations finds
the transfers addressed to it, clears the phone and withdraws a pending one (nobody
can take it any more), so the booker may hand the ticket on again."""

import psycopg

from chassis.privacy import phone_key
from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import booked, db_rows, live_product

ERASED_PHONE, KEPT_PHONE = "010-7777-3131", "010-7777-4242"


def test_r_acc_3_r_rsv_10_a_pending_transfer_to_an_erased_customer_loses_their_phone(partner_center, rpc):
    pc = partner_center("catalog", "reservations")
    url = pc.containers["reservations"].config["DATABASE_URL"]
    partner = pc.create_partner(category="studio")
    product = live_product(pc, partner, payment="prepaid")
    booker = pc.customer_session()
    recipient = pc.customer_session(phone=ERASED_PHONE)
    tickets = [booked(booker, product) for _ in range(3)]
    paths = [f"/v1/shop/reservations/{t['number']}" for t in tickets]
    offers = [
        expect(booker.client.post(f"{path}/transfer", json={"to_phone": phone}), 200)
        for path, phone in zip(paths, (ERASED_PHONE, ERASED_PHONE, KEPT_PHONE), strict=True)
    ]
    # A transfer written before transfers kept the phone's key (migration 0006) is found all the same.
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE transfers SET to_phone_key = NULL WHERE transfer_id = %s", (offers[1]["transfer"]["transfer_id"],)
        )

    erased = rpc.accounts.erase_customer(recipient.customer_id)
    assert erased["phone_key"] == phone_key(ERASED_PHONE) and "7777" not in str(erased)

    def withdrawn(path):
        return "transfer" not in expect(booker.client.get(path), 200)

    for path in paths[:2]:
        eventually(lambda: withdrawn(path), message="the transfer to the erased phone withdrawn")
    assert db_rows(
        url,
        "SELECT count(*) FROM transfers WHERE to_phone = %s OR to_phone_key = %s",
        ("01077773131", phone_key(ERASED_PHONE)),
    ) == [(0,)]
    # The other phone's transfer is untouched.
    assert expect(booker.client.get(paths[2]), 200)["transfer"] == offers[2]["transfer"]
    # Whoever signs in with that phone later (a new messenger user) cannot take the old offer.
    newcomer = pc.customer_session(phone=ERASED_PHONE)
    assert_error(
        newcomer.client.post(f"/v1/shop/transfers/{offers[0]['transfer_token']}/accept"), 404, "transfer_not_found"
    )
    # The booker still holds the ticket and may hand it on again.
    again = expect(booker.client.post(f"{paths[0]}/transfer", json={"to_phone": KEPT_PHONE}), 200)
    assert again["transfer"]["state"] == "pending"
