"""Acceptance (issue 23), in a real browser: a statistics page whose figures equal those of the API
for a scripted sequence (orders completed, cancelled, left open), and the customer list with
search and segments (R-RSV-8: masked phones; R-ACC-11: members see no money)."""

from __future__ import annotations

import datetime as dt

import pytest

from chassis.testing import eventually
from orders.tests.helpers import cafe, order
from support.api import expect

SEOUL = dt.timezone(dt.timedelta(hours=9))


@pytest.mark.timeout(480)
def test_R_ORD_1_statistics_in_the_console_equal_the_api_for_a_scripted_sequence(console):
    site = console("catalog", "orders", "insights")
    pc = site.pc
    store = cafe(pc)
    member = pc.staff(store.partner, "member")
    admin = store.partner.admin.client
    daon, seojun = pc.customer_session(name="김다온"), pc.customer_session(name="이서준")

    def act(placed, action):
        expect(admin.post(f"{store.path}/orders/{placed['order_id']}/{action}", json={}), 200)

    # The script: two completed, one cancelled, one left received.
    first = order(daon, store, "takeout", [store.line("Americano", 2), store.line("Latte")])
    act(first, "start-preparing"), act(first, "complete")
    second = order(seojun, store, "dine_in", [store.line("Latte", 3)])
    act(second, "start-preparing"), act(second, "complete")
    act(order(seojun, store, "takeout", [store.line("Americano")]), "cancel")
    order(daon, store, "delivery", [store.line("Latte", 2)])

    today = dt.datetime.now(SEOUL).date().isoformat()
    path = f"{store.path}/statistics?from={today}&to={today}"
    expected_states = {"received": 1, "completed": 2, "cancelled": 1}
    stats = eventually(
        lambda: (
            lambda body: body if {k: v for k, v in body["orders"]["by_state"].items() if v} == expected_states else None
        )(expect(admin.get(path), 200)),
        timeout=60,
        message="insights counted the script's orders",
    )
    assert stats["revenue"]["sales"] >= 9000 + 5000 + 15000  # the completed ones at least
    customers = expect(admin.get(f"{store.path}/customers"), 200)["items"]
    assert {c["name"] for c in customers} == {"김다온", "이서준"}
    listed = [
        {
            "customer_id": c["customer_id"],
            "name": c["name"],
            "phone": c["phone"],
            "last4": (daon if c["name"] == "김다온" else seojun).phone[-4:],
        }
        for c in customers
    ]
    site.play(
        "commerce_stories.statistics_story",
        partner_id=store.partner.partner_id,
        admin_login=store.partner.admin.login_id,
        member_login=member.login_id,
        stats=stats,
        customers=sorted(listed, key=lambda c: c["name"]),
    )
