"""The OpenAPI 3.1 document, built from the gateway's own route table.

Nothing here is written by hand per route: each operation comes from its
``route(...)`` declaration (``gateway.http.RouteSpec``) and its shapes from
the pydantic models the gateway validates requests with and serialises
responses through (JSON Schema by pydantic), so the document is what is
checked and sent. Error statuses come from the conventions
(../shared/api.md): 401/403 for routes that need a token, 404 where the path
names an object or a partner, 400/413/415/422 where a body or a query is read,
429 where a route is rate limited, 503 always, plus each route's own
``errors`` with their codes. The codes a status may carry are listed in the
response's description and in ``x-error-codes``; the schema keeps ``code`` an
open string, because a client must treat an unknown code as the status's
meaning (codes are added without a new version).
"""

from __future__ import annotations

import re

from pydantic.json_schema import models_json_schema

from chassis.validation import NoBody

from .auth import PARTNER_ACCESS

REF = "#/components/schemas/{model}"
RULE_ID = re.compile(r"\bR-[A-Z]+-\d+\b")
PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable, snake_case; switch on this"},
                "message": {"type": "string", "description": "for people; its language follows Accept-Language"},
                "details": {"type": "object", "description": "e.g. fields: {name: why} on a 422"},
            },
        }
    },
}

ERROR_MEANING = {
    400: "malformed body",
    401: "no or invalid token",
    403: "role not allowed",
    404: "unknown or another partner's object",
    409: "state or capacity conflict",
    413: "body over 1 MiB",
    415: "not JSON",
    422: "validation failed (details.fields names them)",
    414: "URL too long",
    429: "rate limited (Retry-After)",
    503: "a service is unavailable",
}

SECURITY_SCHEMES = {
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "a member's or operator's session token (POST /v1/sessions)",
    },
    "customerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "a customer's session token (POST /v1/customer-sessions)",
    },
    "partnerApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "a partner API key (POST /v1/partners/{pid}/api-keys), sent as a bearer token",
    },
}


# One server-sent event as a client reads it (the fields of its lines); what each event
# name carries is in the operation's description.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string", "description": "JSON"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}


def security_of(access: str) -> list[dict]:
    """The access table of ../shared/api.md as OpenAPI security requirements."""
    if access == "public":
        return []
    if access == "customer":
        return [{"customerToken": []}]
    if access in PARTNER_ACCESS:
        return [{"staffToken": []}, {"partnerApiKey": []}]
    return [{"staffToken": []}]  # member, operator


def openapi_path(werkzeug_rule: str) -> str:
    return PATH_PARAM.sub(r"{\1}", werkzeug_rule)


def error_codes(route) -> dict[int, list[str]]:
    """Every error status the route may answer with, and its codes."""
    codes: dict[int, list[str]] = {
        503: ["service_unavailable"],
        414: ["uri_too_long"],
    }  # any URL past gateway.http.MAX_URL_BYTES
    if route.access != "public":
        codes[401] = ["unauthenticated"]
        codes[403] = ["forbidden"]
    if route.access in PARTNER_ACCESS:
        codes[404] = ["partner_not_found"]
    if PATH_PARAM.search(route.url):
        codes.setdefault(404, []).append("not_found")
    if route.method in ("POST", "PUT", "PATCH"):
        codes[400] = ["malformed_request"]
        codes[413] = ["payload_too_large"]
        codes[415] = ["unsupported_media_type"]
        codes[422] = ["validation_failed"]
    if route.query_model is not None:
        codes[422] = ["validation_failed"]
    if route.rate_limited:
        codes[429] = ["rate_limited"]
    for status, extra in route.errors.items():
        codes.setdefault(int(status), [])
        codes[int(status)] += [code for code in extra if code not in codes[int(status)]]
    return dict(sorted(codes.items()))


