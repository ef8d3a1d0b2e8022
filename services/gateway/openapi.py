"""The OpenAPI 3.1 document, built from the gateway's own route table."""
from __future__ import annotations

import re

from chassis.validation import NoBody

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "details": {"type": "object"}},
    }},
}

ERROR_STATUSES = {"400": "malformed body", "401": "no or invalid token", "403": "role not allowed",
                  "404": "unknown or another partner's object", "409": "state or capacity conflict",
                  "413": "body over 1 MiB", "415": "not JSON", "422": "validation failed",
                  "429": "rate limited", "503": "a service is unavailable"}

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def openapi_path(werkzeug_rule: str) -> str:
    return PATH_PARAM.sub(r"{\1}", werkzeug_rule)


def operation(route) -> dict:
    op = {
        "summary": route.summary or route.handler_name,
        "operationId": route.handler_name,
        "x-access": route.access,
        "responses": {"default": {"description": "success"}},
    }
    op["responses"].update({status: {"description": why, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for status, why in ERROR_STATUSES.items()})
    params = PATH_PARAM.findall(route.url)
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                            for p in params]
    if route.body_model is not None:
        op["requestBody"] = {"required": route.body_model is not NoBody, "content": {"application/json": {
            "schema": route.body_model.model_json_schema()}}}
    return op


def build_document(routes: dict) -> dict:
    paths: dict = {}
    for (method, url), route in sorted(routes.items(), key=lambda item: (item[0][1], item[0][0])):
        for verb in method.split(","):
            paths.setdefault(openapi_path(url), {})[verb.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Partner Center gateway", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
