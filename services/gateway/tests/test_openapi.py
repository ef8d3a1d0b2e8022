"""The contract's document is complete (issue 15): every operation of every
route says who may call it, what it takes and what it answers, and the served
document is valid OpenAPI 3.1 (openapi-spec-validator).

Whether a handler reads a body or a query is read off its source
(``request.json_body``, ``query_of``/``request.query``), so a route added
without its models fails here, not in a client developer's hands.
"""

from __future__ import annotations

import inspect
import re

import pytest
import requests
from openapi_spec_validator import validate

from gateway.http import routes_of
from gateway.openapi import build_document
from gateway.service import GatewayService

# Operations whose models are still being written (issue 15), one per line so that work on different
# areas merges; the list only shrinks. A route added from now on must not join it.
PENDING: set[str] = set()  # every operation has its models (issue 15 parts A and B)

ROUTES = {spec.handler_name: spec for spec in routes_of(GatewayService).values() if not spec.hidden}
DOCUMENT = build_document(routes_of(GatewayService))
OPERATIONS = {
    op["operationId"]: (path, verb, op) for path, item in DOCUMENT["paths"].items() for verb, op in item.items()
}
CHECKED = sorted(set(OPERATIONS) - PENDING)


def handler_source(name: str) -> str:
    return inspect.getsource(getattr(GatewayService, name))


def test_operation_ids_are_unique_and_every_route_is_documented():
    count = sum(len(item) for item in DOCUMENT["paths"].values())
    assert count == len(OPERATIONS) == len(ROUTES)
    assert not PENDING - set(OPERATIONS), "PENDING names operations that do not exist"


@pytest.mark.parametrize("operation_id", CHECKED)
def test_every_operation_is_complete(operation_id):
    path, verb, op = OPERATIONS[operation_id]
    route, source = ROUTES[operation_id], handler_source(operation_id)
    assert op["summary"] and op["tags"] and "security" in op
    if "request.json_body" in source:
        assert "requestBody" in op, f"{verb} {path} reads a body: declare body_model"
    if re.search(r"query_of\(request\)|request\.query\b|inbox_query\(request\)", source):
        assert route.query_model is not None, f"{verb} {path} reads the query string: declare query_model"
    successes = [status for status in op["responses"] if status.startswith("2")]
    assert successes, f"{verb} {path} documents its success"
    for status in set(successes) - {"204"}:
        # a stream (server-sent events) documents its media type in place of a JSON schema
        media = route.stream or "application/json"
        assert op["responses"][status].get("content", {}).get(media, {}).get("schema"), (
            f"{verb} {path} documents its {status} body"
        )
    for status, response in op["responses"].items():
        if status.startswith("4"):
            assert response["x-error-codes"], f"{verb} {path} {status} names its codes"


def test_operations_that_need_a_token_declare_the_schemes_of_the_access_table():
    for operation_id, (_, _, op) in OPERATIONS.items():
        schemes = {name for requirement in op["security"] for name in requirement}
        access = ROUTES[operation_id].access
        expected = {
            "public": set(),
            "customer": {"customerToken"},
            "member": {"staffToken"},
            "operator": {"staffToken"},
        }.get(access, {"staffToken", "partnerApiKey"})
        assert schemes == expected, operation_id
        if access != "public":
            assert "unauthenticated" in op["responses"]["401"]["x-error-codes"], operation_id


def test_the_served_document_is_valid_openapi_and_the_docs_page_needs_no_internet(gateway):
    url = gateway()
    document = requests.get(f"{url}/v1/openapi.json", timeout=10).json()
    validate(document)
    assert document == DOCUMENT
    page = requests.get(f"{url}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/docs/") for asset in assets)  # nothing from another host
    for asset in assets:
        assert requests.get(f"{url}{asset}", timeout=10).status_code == 200, asset
    assert requests.get(f"{url}/docs/..%2Fservice.py", timeout=10).status_code == 404
