"""R-ACC-13: API keys are the partner's, not a person's: scopes, expiry, last
use, revocation; a demoted or withdrawn creator changes nothing; every action
through a key is recorded as ``api_key:<id>``. (Here because orders is the
history the key writes to; the key rules live in accounts and gateway.auth.)"""

import psycopg

from support.api import assert_error, expect

from .helpers import cafe, db_rows, order


def test_R_ACC_13_a_demoted_members_key_keeps_only_its_scopes_and_acts_as_itself(partner_center):
    pc = partner_center("catalog", "orders")
    shop = cafe(pc)
    creator, other_admin = shop.partner.admin, pc.staff(shop.partner, "admin")
    orders_key = pc.api_key(shop.partner, by=creator, name="POS", scopes=["orders:write"])
    reader = pc.api_key(shop.partner, by=creator, name="report", scopes=["orders:read"])
    placed = order(pc.customer_session(), shop, "takeout", [shop.line("Americano")])
    orders_path = f"{shop.path}/orders"

    # The creator is demoted to member, then withdraws: the keys keep exactly their scopes.
    expect(other_admin.client.patch(f"{shop.path}/members/{creator.member_id}", json={"role": "member"}), 200)
    assert_error(creator.client.post(f"{shop.path}/api-keys", json={"name": "x", "scopes": ["orders:read"]}), 403)
    expect(creator.client.post("/v1/me/withdraw", json={"confirm": True}), 204)

    expect(orders_key.post(f"{orders_path}/{placed['order_id']}/start-preparing"), 200)
    assert expect(reader.get(f"{orders_path}/{placed['order_id']}"), 200)["status"] == "preparing"
    error = assert_error(reader.post(f"{orders_path}/{placed['order_id']}/complete"), 403, "scope_missing")
    assert error["details"] == {"scope": "orders:write"}
    for path, body in (
        (f"{shop.path}/products", {"kind": "goods", "name": "x"}),
        (f"{shop.path}/places", {"name": "x", "address": "y"}),
        (f"{shop.path}/webhooks", {"url": "https://example.com/h", "events": []}),
    ):
        assert_error(orders_key.post(path, json=body), 403, "scope_missing")
    assert_error(orders_key.get(f"{shop.path}/ledger"), 403, "scope_missing")
    assert_error(orders_key.get(f"{shop.path}/api-keys"), 403)  # keys are managed by a person

    # The history names the key, not a person.
    orders_db = pc.containers["orders"].config["DATABASE_URL"]
    assert db_rows(orders_db, "SELECT actor_id FROM orders WHERE order_id = %s", (placed["order_id"],)) == [
        (f"api_key:{orders_key.api_key_id}",)
    ]

    # Listed with its scopes, creator and last use (never the key); revoked, it opens nothing.
    listed = {k["api_key_id"]: k for k in expect(other_admin.client.get(f"{shop.path}/api-keys"), 200)["items"]}
    assert listed[orders_key.api_key_id]["scopes"] == ["orders:write"]
    assert listed[orders_key.api_key_id]["created_by"] is None  # the creator withdrew; the key stays
    assert listed[orders_key.api_key_id]["last_used_at"] is not None
    assert orders_key.token not in str(listed)
    expect(other_admin.client.delete(f"{shop.path}/api-keys/{orders_key.api_key_id}"), 204)
    assert_error(orders_key.get(f"{orders_path}/{placed['order_id']}"), 401, "invalid_token")


def test_R_ACC_13_keys_expire_only_admins_give_them_and_scopes_are_checked(platform):
    pc = platform
    partner = pc.create_partner()
    master = pc.staff(partner, "master")
    keys = f"{partner.path}/api-keys"
    assert_error(master.client.post(keys, json={"name": "x", "scopes": ["orders:read"]}), 403)
    for bad in (
        {"name": "x"},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["orders:admin"]},
        {"name": "x", "scopes": ["orders:read"], "expires_at": "2020-01-01T00:00:00+09:00"},
        {"name": "x", "scopes": ["orders:read"], "expires_at": "2099-01-01T00:00:00"},
    ):  # no offset
        error = assert_error(partner.admin.client.post(keys, json=bad), 422)
        assert {field.split(".")[0] for field in error["details"]["fields"]} & {"scopes", "expires_at"}, (bad, error)
    key = pc.api_key(partner, scopes=["products:read"], expires_at="2099-01-01T00:00:00+09:00")
    assert expect(key.get(f"{partner.path}/places"), 200)["items"] == []
    assert_error(key.post(f"{partner.path}/places", json={"name": "x", "address": "y"}), 403, "scope_missing")
    with psycopg.connect(pc.containers["accounts"].config["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s", (key.api_key_id,))
    assert_error(key.get(f"{partner.path}/places"), 401, "invalid_token")
