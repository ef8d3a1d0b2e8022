"""The accounts RPC notifications needs (``list_staff``), answered from config."""
from nameko.dependency_providers import Config
from nameko.rpc import rpc


class FakeAccounts:
    name = "accounts"
    config = Config()

    @rpc
    def list_staff(self, partner_id):
        return (self.config.get("STAFF") or {}).get(partner_id, [])


class AccountsWithoutStaffDirectory:
    """accounts as it may be before the RPC exists: calling list_staff fails (MethodNotFound)."""
    name = "accounts"

    @rpc
    def health(self):
        return {"service": "accounts", "status": "ok"}
