"""Typed domain errors with a stable ``code``, carried intact over RPC.

A service raises ``DomainError`` subclasses; nameko serialises them and, because
they are registered with ``deserialize_to_instance``, the caller (another
service or the gateway) gets the same class back with the same code, message,
details and HTTP status. The gateway turns them into the contract's error body.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from nameko.exceptions import deserialize_to_instance

# nameko stringifies every non-string exception argument on the wire; the
# error travels as one JSON argument instead, so details keep their types.
WIRE_PREFIX = "pc-error:"


@deserialize_to_instance
class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ):
        if code and code.startswith(WIRE_PREFIX):  # deserialising what another service raised
            wire = json.loads(code[len(WIRE_PREFIX) :])
            code, message, details, status = wire["code"], wire["message"], wire["details"], wire["status"]
        self.code = code or type(self).code
        self.message = message or self.code.replace("_", " ")
        self.details = details or {}
        self.status = int(status or type(self).status)
        super().__init__(
            WIRE_PREFIX
            + json.dumps(
                {"code": self.code, "message": self.message, "details": self.details, "status": self.status},
                default=str,
            )
        )

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def _kind(name: str, status: int, code: str) -> type[DomainError]:
    cls = type(name, (DomainError,), {"status": status, "code": code})
    cls.__module__ = __name__
    registered: type[DomainError] = deserialize_to_instance(cls)
    return registered


# One class per HTTP status of the contract (../shared/api.md, Conventions).
MalformedRequest = _kind("MalformedRequest", 400, "malformed_request")
Unauthenticated = _kind("Unauthenticated", 401, "unauthenticated")
Forbidden = _kind("Forbidden", 403, "forbidden")
NotFound = _kind("NotFound", 404, "not_found")
Conflict = _kind("Conflict", 409, "conflict")
PayloadTooLarge = _kind("PayloadTooLarge", 413, "payload_too_large")
UnsupportedMediaType = _kind("UnsupportedMediaType", 415, "unsupported_media_type")
ValidationFailed = _kind("ValidationFailed", 422, "validation_failed")
RateLimited = _kind("RateLimited", 429, "rate_limited")
ServiceUnavailable = _kind("ServiceUnavailable", 503, "service_unavailable")


def validation_error_from_pydantic(exc: pydantic.ValidationError) -> DomainError:
    """A pydantic ``ValidationError`` as a 422 naming each offending field."""
    fields = {}
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "body"
        fields[path] = error["msg"]
    return ValidationFailed(message="request body is invalid", details={"fields": fields})
