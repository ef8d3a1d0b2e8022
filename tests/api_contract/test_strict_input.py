"""Issue 15, defect 3 and query-string errors, through the gateway: numbers
are not dates, booleans are not money, nothing is coerced
(``chassis.validation``); a query error is a 422 naming the parameter, never
``body``."""

from __future__ import annotations

from api_contract.salon import salon_with_a_product
from support.api import assert_error, expect

TIMESTAMP = "1796342400"  # 2026-12-04 as seconds: pydantic alone reads it as a date


def refused_fields(response) -> dict:
    error = assert_error(response, 422, "validation_failed")
    fields = error["details"]["fields"]
    assert "body" not in fields, error
    return fields


def test_numbers_are_not_dates_in_queries(partner_center):
    pc = partner_center("catalog", "reservations", "settlement")
    partner = pc.create_partner(category="salon")
    admin = partner.admin.client

    assert set(refused_fields(admin.get(f"{partner.path}/sales-summary?from={TIMESTAMP}"))) == {"from"}
    assert set(refused_fields(admin.get(f"{partner.path}/sales-summary?to=2026-12-4"))) == {"to"}
    assert set(refused_fields(admin.get(f"{partner.path}/ledger?from={TIMESTAMP}"))) == {"from"}
    assert set(refused_fields(admin.get(f"{partner.path}/reservations?from={TIMESTAMP}"))) == {"from"}
    assert set(refused_fields(admin.get(f"{partner.path}/reservations?date={TIMESTAMP}"))) == {"date"}
    assert set(
        refused_fields(admin.get(f"{partner.path}/reservation-board?product_id=p&from={TIMESTAMP}&to=2026-12-31"))
    ) == {"from"}

    # The same parameters written as the contract writes them are read.
    summary = expect(admin.get(f"{partner.path}/sales-summary?from=2026-01-01&to=2026-01-31"), 200)
    assert summary is not None
    expect(admin.get(f"{partner.path}/ledger?from=2026-01-01&to=2026-01-31&limit=5"), 200)
    expect(admin.get(f"{partner.path}/reservations?date=2026-01-01&limit=20"), 200)


def test_query_errors_name_the_parameter(partner_center):
    pc = partner_center("catalog", "reservations", "settlement")
    partner = pc.create_partner(category="salon")
    admin = partner.admin.client
    customer = pc.customer_session()

    for path in (
        f"{partner.path}/reservations",
        f"{partner.path}/products",
        f"{partner.path}/ledger",
        f"{partner.path}/coupons",
    ):
        for limit in ("ten", "20.0", "", "true"):
            assert set(refused_fields(admin.get(f"{path}?limit={limit}"))) == {"limit"}, (path, limit)
        assert set(refused_fields(admin.get(f"{path}?cursor=not-ours"))) == {"cursor"}, path
    assert set(refused_fields(customer.client.get("/v1/shop/reservations?limit=x"))) == {"limit"}
    assert set(refused_fields(admin.get(f"{partner.path}/ledger?from=2026-02-01&to=2026-01-01"))) == {"from"}
    error = assert_error(admin.get(f"{partner.path}/sales-summary?from=2026-01-01&to=2025-01-01"), 422)
    assert set(error["details"]["fields"]) == {"from"}

    # A limit out of range is clamped to 1..100, not refused (../shared/api.md, Lists).
    assert expect(admin.get(f"{partner.path}/products?limit=0"), 200)["items"] == []
    assert expect(admin.get(f"{partner.path}/products?limit=1000"), 200)["next_cursor"] is None
    assert expect(admin.get(f"{partner.path}/products?limit=2177167942085972736"), 200)["next_cursor"] is None


def test_bodies_take_only_their_json_types(partner_center):
    pc = partner_center("catalog")
    partner, place, product = salon_with_a_product(pc)
    admin = partner.admin.client
    blocks = f"{partner.path}/products/{product['product_id']}/blocks"

    assert set(refused_fields(admin.post(blocks, json={"dates": [0]}))) == {"dates.0"}
    assert set(refused_fields(admin.post(blocks, json={"dates": [TIMESTAMP]}))) == {"dates.0"}
    coupon = {"name": "Welcome", "discount_type": "fixed", "distribution": "code", "code": "WELCOME1"}
    assert set(refused_fields(admin.post(f"{partner.path}/coupons", json={**coupon, "amount": True}))) == {"amount"}
    assert set(refused_fields(admin.post(f"{partner.path}/coupons", json={**coupon, "amount": "5000"}))) == {"amount"}
    assert set(refused_fields(admin.post(f"{partner.path}/coupons", json={**coupon, "amount": 5000.5}))) == {"amount"}
    assert set(
        refused_fields(
            admin.post(
                f"{partner.path}/products",
                json={
                    "kind": "booking",
                    "name": 7,
                    "description": "Cut",
                    "images": [],
                    "schedule_type": "datetime",
                    "quantity_mode": "slot",
                    "prices": [{"label": "adult", "amount": True}],
                    "payment": "none",
                    "place_id": place["place_id"],
                },
            )
        )
    ) == {"name", "prices.0.amount"}

    created = expect(admin.post(f"{partner.path}/coupons", json={**coupon, "amount": 5000}), 201)
    assert created["amount"] == 5000
