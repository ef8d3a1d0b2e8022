"""R-RSV-12: lists keep the booker's phone masked; an admin or master reveals
it on one reservation, and the reveal is a step of its history (who, when)."""

from support.api import assert_error, expect

from .helpers import booked, day, live_product


def test_R_RSV_12_a_reveal_shows_the_whole_phone_to_admins_and_masters_and_is_recorded(partner_center):
    pc = partner_center("catalog", "reservations")
    partner = pc.create_partner(category="salon")
    product = live_product(pc, partner, slots=[{"date": day(), "time": "10:00", "capacity": 9}])
    number = booked(pc.customer_session(), product, booker={"name": "김다온", "phone": "010-1234-5678"})["number"]
    path = f"{partner.path}/reservations/{number}"
    master, member = pc.staff(partner, "master"), pc.staff(partner, "member")

    assert (
        expect(member.client.get(f"{partner.path}/reservations"), 200)["items"][0]["booker"]["phone"] == "010-****-5678"
    )
    assert_error(member.client.post(f"{path}/reveal-phone"), 403)
    assert_error(pc.api_key(partner).post(f"{path}/reveal-phone"), 403, "api_key_not_allowed")
    assert_error(pc.create_partner().admin.client.post(f"{path}/reveal-phone"), 404)
    for who in (partner.admin, master):
        assert expect(who.client.post(f"{path}/reveal-phone"), 200)["phone"] == "010-1234-5678"

    shown = expect(member.client.get(path), 200)
    reveals = [(s["actor_kind"], s["actor_id"]) for s in shown["history"] if s["action"] == "phone_revealed"]
    assert reveals == [("member", partner.admin.member_id), ("member", master.member_id)]
    assert shown["booker"]["phone"] == "010-****-5678"  # still masked in the view
