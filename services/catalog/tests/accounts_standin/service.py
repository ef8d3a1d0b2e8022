"""A stand-in for the accounts service in the catalog's own tests and bench,
where no real partner exists: ``partner_info`` answers the contract of
accounts.service (R-ACC-8) with every partner verified, except ids starting
with ``pending-`` (awaiting verification) and ``unknown-`` (404)."""
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
        return {"partner_id": partner_id, "name": f"Partner {partner_id}", "category": "salon", "status": status,
                "via_agency": False, "time_zone": "Asia/Seoul"}
