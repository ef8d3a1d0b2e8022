"""The authorization matrix: every route of the gateway's own route table x
every kind of caller, compared with tests/authz/expected_access.py.

Only accounts runs: a route whose service is absent answers 503 after
authorization, which counts as passed. Refused means 401, 403, or 404
``partner_not_found`` (the gateway's partner check). Path parameters other
than ``<pid>`` (always partner A) get an id that exists nowhere, and bodies
are ``{}``, so no route changes anything that matters to the next call.
"""

import re

import eventlet
import pytest

from gateway.http import routes_of
from gateway.service import GatewayService

from .expected_access import (
    ANONYMOUS,
    API_KEY,
    CALLERS,
    CUSTOMER,
    EXPECTED,
    MEMBER,
    OPERATOR,
    OTHER_ADMIN,
    OTHER_API_KEY,
    PARTNER_ADMIN,
    PARTNER_MASTER,
    PARTNER_MEMBER,
)

PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
NOWHERE = "00000000-0000-4000-8000-00000000abcd"
PARTNER_PREFIX = "/v1/partners/<pid>"
RUNS_LAST = {("DELETE", "/v1/sessions/current")}  # it ends the caller's session


def test_every_route_has_exactly_one_expected_entry():
    routes = set(routes_of(GatewayService))
    missing = sorted(routes - set(EXPECTED), key=lambda r: (r[1], r[0]))
    stale = sorted(set(EXPECTED) - routes, key=lambda r: (r[1], r[0]))
    assert not missing, f"routes without a line in tests/authz/expected_access.py: {missing}"
    assert not stale, f"lines in tests/authz/expected_access.py for routes that do not exist: {stale}"


def expected_outcome(caller: str, method: str, url: str):
    if caller in EXPECTED[(method, url)]:
        return "passed"
    if caller == ANONYMOUS:
        return 401
    if url.startswith(PARTNER_PREFIX) and caller in (MEMBER, OTHER_ADMIN, OTHER_API_KEY):
        return 404
    return 403


def observed_outcome(response):
    if response.status_code in (401, 403):
        return response.status_code
    if response.status_code == 404 and response.json()["error"]["code"] == "partner_not_found":
        return 404
    return "passed"


@pytest.fixture
def callers(platform):
    pc = platform
    a, b = pc.create_partner(category="salon"), pc.create_partner(category="cafe")
    clients = {
        ANONYMOUS: pc.anonymous,
        CUSTOMER: pc.customer_session().client,
        MEMBER: pc.sign_up_member().client,
        PARTNER_MEMBER: pc.staff(a, "member").client,
        PARTNER_MASTER: pc.staff(a, "master").client,
        PARTNER_ADMIN: a.admin.client,
        API_KEY: pc.api_key(a),
        OPERATOR: pc.operator().client,
        OTHER_ADMIN: b.admin.client,
        OTHER_API_KEY: pc.api_key(b),
    }
    assert set(clients) == set(CALLERS)
    return a, clients


def check_caller(caller: str, client, routes, partner_id: str) -> list[tuple[str, str, object, object, int, str]]:
    """Every route as one caller, in order (the logout last): (method, url, want, got, status, text)."""
    results = []
    for method, url in routes:
        path = PARAM.sub(lambda m: partner_id if m.group(1) == "pid" else NOWHERE, url)
        response = client.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
        results.append(
            (
                method,
                url,
                expected_outcome(caller, method, url),
                observed_outcome(response),
                response.status_code,
                response.text[:160],
            )
        )
    return results


def test_authorization_matrix_has_no_mismatch(callers):
    partner_a, clients = callers
    routes = sorted(routes_of(GatewayService), key=lambda r: (r in RUNS_LAST, r[1], r[0]))
    pool = eventlet.GreenPool(len(CALLERS))  # callers side by side; each one's routes in order
    results = {
        caller: rows
        for caller, rows in zip(
            CALLERS,
            pool.imap(lambda caller: check_caller(caller, clients[caller], routes, partner_a.partner_id), CALLERS),
            strict=True,
        )
    }
    mismatches, server_errors = [], []
    for caller, rows in results.items():
        for method, url, want, got, status, text in rows:
            if status >= 500 and status != 503:
                server_errors.append(f"{method} {url} as {caller}: {status} {text}")
            if want != got:
                mismatches.append(f"{method} {url} as {caller}: expected {want}, got {status} {text}")
    checked = sum(len(rows) for rows in results.values())
    print(
        f"authorization matrix: {len(routes)} routes x {len(CALLERS)} callers = {checked} checks, "
        f"{len(mismatches)} mismatches"
    )
    assert not server_errors, "\n".join(server_errors)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(sorted(mismatches))
    assert checked == len(EXPECTED) * len(CALLERS)
