"""Abuse: the authorization sweep (the expected table of tests/authz, every
route of the gateway's own route table, every kind of caller and a foreign
partner), a hypothesis fuzz driven by /v1/openapi.json, hostile bodies, and
a client flooding login."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import eventlet
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.api import DEFAULT_PASSWORD

from .traffic import error_shaped
from .world import client_from, next_address

NOWHERE = "00000000-0000-4000-8000-00000000abcd"
PARAM = re.compile(r"\{([a-zA-Z_]+)\}")
# Never fuzzed: they end the fuzzing caller's own session or membership.
NOT_FUZZED = {("delete", "/v1/sessions/current"), ("post", "/v1/me/withdraw")}


# --- authorization sweep -----------------------------------------------------------


def authorization_sweep(pc) -> dict:
    """tests/authz's table and its own comparison, against the whole platform running."""
    from authz import expected_access as ea
    from authz.test_authorization_matrix import RUNS_LAST, check_caller
    from gateway.http import routes_of
    from gateway.service import GatewayService

    a, b = pc.create_partner(category="salon"), pc.create_partner(category="cafe")
    clients = {
        ea.ANONYMOUS: pc.anonymous,
        ea.CUSTOMER: pc.customer_session().client,
        ea.MEMBER: pc.sign_up_member().client,
        ea.PARTNER_MEMBER: pc.staff(a, "member").client,
        ea.PARTNER_MASTER: pc.staff(a, "master").client,
        ea.PARTNER_ADMIN: a.admin.client,
        ea.API_KEY: pc.api_key(a),
        ea.OPERATOR: pc.operator().client,
        ea.OTHER_ADMIN: b.admin.client,
        ea.OTHER_API_KEY: pc.api_key(b),
    }
    routes = sorted(routes_of(GatewayService), key=lambda r: (r in RUNS_LAST, r[1], r[0]))
    missing = [r for r in routes if r not in ea.EXPECTED]
    routes = [r for r in routes if r in ea.EXPECTED]
    pool = eventlet.GreenPool(len(ea.CALLERS))
    results = dict(
        zip(
            ea.CALLERS,
            pool.imap(lambda caller: check_caller(caller, clients[caller], routes, a.partner_id), ea.CALLERS),
            strict=True,
        )
    )
    mismatches, server_errors = [], []
    for caller, rows in results.items():
        for method, url, want, got, status, text in rows:
            if status >= 500:
                server_errors.append(f"{method} {url} as {caller}: {status} {text[:120]}")
            if want != got:
                mismatches.append(f"{method} {url} as {caller}: expected {want}, got {status}")
    return {
        "routes": len(routes),
        "callers": len(ea.CALLERS),
        "cases": sum(len(r) for r in results.values()),
        "mismatches": len(mismatches) + len(missing),
        "server_errors": len(server_errors),
        "examples": (mismatches + server_errors + [f"no expected line: {r}" for r in missing])[:10],
    }


# --- schema-driven fuzz ----------------------------------------------------------------

