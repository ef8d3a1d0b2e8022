"""R-ACC-13: every partner route is held to a scope when an API key calls it
(chassis.scopes), so a new route cannot slip through unscoped."""

from chassis import scopes
from gateway.http import routes_of
from gateway.service import GatewayService

PERSON_ONLY = {"members", "invitations", "api-keys"}  # accounts refuses keys there (api_key_not_allowed)


def test_R_ACC_13_every_partner_route_needs_a_scope_or_is_a_plain_read():
    unscoped = []
    for method, url in routes_of(GatewayService):
        if not url.startswith("/v1/partners/<pid>"):
            continue
        segment = url[len("/v1/partners/<pid>") :].lstrip("/").split("/")[0]
        needed = scopes.scope_of(method, url)
        if (
            needed is None
            and segment not in PERSON_ONLY
            and not (method == "GET" and segment in scopes.READS_WITHOUT_SCOPE)
        ):
            unscoped.append((method, url))
        if needed not in (None, scopes.NO_SCOPE):
            assert needed in scopes.ALL_SCOPES, (method, url, needed)
    assert unscoped == []


def test_R_ACC_13_write_includes_read_and_nothing_else():
    assert scopes.grants(["orders:write"], "orders:read") and scopes.grants(["orders:read"], "orders:read")
    assert not scopes.grants(["orders:read"], "orders:write")
    assert not scopes.grants(["orders:write"], "products:read")
    assert not scopes.grants(scopes.ALL_SCOPES, scopes.NO_SCOPE)
    assert scopes.scope_of("POST", "/v1/partners/<pid>/reservations/<number>/confirm") == "reservations:write"
    assert scopes.scope_of("GET", "/v1/partners/<pid>/ledger") == "settlement:read"
    assert scopes.scope_of("PATCH", "/v1/partners/<pid>") == "products:write"
    assert scopes.scope_of("GET", "/v1/partners/<pid>/dashboard") is None
