"""Timers (R-CAT-6, R-RSV-1) with two reservations instances on one database:
unconfirmed requests expire, unpaid bookings complete after the use date,
prepaid ones with auto-cancel become no-shows; every due reservation changes
once whatever the instances racing on it, with one event each."""

import datetime as dt

from nameko.standalone.rpc import ClusterRpcProxy

from chassis.partner_time import PARTNER_TIME_ZONE
from chassis.testing import eventually
from support.api import expect

from .helpers import booked, day, live_product, outbox

NO_TIMERS = {"TIMERS": False}  # only the passes this test runs, "as of" the times it picks


def race(rpc, as_of: dt.datetime, copies: int = 4) -> dict:
    """The same pass on both instances at once; the summed counts."""
    replies = [rpc.reservations.run_timers.call_async({"as_of": as_of.isoformat()}) for _ in range(copies)]
    total: dict = {}
    for reply in replies:
        for key, value in reply.result().items():
            total[key] = total.get(key, 0) + value
    return total


def test_r_cat_6_timers_expire_complete_and_no_show_once_with_two_instances(partner_center, run_service):
    pc = partner_center("catalog", "reservations", "notifications", service_config={"reservations": NO_TIMERS})
    url = pc.containers["reservations"].config["DATABASE_URL"]
    run_service("reservations", DATABASE_URL=url, **NO_TIMERS)  # a second instance on the same database
    partner = pc.create_partner(category="studio")
    customer = pc.customer_session()
    tomorrow = [{"date": day(1), "time": "10:00", "capacity": 5}]
    quick = live_product(pc, partner, name="Quick", slots=tomorrow, settings={"request_ttl_hours": 1})
    patient = live_product(pc, partner, name="Patient", slots=tomorrow)
    unpaid = live_product(pc, partner, name="Unpaid", slots=tomorrow, settings={"confirmation": "auto"})
    unused = live_product(
        pc,
        partner,
        name="Auto-cancel",
        slots=tomorrow,
        payment="prepaid",
        cancel_policy={"deadline_hours_before": 24, "auto_cancel_unused": True},
        settings={"confirmation": "auto"},
    )
    kept = live_product(pc, partner, name="Kept", slots=tomorrow, payment="prepaid", settings={"confirmation": "auto"})
    made = {
        name: booked(customer, product, date=day(1))["number"]
        for name, product in (
            ("quick", quick),
            ("patient", patient),
            ("unpaid", unpaid),
            ("unused", unused),
            ("kept", kept),
        )
    }

    def status(name):
        return expect(partner.admin.client.get(f"{partner.path}/reservations/{made[name]}"), 200)

    with ClusterRpcProxy({"AMQP_URI": pc.containers["reservations"].config["AMQP_URI"]}, timeout=60) as rpc:
        now = dt.datetime.now(dt.UTC)
        first = race(rpc, now + dt.timedelta(hours=2))
        assert (first["expired"], first["completed"], first["no_show"]) == (1, 0, 0)
        expired = status("quick")
        assert (expired["status"], expired["reason"]) == ("cancelled", "request_expired")
        board = expect(
            partner.admin.client.get(
                f"{partner.path}/reservation-board?product_id={quick['product_id']}&from={day(1)}&to={day(1)}"
            ),
            200,
        )
        assert board["slots"][0]["remaining"] == 5  # its seat went back to the catalog
        assert [status(n)["status"] for n in ("patient", "unpaid", "unused", "kept")] == [
            "requested",
            "confirmed",
            "confirmed",
            "confirmed",
        ]

        day_after_use = dt.datetime.combine(dt.date.fromisoformat(day(2)), dt.time(1, 0), PARTNER_TIME_ZONE)
        second = race(rpc, day_after_use)
        assert (second["expired"], second["completed"], second["no_show"]) == (1, 1, 1)
        assert [status(n)["status"] for n in ("patient", "unpaid", "unused", "kept")] == [
            "cancelled",
            "completed",
            "no_show",
            "confirmed",
        ]
        assert status("unused")["fee_amount"] == 30000
        # R-RSV-9: the board explains every seat taken, the no-show's included (issue 17 item 7).
        slot = expect(
            partner.admin.client.get(
                f"{partner.path}/reservation-board?product_id={unused['product_id']}&from={day(1)}&to={day(1)}"
            ),
            200,
        )["slots"][0]
        assert (slot["no_show"], slot["taken"]) == (1, slot["requested"] + slot["confirmed"] + slot["completed"] + 1)

        # R-CAT-6 (issue 17 item 15): nobody acted, yet the unpaid booking's customer is invited to
        # review, once, and may review it.
        def completed_messages():
            items = expect(customer.client.get("/v1/shop/messages?limit=100"), 200)["items"]
            return [m for m in items if m["title"] == "이용 완료"] or None

        invited = eventually(completed_messages, message="visit-complete message")
        assert len(invited) == 1 and "write_review" in [a["kind"] for a in invited[0]["actions"]]
        expect(
            customer.client.post(
                f"/v1/shop/reservations/{made['unpaid']}/reviews", json={"rating": 5, "body": "좋았어요"}
            ),
            201,
        )
        assert race(rpc, day_after_use + dt.timedelta(days=1)) == {
            "expired": 0,
            "completed": 0,
            "no_show": 0,
            "abandoned_attempts": 0,
            "releases_sent": 0,
        }
        totals = rpc.reservations.settlement_totals(partner.partner_id, day(0), day(0))[partner.partner_id]
        assert (totals["sales"], totals["fees"]) == (30000, 30000)

    events = [(e["type"], e["reservation_number"], e["actor"]) for e in outbox(url) if e["actor"] == "system"]
    assert sorted(events) == sorted(
        [
            ("reservation.confirmed", made["unpaid"], "system"),
            ("reservation.confirmed", made["unused"], "system"),
            ("reservation.confirmed", made["kept"], "system"),
            ("reservation.expired", made["quick"], "system"),
            ("reservation.expired", made["patient"], "system"),
            ("reservation.completed", made["unpaid"], "system"),
            ("reservation.no_show", made["unused"], "system"),
        ]
    )
