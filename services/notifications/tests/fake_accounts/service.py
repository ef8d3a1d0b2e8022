"""The accounts RPCs notifications needs (``list_staff``), answered from config,
with the same calling convention and caller check as the real accounts, and the
one insights asks of a customer it meets (``customer_contact``: unknown here)."""

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from chassis.errors import NotFound


class FakeAccounts:
    name = "accounts"
    config = Config()

    @rpc
    def list_staff(self, actor, partner_id, query=None):
        if (actor or {}).get("partner_id") != partner_id:
            raise NotFound("partner_not_found", "no such partner")
        return {"items": (self.config.get("STAFF") or {}).get(partner_id, []), "next_cursor": None}

    @rpc
    def operator_ids(self):
        return list(self.config.get("OPERATORS") or [])

    @rpc
    def customer_contact(self, customer_id):
        raise NotFound("customer_not_found", "no such customer")


class AccountsWithoutStaffDirectory:
    """accounts as it may be before the RPC exists: calling list_staff fails (MethodNotFound)."""

    name = "accounts"

    @rpc
    def health(self):
        return {"service": "accounts", "status": "ok"}