# JSON has no NaN or Infinity: requests refuses to encode them (InvalidJSONError), so a
# generated one never reached the gateway and was counted as "no answer".
JSON_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def strategy_for(schema: dict, defs: dict, depth: int = 0) -> st.SearchStrategy:
    """A hypothesis strategy for a pydantic JSON schema: mostly well-formed values,
    with the edges the schema allows (and a little it does not)."""
    if depth > 6:
        return st.none()
    if "$ref" in schema:
        return strategy_for(defs.get(schema["$ref"].rsplit("/", 1)[1], {}), defs, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return st.one_of([strategy_for(s, defs, depth + 1) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy_for({**schema, "type": k}, defs, depth) for k in kind])
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = [k for k in props if k not in required]
        return st.fixed_dictionaries(
            {k: strategy_for(props[k], defs, depth + 1) for k in required},
            optional={k: strategy_for(props[k], defs, depth + 1) for k in optional},
        )
    if kind == "array":
        return st.lists(
            strategy_for(schema.get("items", {}), defs, depth + 1), max_size=min(schema.get("maxItems", 4), 4)
        )
    if kind == "string":
        edges = st.sampled_from(
            [
                "",
                " ",
                "\u0000",
                "a" * 5000,
                "' OR 1=1 --",
                "２０２６-１１-３０",
                "💥",
                "2026-02-30",
                "25:61",
                "-1",
                "null",
            ]
        )
        return st.one_of(st.text(max_size=min(schema.get("maxLength", 40), 40)), edges)
    if kind == "integer":
        return st.one_of(
            st.integers(schema.get("minimum", -10), schema.get("maximum", 10**6)),
            st.sampled_from([-1, 0, 2**31, 2**63, -(2**63) - 1, 10**30]),
        )
    if kind == "number":
        return st.one_of(JSON_FLOATS, st.integers())
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_values()


def json_values() -> st.SearchStrategy:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | JSON_FLOATS | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


def mutated(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Well-formed bodies, bodies with a field dropped, renamed or of the wrong type, and junk."""

    def drop(body):
        return (
            st.sampled_from(sorted(body)).map(lambda k: {x: v for x, v in body.items() if x != k})
            if body
            else st.just(body)
        )

    def retype(body):
        return (
            st.sampled_from(sorted(body)).flatmap(lambda k: json_values().map(lambda v: {**body, k: v}))
            if body
            else st.just(body)
        )

    return st.one_of(
        valid,
        valid.flatmap(lambda b: drop(b) if isinstance(b, dict) else st.just(b)),
        valid.flatmap(lambda b: retype(b) if isinstance(b, dict) else st.just(b)),
        valid.map(lambda b: {**b, "unknown_field": 1} if isinstance(b, dict) else b),
        json_values(),
    )


def partner_and_callers(pc) -> tuple[Any, dict]:
    """A new salon and a client for each access level a route may declare (its admin for partner routes)."""
    partner = pc.create_partner(category="salon")
    callers = {
        "admin": partner.admin.client,
        "customer": pc.customer_session().client,
        "member": pc.sign_up_member().client,
        "operator": pc.operator().client,
        "anonymous": pc.anonymous,
        "public": pc.anonymous,
    }
    return partner, callers


def caller_for(access: str, callers: dict):
    if access.startswith("partner:"):
        return callers["admin"]
    return callers.get(access, callers["anonymous"])


def fuzz(pc, examples_per_operation: int) -> dict:
    """Every operation of /v1/openapi.json with generated path values and bodies, as a
    caller its x-access admits (so requests get past authorization to validation)."""
    document = pc.anonymous.get("/v1/openapi.json").json()
    partner, callers = partner_and_callers(pc)
    tally: dict[str, Any] = {"operations": 0, "cases": 0, "server_errors": 0, "bad_error_body": 0, "examples": []}
    planned: list[PlannedRequest] = []
    path_value = st.one_of(
        st.just(NOWHERE),
        st.text(min_size=1, max_size=30).map(lambda s: requests.utils.quote(s, safe="")),
        st.sampled_from(["..", "%00", "%2e%2e%2f", "1" * 300]),
    )
    for path, operations in sorted(document["paths"].items()):
        for method, op in sorted(operations.items()):
            if (method, path) in NOT_FUZZED:
                continue
            tally["operations"] += 1
            client = caller_for(op.get("x-access", "public"), callers)
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            bodies = mutated(strategy_for(schema, schema.get("$defs", {}))) if schema else st.just(None)
            values = st.fixed_dictionaries({p: path_value for p in PARAM.findall(path)})
            planned += fuzz_operation(
                client, method.upper(), path, partner.partner_id, values, bodies, examples_per_operation
            )
    send_all(tally, planned)
    tally["examples"] = tally["examples"][:10]
    return tally


def fuzz_operation(
    client, method: str, path: str, partner_id: str, path_values, bodies, examples: int
) -> list[PlannedRequest]:
    """One operation: ``examples`` generated path values and bodies, as requests to send.

    Hypothesis only generates here; the requests go out afterwards, side by side (``send_all``):
    an answer never fails a case, so there is nothing for hypothesis to shrink."""
    planned: list[PlannedRequest] = []

    @settings(
        max_examples=examples, database=None, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck)
    )
    @given(values=path_values, body=bodies)
    def case(values, body):
        url = PARAM.sub(lambda m: partner_id if m.group(1) == "pid" else values[m.group(1)], path)
        planned.append(
            PlannedRequest(
                f"{method} {url} {json.dumps(body)[:100]}", client, method, url, {"json": body, "timeout": 30}
            )
        )

    case()
    return planned


# Requests in flight at once in the fuzz and the hostile bodies: sent one by one they took most of
# the abuse section (about 8 of its 9.5 minutes on 2 CPUs, #24) while the platform sat mostly idle.
SENDERS = 8


@dataclass(frozen=True)
class PlannedRequest:
    case: str  # what the example list calls it
    client: Any
    method: str
    path: str
    request: dict
    success_is_wrong: bool = False


def send_all(tally: dict, planned: list[PlannedRequest], senders: int = SENDERS) -> None:
    """Sends every planned request, ``senders`` at a time, each answer counted in ``tally``
    (green threads switch only at I/O, so the counting needs no lock)."""
    pool = eventlet.GreenPool(senders)
    for p in planned:
        pool.spawn_n(
            lambda p=p: count_answer(tally, p.case, p.client, p.method, p.path, p.success_is_wrong, **p.request)
        )
    pool.waitall()


def count_answer(
    tally: dict, case: str, client, method: str, path: str, success_is_wrong: bool = False, **request
) -> None:
    """Sends one hostile request and counts its answer: no answer or a 5xx is a server error, an error
    not in the contract's shape a bad error body, and a success an accepted case when ``success_is_wrong``;
    each of those is an example named by ``case``."""
    try:
        response = client.request(method, path, **request)
    except requests.RequestException as exc:
        tally["server_errors"] += 1
        tally["examples"].append(f"{case}: no answer ({type(exc).__name__})")
        return
    tally["cases"] += 1
    statuses = tally.setdefault("statuses", {})
    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    if response.status_code >= 500:
        tally["server_errors"] += 1
        tally["examples"].append(f"{case}: {response.status_code} {response.text[:100]}")
    elif response.status_code < 400:
        if success_is_wrong:
            tally["accepted"] += 1
            tally["examples"].append(f"{case}: accepted {response.status_code}")
    elif not error_shaped(response):
        tally["bad_error_body"] += 1
        tally["examples"].append(f"{case}: {response.status_code} not the error shape")


# --- hostile bodies -----------------------------------------------------------------


def hostile_bodies() -> dict[str, tuple[bytes, str]]:
    return {
        "oversized (2 MiB)": (b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}', "application/json"),
        "deeply nested arrays (100k)": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        "deeply nested objects (20k)": (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, "application/json"),
        "NUL in a string": (b'{"name": "a\\u0000b", "reason": "x\\u0000"}', "application/json"),
        "raw NUL byte": (b'{"name": "a\x00b"}', "application/json"),
        "not UTF-8": (b'{"name": "\xff\xfe\xfd"}', "application/json"),
        "truncated JSON": (b'{"name": ', "application/json"),
        "not JSON content type": (b"name=x", "application/x-www-form-urlencoded"),
    }


def hostile(pc) -> dict:
    from gateway.http import routes_of
    from gateway.service import GatewayService

    partner, callers = partner_and_callers(pc)
    routes = routes_of(GatewayService)
    tally: dict[str, Any] = {
        "routes": 0,
        "cases": 0,
        "server_errors": 0,
        "bad_error_body": 0,
        "accepted": 0,
        "examples": [],
    }
    planned: list[PlannedRequest] = []
    for (method, url), route in sorted(routes.items(), key=lambda item: (item[0][1], item[0][0])):
        if method not in ("POST", "PUT", "PATCH") or (method.lower(), url) in NOT_FUZZED:
            continue
        tally["routes"] += 1
        client = caller_for(route.access, callers)
        path = filled(url, partner.partner_id, NOWHERE)
        planned += [
            PlannedRequest(
                f"{method} {url} {name}",
                client,
                method,
                path,
                {"data": body, "headers": {"Content-Type": content_type}, "timeout": 60},
                success_is_wrong=True,
            )
            for name, (body, content_type) in hostile_bodies().items()
        ]
    send_all(tally, planned + hostile_path_values(routes, partner, callers))
    tally["examples"] = tally["examples"][:10]
    return tally


def filled(url: str, partner_id: str, value: str) -> str:
    """A gateway route's ``url`` with the partner's id for ``<pid>`` and ``value`` for every other parameter."""
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", lambda m: partner_id if m.group(1) == "pid" else value, url)


HOSTILE_PATH_VALUES = {"NUL": "%00", "long": "9" * 400, "traversal": "..%2F..%2Fetc", "not UTF-8": "%FF%FE"}


def hostile_path_values(routes, partner, callers) -> list[PlannedRequest]:
    """Every route with an id in its path, the id replaced by NUL, a 400-character
    value, an encoded traversal and bytes that are not UTF-8: a 4xx, never a 5xx."""
    planned = []
    for (method, url), route in sorted(routes.items(), key=lambda item: (item[0][1], item[0][0])):
        names = [n for n in re.findall(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", url) if n != "pid"]
        if not names or (method.lower(), url) in NOT_FUZZED:
            continue
        client = caller_for(route.access, callers)
        body: dict | None = {} if method in ("POST", "PUT", "PATCH") else None
        planned += [
            PlannedRequest(
                f"{method} {url} path {label}",
                client,
                method,
                filled(url, partner.partner_id, value),
                {"json": body, "timeout": 60},
            )
            for label, value in HOSTILE_PATH_VALUES.items()
        ]
    return planned


# --- login flood ----------------------------------------------------------------------


def bystander_login(client, login_id: str, attempts: int = 3) -> list[int]:
    """Another address logs in while the flood runs, as a client would: a 503 ``busy`` (every hash
    slot taken, accounts.passwords) says retry after ``retry_after_seconds``, and it does, up to
    ``attempts`` times. The statuses in order."""
    statuses: list[int] = []
    for _ in range(attempts):
        response = client.post("/v1/sessions", json={"login_id": login_id, "password": DEFAULT_PASSWORD})
        statuses.append(response.status_code)
        if response.status_code != 503:
            break
        eventlet.sleep(float((response.json()["error"].get("details") or {}).get("retry_after_seconds", 1)))
    return statuses


def login_flood(pc, attempts: int = 400, concurrency: int = 20) -> dict:
    """One address tries ``attempts`` logins (a real member's, wrong and right passwords):
    refused with 429 past the limit, never a 5xx; meanwhile another address logs in
    and the health check answers."""
    victim = pc.sign_up_member()
    flooder = client_from(pc.url, next_address(), pool=concurrency)
    statuses: dict[int, int] = {}

    def attempt(i: int):
        password = DEFAULT_PASSWORD if i % 10 == 0 else f"guess-{uuid.uuid4().hex[:6]}"
        try:
            status = flooder.post(
                "/v1/sessions", json={"login_id": victim.login_id, "password": password}, timeout=60
            ).status_code
        except requests.RequestException:
            status = 0
        statuses[status] = statuses.get(status, 0) + 1

    health: list[int] = []
    flooding = [True]

    def watch_health():
        # /healthz throughout the flood, not once: accounts must keep answering while logins queue.
        while flooding[0]:
            try:
                health.append(pc.anonymous.get("/healthz", timeout=10).status_code)
            except requests.RequestException:
                health.append(0)
            eventlet.sleep(0.25)

    started = time.monotonic()
    watcher = eventlet.spawn(watch_health)
    pool = eventlet.GreenPool(concurrency)
    for i in range(attempts):
        pool.spawn(attempt, i)
    eventlet.sleep(0.5)
    bystander_statuses = bystander_login(client_from(pc.url, next_address()), victim.login_id)
    pool.waitall()
    flooding[0] = False
    watcher.wait()
    return {
        "attempts": attempts,
        "seconds": time.monotonic() - started,
        "statuses": statuses,
        "rate_limited": statuses.get(429, 0),
        "refused_503": statuses.get(503, 0),
        "server_errors": sum(c for s, c in statuses.items() if (s >= 500 and s != 503) or s == 0),
        "health_checks": len(health),
        "health_not_200": sum(1 for s in health if s != 200),
        "bystander_login": bystander_statuses,
    }
