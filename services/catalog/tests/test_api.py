"""The catalog through the gateway (../shared/api.md, Catalog): roles, tenancy,
review by operators, the shop's view, the dashboard section, the error shape."""

import datetime as dt

from support.api import assert_error, expect

from .helpers import booking_body, day, goods_body


def test_r_cat_5_products_go_through_review_with_roles_and_tenancy_enforced(partner_center):
    pc = partner_center("catalog")
    salon = pc.create_partner(category="salon")
    admin, master, member = salon.admin, pc.staff(salon, "master"), pc.staff(salon, "member")
    customer, operator = pc.customer_session(), pc.operator()
    products = f"{salon.path}/products"
    place = expect(admin.client.post(f"{salon.path}/places", json={"name": "본점", "address": "서울"}), 201)

    def booking(**overrides):
        return booking_body(place_id=place["place_id"], **overrides)

    assert_error(member.client.post(products, json=booking()), 403, "forbidden")  # manage: admin, master
    assert_error(customer.client.post(products, json=booking()), 403, "forbidden")
    assert_error(pc.anonymous.post(products, json=booking()), 401, "unauthenticated")
    error = assert_error(admin.client.post(products, json=booking(partner_id="x", status="approved")), 422)
    assert set(error["details"]["fields"]) == {"partner_id", "status"}
    error = assert_error(
        admin.client.post(
            products,
            json=booking(
                quantity_mode="none",
                prices=[{"label": "adult", "amount": 1, "max_quantity": 2}],
                cancel_policy={"non_refundable": True},
            ),
        ),
        422,
        "validation_failed",
    )
    assert set(error["details"]["fields"]) == {"prices.0.max_quantity", "cancel_policy.non_refundable"}

    draft = expect(admin.client.post(products, json=booking()), 201)
    product = f"{products}/{draft['product_id']}"
    assert draft["review_status"] == "draft" and draft["live"] is None
    assert [p["product_id"] for p in expect(member.client.get(products), 200)["items"]] == [draft["product_id"]]
    assert_error(pc.anonymous.get(f"/v1/shop/products/{draft['product_id']}"), 404, "product_not_found")

    review = expect(master.client.post(f"{product}/submit"), 201)
    assert_error(admin.client.get("/v1/ops/reviews?status=pending"), 403, "forbidden")
    queue = expect(operator.client.get("/v1/ops/reviews?status=pending"), 200)
    assert [r["revision_id"] for r in queue["items"]] == [review["revision_id"]] and queue["next_cursor"] is None
    assert_error(operator.client.post(f"/v1/ops/reviews/{review['revision_id']}/reject", json={}), 422)
    live = expect(operator.client.post(f"/v1/ops/reviews/{review['revision_id']}/approve"), 200)
    assert live["live"]["version"] == 1 and live["display_state"] == "unavailable"  # nothing offered yet

    expect(
        master.client.put(
            f"{product}/inventory",
            json={
                "slots": [
                    {"date": day(), "time": "10:00", "capacity": 4},
                    {"date": day(2), "time": "10:00", "capacity": 4},
                ]
            },
        ),
        200,
    )
    assert_error(member.client.put(f"{product}/inventory", json={"slots": []}), 403, "forbidden")
    blocked = expect(admin.client.post(f"{product}/blocks", json={"dates": [day(2)], "reason": "holiday"}), 201)
    shop = expect(pc.anonymous.get(f"/v1/shop/products/{draft['product_id']}"), 200)
    assert shop["display_state"] == "bookable" and [s["date"] for s in shop["availability"]["slots"]] == [day()]
    expect(admin.client.delete(f"{product}/blocks/{blocked['items'][0]['block_id']}"), 204)
    assert len(expect(member.client.get(f"{product}/inventory"), 200)["slots"]) == 2

    # An edit under review: consumers keep the live version; the partner sees both.
    expect(admin.client.patch(product, json={"name": "Premium cut"}), 200)
    second = expect(admin.client.post(f"{product}/submit"), 201)
    both = expect(member.client.get(product), 200)
    assert (both["live"]["name"], both["pending"]["name"], both["pending"]["status"]) == (
        "Hair cut",
        "Premium cut",
        "pending",
    )
    assert (
        expect(pc.anonymous.get(f"/v1/shop/products?partner_id={salon.partner_id}"), 200)["items"][0]["name"]
        == "Hair cut"
    )
    expect(
        operator.client.post(f"/v1/ops/reviews/{second['revision_id']}/reject", json={"reason": "name is misleading"}),
        200,
    )
    after = expect(admin.client.get(product), 200)
    assert after["live"]["name"] == "Hair cut" and after["last_rejection"]["reason"] == "name is misleading"
    actions = [h["action"] for h in expect(member.client.get(f"{product}/history"), 200)["items"]]
    assert actions == [
        "created",
        "submitted",
        "approved",
        "inventory_set",
        "blocked",
        "unblocked",
        "revision_started",
        "submitted",
        "rejected",
    ]

    # Another partner's staff: the partner does not exist for them, nor does its product under theirs.
    other = pc.create_partner(category="salon")
    assert_error(other.admin.client.get(product), 404, "partner_not_found")
    assert_error(other.admin.client.get(f"{other.path}/products/{draft['product_id']}"), 404, "product_not_found")
    assert_error(
        other.admin.client.patch(f"{other.path}/products/{draft['product_id']}", json={"name": "x"}),
        404,
        "product_not_found",
    )

    dashboard = expect(member.client.get(f"{salon.path}/dashboard"), 200)
    assert dashboard["sections"]["catalog"]["counts"]["bookable"] == 1
    assert dashboard["sections"]["catalog"]["review"]["rejected"] == 1


