"""A stand-in for the accounts service in the catalog's own tests and bench,
where no real partner exists: ``partner_info`` and ``storefront`` answer the
contract of accounts.service (R-ACC-8) with every partner verified, except ids
starting with ``pending-`` (awaiting verification) and ``unknown-`` (404);
``get_place`` knows every place id starting with ``place-``."""

from __future__ import annotations

from chassis.errors import NotFound
from chassis.service import ChassisService, rpc


class AccountsStandIn(ChassisService):
    name = "accounts"

    @rpc
    def partner_info(self, partner_id) -> dict:
        if str(partner_id).startswith("unknown-"):
            raise NotFound("partner_not_found", "no such partner")
        status = "pending_verification" if str(partner_id).startswith("pending-") else "verified"
        return {
            "partner_id": partner_id,
            "name": f"Partner {partner_id}",
            "category": "salon",
            "status": status,
            "via_agency": False,
            "time_zone": "Asia/Seoul",
        }

    @rpc
    def get_place(self, partner_id, place_id) -> dict:
        if not str(place_id).startswith("place-"):
            raise NotFound("place_not_found", "no such place")
        return self._place(place_id)

    @rpc
    def storefront(self, partner_id, place_ids=()) -> dict:
        try:
            info = self.partner_info(partner_id)
        except NotFound:
            return {"partner": None, "places": {}}
        return {
            "partner": {k: info[k] for k in ("partner_id", "name", "status")} | {"channel_id": None},
            "places": {p: self._place(p) for p in place_ids if str(p).startswith("place-")},
        }

    @staticmethod
    def _place(place_id) -> dict:
        return {
            "place_id": place_id,
            "name": "본점",
            "address": "서울 강남구 테헤란로 1",
            "phone": "02-555-1234",
            "map_url": None,
        }
