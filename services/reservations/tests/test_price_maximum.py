"""R-CAT-2 with R-RSV-3 (issue 17 item 4), through the gateway: a price's maximum
counts across every date, under 50 concurrent bookings."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from support.api import assert_error, expect

from .helpers import booking_body, day, live_product

DATES = [day(offset) for offset in range(2, 7)]


def test_r_cat_2_price_maximum_counts_across_dates_under_50_concurrent_bookings(partner_center):
    pc = partner_center("catalog", "reservations", gateway_config={"RPC_TIMEOUT": 30})
    partner = pc.create_partner(category="exhibition")
    product = live_product(
        pc,
        partner,
        name="학생 전시",
        prices=[{"label": "student", "amount": 5000, "max_quantity": 10}],
        slots=[{"date": d, "time": "10:00", "capacity": 20} for d in DATES],
    )
    customers = [pc.customer_session() for _ in range(5)]

    def book(index: int):
        body = booking_body(product, date=DATES[index % len(DATES)])
        return customers[index % len(customers)].client.post(
            "/v1/shop/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(book, range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40, statuses
    refusal = assert_error(next(r for r in responses if r.status_code == 409), 409, "capacity_exhausted")
    assert refusal["details"]["max_quantity"] == 10 and "최대 10매" in refusal["message"]
    board = expect(
        partner.admin.client.get(
            f"{partner.path}/reservation-board?product_id={product['product_id']}&from={DATES[0]}&to={DATES[-1]}"
        ),
        200,
    )
    assert sum(slot["taken"] for slot in board["slots"]) == 10