def test_r_cat_3_shop_goods_sell_out_and_the_shop_lists_follow_the_contract(partner_center):
    pc = partner_center("catalog")
    shop = pc.create_partner(category="fashion")
    operator, key = pc.operator(), pc.api_key(shop)  # a partner's own system manages products too
    products = f"{shop.path}/products"
    place_id = expect(key.post(f"{shop.path}/places", json={"name": "쇼룸", "address": "서울"}), 201)["place_id"]
    created = expect(key.post(products, json=goods_body()), 201)
    review = expect(key.post(f"{products}/{created['product_id']}/submit"), 201)
    live = expect(operator.client.post(f"/v1/ops/reviews/{review['revision_id']}/approve", json={}), 200)
    white, black = (o["option_id"] for o in live["live"]["options"])
    stock = {"stock": [{"option_id": white, "quantity": 0}, {"option_id": black, "quantity": 3}]}
    expect(key.put(f"{products}/{created['product_id']}/inventory", json=stock), 200)
    item = expect(pc.anonymous.get(f"/v1/shop/products/{created['product_id']}"), 200)
    assert [o["sold_out"] for o in item["options"]] == [True, False] and item["display_state"] == "bookable"
    expect(
        key.put(f"{products}/{created['product_id']}/inventory", json={"stock": [{"option_id": black, "quantity": 0}]}),
        200,
    )
    listed = expect(pc.anonymous.get(f"/v1/shop/products?partner_id={shop.partner_id}&limit=500"), 200)
    assert [(p["product_id"], p["display_state"]) for p in listed["items"]] == [(created["product_id"], "closed")]
    assert listed["next_cursor"] is None
    assert_error(pc.anonymous.get("/v1/shop/products"), 422, "validation_failed")
    assert_error(pc.anonymous.get(f"/v1/shop/products?partner_id={shop.partner_id}&cursor=nope"), 422)
    assert_error(pc.anonymous.get("/v1/shop/products/not-a-product"), 404, "product_not_found")
    history = expect(shop.admin.client.get(f"{products}/{created['product_id']}/history"), 200)["items"]
    assert history[0]["actor"] == "api_key" and history[2]["actor"] == operator.member_id

    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    error = assert_error(
        key.patch(
            f"{products}/{created['product_id']}",
            json={"sale_ends_at": "2020-01-01T00:00:00+09:00", "sale_starts_at": later},
        ),
        422,
    )
    assert set(error["details"]["fields"]) == {"sale_ends_at"}
    # R-CAT-1: each schedule type takes its own quantity modes, dates and times.
    error = assert_error(
        key.post(products, json=booking_body(place_id=place_id, schedule_type="anytime", quantity_mode="slot")), 422
    )
    assert set(error["details"]["fields"]) == {"quantity_mode"}
    day_product = expect(
        key.post(products, json=booking_body(place_id=place_id, schedule_type="date", quantity_mode="date")), 201
    )
    day_path = f"{products}/{day_product['product_id']}"
    error = assert_error(
        key.put(f"{day_path}/inventory", json={"slots": [{"date": day(), "time": "10:00", "capacity": 3}]}), 422
    )
    assert set(error["details"]["fields"]) == {"slots.0.time"}
    expect(key.put(f"{day_path}/inventory", json={"slots": [{"date": day(), "capacity": 3}]}), 200)
    assert_error(key.post(f"{day_path}/blocks", json={"times": [{"date": day(), "time": "10:00"}]}), 422)
    # R-CAT-4: before its sale window a product is upcoming.
    expect(key.patch(day_path, json={"sale_starts_at": later}), 200)
    review = expect(key.post(f"{day_path}/submit"), 201)
    expect(operator.client.post(f"/v1/ops/reviews/{review['revision_id']}/approve"), 200)
    assert (
        expect(pc.anonymous.get(f"/v1/shop/products/{day_product['product_id']}"), 200)["display_state"] == "upcoming"
    )

    paths = expect(pc.anonymous.get("/v1/openapi.json"), 200)["paths"]
    assert {
        "/v1/partners/{pid}/products/{product_id}/inventory",
        "/v1/ops/reviews/{rid}/approve",
        "/v1/shop/products/{product_id}",
    } <= set(paths)


