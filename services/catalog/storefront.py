"""What the shop shows with a product besides the product (R-CAT-4, R-ACC-8,
R-ACC-14; issue 17 items 2 and 3): the partner's public name and the place
where it is used, both from accounts, which owns them, and whether the partner
sells at all. A product of a partner that is not verified (pending, rejected,
closed) or that accounts does not know is ``unavailable`` whatever its stock.

Places are checked when a product names one: only the partner's own place is
accepted (422 ``place_not_found`` naming ``place_id``). That a booking product
needs one before it goes to review (422 ``place_required``) is the domain's
(``Product.submit``).
"""

from __future__ import annotations

from chassis.errors import NotFound, ValidationFailed

SELLING = "verified"


def storefronts(accounts, partner_id: str, place_ids) -> dict:
    """accounts' answer for one partner and the places named."""
    return accounts.storefront(partner_id, sorted({p for p in place_ids if p}))


def decorate(view: dict, storefront: dict) -> dict:
    """A shop view with ``partner`` and ``place``; unavailable unless the partner sells."""
    partner = storefront.get("partner")
    place = storefront["places"].get(view.get("place_id")) if view.get("place_id") else None
    decorated = {
        **view,
        "partner": {
            "partner_id": partner["partner_id"],
            "name": partner["name"],
            "channel_id": partner.get("channel_id"),
        }
        if partner
        else None,
        "place": {k: place[k] for k in ("name", "address", "phone", "map_url")} if place else None,
    }
    if partner is None or partner["status"] != SELLING:
        decorated["display_state"] = "unavailable"
    return decorated


def check_place(accounts, partner_id: str, place_id: str | None) -> None:
    """422 unless ``place_id`` is one of the partner's own places."""
    if place_id is None:
        return
    try:
        accounts.get_place(partner_id, place_id)
    except NotFound:
        raise ValidationFailed(
            "place_not_found",
            "this is not a place of the partner: register it first",
            {"fields": {"place_id": "not a place of this partner"}},
        ) from None
