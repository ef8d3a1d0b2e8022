"""R-ACC-3 extended (issue 16): an erased customer's free text goes too: what
they wrote in inquiries and refund requests may name them or give a phone."""

from chassis.privacy import pseudonym
from chassis.testing import eventually
from chassis.tests.broker import erasure, publish_envelope
from support.api import expect

from .helpers import cafe, db_rows, order


def test_R_ACC_3_erasure_clears_inquiries_and_request_reasons(partner_center, amqp_uri):
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    customer, other = pc.customer_session(), pc.customer_session()
    mine, theirs = (order(c, shop, "takeout", [shop.line("Americano")]) for c in (customer, other))
    for who, placed in ((customer, mine), (other, theirs)):
        expect(
            who.client.post(
                f"/v1/shop/orders/{placed['order_id']}/inquiries", json={"body": "김다온 010-1234-5678 로 연락 주세요"}
            ),
            201,
        )
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    alias = pseudonym("customer", customer.customer_id)
    publish_envelope(amqp_uri, erasure("customer", customer.customer_id))
    eventually(
        lambda: db_rows(orders_db, "SELECT body FROM inquiries WHERE customer_id = %s", (alias,)) == [("",)],
        timeout=20,
        message="the erased customer's inquiry text is gone",
    )
    assert db_rows(orders_db, "SELECT body FROM inquiries WHERE customer_id = %s", (other.customer_id,)) == [
        ("김다온 010-1234-5678 로 연락 주세요",)
    ]  # another customer's stays
