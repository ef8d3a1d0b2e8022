"""R-RSV-12 for orders: a recipient is masked until the waybill needs them,
then shown whole to staff with each access recorded; admins and masters may
reveal the phone on one order, recorded too."""

from support.api import assert_error, expect

from .helpers import ADDRESS, cafe, order


def test_R_RSV_12_recipient_whole_while_shipping_and_reveals_are_recorded(partner_center):
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    admin, member = shop.partner.admin, pc.staff(shop.partner, "member")
    customer = pc.customer_session(phone="010-2222-3333")
    parcel = order(customer, shop, "delivery", [shop.line("Latte")])
    takeout = order(customer, shop, "takeout", [shop.line("Americano")])
    orders = f"{shop.path}/orders"

    received = expect(member.client.get(f"{orders}/{parcel['order_id']}"), 200)
    assert received["shipping_address"]["phone"] == "010-****-5678" and received["contact_access"] == []
    expect(admin.client.post(f"{orders}/{parcel['order_id']}/prepare-shipment"), 200)
    waybill = expect(member.client.get(f"{orders}/{parcel['order_id']}"), 200)
    assert waybill["shipping_address"]["phone"] == ADDRESS["phone"]  # whole, for the waybill
    listed = expect(member.client.get(f"{orders}?channel=delivery"), 200)["items"]
    assert listed[0]["shipping_address"]["phone"] == "010-****-5678"  # lists stay masked

    assert_error(member.client.post(f"{orders}/{takeout['order_id']}/reveal-phone"), 403)
    revealed = expect(admin.client.post(f"{orders}/{takeout['order_id']}/reveal-phone"), 200)
    assert revealed["phone"] == "010-2222-3333"  # the customer's phone the messenger verified

    shipped = expect(admin.client.get(f"{orders}/{parcel['order_id']}"), 200)["contact_access"]
    assert [(a["reason"], a["actor_id"]) for a in shipped] == [
        ("shipping_shown", member.member_id),
        ("shipping_shown", admin.member_id),
    ]
    assert [
        (a["reason"], a["actor_id"])
        for a in expect(admin.client.get(f"{orders}/{takeout['order_id']}"), 200)["contact_access"]
    ] == [("phone_revealed", admin.member_id)]