def test_r_cat_4_products_of_a_partner_not_open_are_unavailable_and_the_shop_names_partner_and_place(partner_center):
    """Issue 17 items 2, 3 and 14 (R-CAT-4, R-ACC-8): only the partner's own place is
    accepted, a booking product needs one before review, and the shop shows the
    partner's public name and the place (with its map link); until the partner is
    verified its products are unavailable."""
    pc = partner_center("catalog")
    salon = pc.create_partner(category="salon", verified=False, name="다온 헤어")
    other = pc.create_partner(category="salon")
    admin, operator = salon.admin.client, pc.operator()
    products = f"{salon.path}/products"
    theirs = expect(other.admin.client.post(f"{other.path}/places", json={"name": "남의 매장", "address": "부산"}), 201)
    for place_id in (theirs["place_id"], "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        error = assert_error(admin.post(products, json=booking_body(place_id=place_id)), 422, "place_not_found")
        assert set(error["details"]["fields"]) == {"place_id"}
    draft = expect(admin.post(products, json=booking_body(place_id=None)), 201)
    assert (
        "place_id"
        in assert_error(admin.post(f"{products}/{draft['product_id']}/submit"), 422, "place_required")["details"][
            "fields"
        ]
    )
    assert_error(
        admin.patch(f"{products}/{draft['product_id']}", json={"place_id": theirs["place_id"]}), 422, "place_not_found"
    )
    place = expect(
        admin.post(
            f"{salon.path}/places",
            json={
                "name": "강남점",
                "address": "서울 강남구 테헤란로 1",
                "phone": "02-555-1234",
                "map_url": "https://map.kakao.com/link/to/daon,37.5,127.0",
            },
        ),
        201,
    )
    expect(admin.patch(f"{products}/{draft['product_id']}", json={"place_id": place["place_id"]}), 200)
    review = expect(admin.post(f"{products}/{draft['product_id']}/submit"), 201)
    expect(operator.client.post(f"/v1/ops/reviews/{review['revision_id']}/approve"), 200)
    expect(
        admin.put(
            f"{products}/{draft['product_id']}/inventory",
            json={"slots": [{"date": day(), "time": "10:00", "capacity": 4}]},
        ),
        200,
    )

    shop = f"/v1/shop/products/{draft['product_id']}"
    seen = expect(pc.anonymous.get(shop), 200)
    assert seen["display_state"] == "unavailable"  # R-ACC-8: not verified yet
    assert seen["partner"] == {"partner_id": salon.partner_id, "name": "다온 헤어", "channel_id": None}
    assert seen["place"] == {
        "name": "강남점",
        "address": "서울 강남구 테헤란로 1",
        "phone": "02-555-1234",
        "map_url": "https://map.kakao.com/link/to/daon,37.5,127.0",
    }
    listed = expect(pc.anonymous.get(f"/v1/shop/products?partner_id={salon.partner_id}"), 200)["items"]
    assert [p["display_state"] for p in listed] == ["unavailable"]
    pc.verify_partner(salon.partner_id)
    expect(admin.patch(salon.path, json={"channel_id": "@daonhair"}), 200)
    seen = expect(pc.anonymous.get(shop), 200)
    assert (seen["display_state"], seen["partner"]["channel_id"]) == ("bookable", "@daonhair")