def error_response(status: int, codes: list[str]) -> dict:
    return {
        "description": f"{ERROR_MEANING.get(status, 'error')}; code: {', '.join(codes)}",
        "x-error-codes": codes,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def parameter_schema(prop: dict) -> dict:
    """A query parameter is absent or a value, never null: the model's optional
    fields lose their null branch and null default."""
    prop = {key: value for key, value in prop.items() if key != "title" and not (key == "default" and value is None)}
    branches = [branch for branch in prop.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        prop.update(branches[0])
    elif branches:
        prop["anyOf"] = branches
    return prop


def query_parameters(model, schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF, by_alias=True)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": parameter_schema(prop),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def operation(route, refs: dict, schemas: dict) -> dict:
    rules = sorted(set(RULE_ID.findall(f"{route.summary} {route.description}")))
    description = route.description or route.summary
    if rules:
        description += f"\n\nRules: {', '.join(rules)} (../shared/domain.md)."
    op = {
        "operationId": route.handler_name,
        "tags": list(route.tags),
        "summary": (route.summary or route.handler_name)[:120],
        "description": description,
        "security": security_of(route.access),
        "x-access": route.access,
        "x-rules": rules,
    }
    params = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for p in PATH_PARAM.findall(route.url)
    ]
    if route.query_model is not None:
        params += query_parameters(route.query_model, schemas)
    if route.idempotency:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": route.idempotency == "required",
                "description": "the same key and body return the first response; another body: "
                "409 idempotency_key_reused",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    if params:
        op["parameters"] = params
    if route.body_model not in (None, NoBody):  # NoBody: a route that takes none
        # a body whose fields are all optional may be left out (the gateway reads no body as {})
        body_schema = route.body_model.model_json_schema()
        op["requestBody"] = {
            "required": bool(
                body_schema.get("required") or body_schema.get("anyOf") or body_schema.get("minProperties")
            ),
            "content": {"application/json": {"schema": refs[(route.body_model, "validation")]}},
        }
    op["responses"] = {}
    for success in filter(None, (route.status, route.also_status)):
        if route.stream is not None:  # a stream, not one JSON body: documented as its media type
            op["responses"][str(success)] = {
                "description": "a stream of events, see the description",
                "content": {route.stream: {"schema": SSE_EVENT}},
            }
        elif route.response_model is None:
            op["responses"][str(success)] = {"description": "done, no body"}
        else:
            op["responses"][str(success)] = {
                "description": "success",
                "content": {"application/json": {"schema": refs[(route.response_model, "serialization")]}},
            }
    for status, codes in error_codes(route).items():
        op["responses"][str(status)] = error_response(status, codes)
    return op


def component_schemas(routes) -> tuple[dict, dict]:
    """Every body and response model as a component: ({(model, mode): {$ref}}, {name: schema})."""
    wanted = {(route.body_model, "validation") for route in routes if route.body_model not in (None, NoBody)}
    wanted |= {(route.response_model, "serialization") for route in routes if route.response_model is not None}
    if not wanted:
        return {}, {}
    refs, document = models_json_schema(
        sorted(wanted, key=lambda pair: (pair[0].__qualname__, pair[1])),  # type: ignore[arg-type]
        ref_template=REF,
    )
    return refs, document.get("$defs", {})


def build_document(routes: dict) -> dict:
    routes = {key: route for key, route in routes.items() if not route.hidden}
    refs, schemas = component_schemas(routes.values())
    paths: dict = {}
    for (method, url), route in sorted(routes.items(), key=lambda item: (item[0][1], item[0][0])):
        for verb in method.split(","):
            paths.setdefault(openapi_path(url), {})[verb.lower()] = operation(route, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Partner Center gateway",
            "version": "1.1",
            "description": "The contract of ../shared/api.md: every request body, query and response. "
            "Lists are {items, next_cursor}; ?limit= is clamped to 1..100.",
        },
        "servers": [{"url": "/"}],
        "tags": sorted(
            ({"name": tag} for tag in {t for r in routes.values() for t in r.tags}), key=lambda tag: tag["name"]
        ),
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **schemas},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
