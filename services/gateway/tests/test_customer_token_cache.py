"""The gateway remembers customer tokens for CUSTOMER_AUTH_CACHE_SECONDS
(gateway.auth): a logout through the gateway ends the token at once, a
session ended elsewhere ends within those seconds, and staff are never cached."""

import time

from chassis.testing import eventually
from support.api import assert_error, expect

CACHE_SECONDS = 1.5


def test_customer_tokens_are_cached_briefly_and_logout_forgets_them_at_once(partner_center, rpc):
    pc = partner_center("notifications", gateway_config={"CUSTOMER_AUTH_CACHE_SECONDS": CACHE_SECONDS})
    ended_elsewhere = pc.customer_session()
    logged_out = pc.customer_session()
    for customer in (ended_elsewhere, logged_out):
        expect(customer.client.get("/v1/shop/messages"), 200)

    # Ended behind the gateway's back (as an erasure does): honoured until the entry expires.
    rpc.accounts.logout(ended_elsewhere.token)
    ended_at = time.monotonic()
    assert ended_elsewhere.client.get("/v1/shop/messages").status_code == 200
    eventually(
        lambda: ended_elsewhere.client.get("/v1/shop/messages").status_code == 401,
        timeout=10,
        message="the cached customer token expiring",
    )
    assert time.monotonic() - ended_at < CACHE_SECONDS + 5

    # Logged out through this gateway: refused on the very next request.
    assert expect(logged_out.client.delete("/v1/sessions/current"), 204) is None
    assert_error(logged_out.client.get("/v1/shop/messages"), 401)


def test_partner_staff_are_never_cached(partner_center, rpc):
    pc = partner_center(gateway_config={"CUSTOMER_AUTH_CACHE_SECONDS": 60})
    partner = pc.create_partner()
    admin = partner.admin
    expect(admin.client.get(partner.path), 200)
    rpc.accounts.logout(admin.token)
    assert_error(admin.client.get(partner.path), 401, "invalid_token")
