"""The partner the contract suites run against: a verified salon with a place and a bookable product."""

from __future__ import annotations

from support.api import Partner, expect


def salon_with_a_product(pc) -> tuple[Partner, dict, dict]:
    """A new verified salon, its place (본점) and a live datetime product at that place (30,000 a slot)."""
    partner = pc.create_partner(category="salon")
    admin = partner.admin.client
    place = expect(admin.post(f"{partner.path}/places", json={"name": "본점", "address": "서울"}), 201)
    product = expect(
        admin.post(
            f"{partner.path}/products",
            json={
                "kind": "booking",
                "name": "Hair cut",
                "description": "Cut",
                "images": [],
                "schedule_type": "datetime",
                "quantity_mode": "slot",
                "prices": [{"label": "adult", "amount": 30000}],
                "payment": "none",
                "place_id": place["place_id"],
            },
        ),
        201,
    )
    return partner, place, product
