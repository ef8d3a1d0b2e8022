"""R-ACC-14 through the gateway (issue 17 item 11): an admin closes the partner;
it stops selling, its open bookings are cancelled with a full refund or served
to the end as the admin chose, and its last admin may then withdraw."""

from chassis.testing import eventually
from support.api import assert_error, expect

from .helpers import book, booked, live_product


def test_r_acc_14_closing_cancels_or_serves_open_bookings_stops_selling_and_frees_the_admin(partner_center):
    pc = partner_center("catalog", "reservations", "orders")  # orders: a closed partner's last admin asks it
    customer = pc.customer_session()
    closing, serving = pc.create_partner(category="studio"), pc.create_partner(category="studio")
    to_cancel = live_product(pc, closing, payment="prepaid")
    to_serve = live_product(pc, serving, payment="prepaid")
    confirmed = booked(customer, to_cancel)
    expect(closing.admin.client.post(f"{closing.path}/reservations/{confirmed['number']}/confirm"), 200)
    requested = booked(customer, to_cancel, quantities=(1, 1))
    kept = booked(customer, to_serve)
    # Issue 17 item 10: the refusal names the booking and the next step, in Korean unless asked otherwise.
    complete = f"{closing.path}/reservations/{requested['number']}/complete"
    refusal = assert_error(closing.admin.client.post(complete), 409, "invalid_state")
    assert requested["number"] in refusal["message"] and "먼저 확정한 뒤" in refusal["message"]
    assert (
        "confirm it first"
        in assert_error(
            closing.admin.client.post(complete, headers={"Accept-Language": "en-US,en;q=0.9"}), 409, "invalid_state"
        )["message"]
    )

    assert_error(
        pc.staff(closing, "master").client.post(
            f"{closing.path}/close", json={"open_bookings": "cancel", "confirm": True}
        ),
        403,
        "admin_only",
    )
    assert (
        "open_bookings"
        in assert_error(closing.admin.client.post(f"{closing.path}/close", json={"confirm": True}), 422)["details"][
            "fields"
        ]
    )
    closed = expect(
        closing.admin.client.post(f"{closing.path}/close", json={"open_bookings": "cancel", "confirm": True}), 200
    )
    assert (closed["status"], closed["open_bookings"]) == ("closed", "cancel")
    assert_error(
        closing.admin.client.post(f"{closing.path}/close", json={"open_bookings": "serve", "confirm": True}),
        409,
        "invalid_state",
    )
    expect(serving.admin.client.post(f"{serving.path}/close", json={"open_bookings": "serve", "confirm": True}), 200)

    def cancelled(number):
        seen = expect(customer.client.get(f"/v1/shop/reservations/{number}"), 200)
        return seen if seen["status"] == "cancelled" else None

    for reservation in (confirmed, requested):
        seen = eventually(lambda: cancelled(reservation["number"]), message="open bookings cancelled")
        assert (seen["refund_amount"], seen["fee_amount"]) == (reservation["total"], 0)  # a full refund
    # Selling stops: new bookings are refused and the shop shows the products unavailable.
    for product in (to_cancel, to_serve):
        eventually(lambda: book(customer, product).status_code == 409, message="selling stopped")
        assert_error(book(customer, product), 409, "partner_not_open")
        assert (
            expect(pc.anonymous.get(f"/v1/shop/products/{product['product_id']}"), 200)["display_state"]
            == "unavailable"
        )
    # "serve": the booking made before stays and is served to the end.
    assert (
        expect(serving.admin.client.post(f"{serving.path}/reservations/{kept['number']}/confirm"), 200)["status"]
        == "confirmed"
    )
    # R-ACC-4 no longer holds the admin of a closed partner.
    expect(closing.admin.client.post("/v1/me/withdraw", json={"confirm": True}), 204)
