"""One ``Idempotency-Key`` semantics for every create (../shared/api.md,
Conventions; issue 19): the same key with the same body returns the first
response, a refusal included; the same key with another body is 409
``idempotency_key_reused``.

Each service keeps its keys in its own table; these functions work over the
stored record, a row with ``state``, ``response_status`` and ``response``:

- ``pending``: the first request is still being served (or died): nothing to
  replay yet, the caller goes on with its own recovery;
- ``done``: ``response`` is the first answer, sent again as it is;
- ``failed``: ``response`` is the refusal's error body, raised again with its
  status (a key never turns a refusal into a second attempt).

``answered`` and ``refused`` give the columns to store, ``replay`` the first
answer again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, overload

from .errors import Conflict, DomainError, ValidationFailed

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200  # the served document's maxLength for the header (gateway/openapi.py)
KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # visible ASCII: a header value, no spaces
PENDING, DONE, FAILED = "pending", "done", "failed"


def key_required(creating: str) -> DomainError:
    return ValidationFailed(
        "idempotency_key_required",
        f"send an {HEADER} header to create {creating}",
        {"fields": {HEADER: f"required on {creating} creation"}},
    )


def key_reused() -> DomainError:
    return Conflict("idempotency_key_reused", f"this {HEADER} was used with another body", {"header": HEADER})


@overload
def check_key(key: Any, creating: str) -> str: ...


@overload
def check_key(key: Any, creating: None = None) -> str | None: ...


def check_key(key: Any, creating: str | None = None) -> str | None:
    """The header's key; without one, None, or 422 ``idempotency_key_required``
    where the key is required (``creating`` names what: "a reservation")."""
    if key is None or (isinstance(key, str) and not key.strip()):
        if creating is not None:
            raise key_required(creating)
        return None
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise ValidationFailed(
            message=f"the {HEADER} header is invalid",
            details={"fields": {HEADER: f"1 to {MAX_KEY_LENGTH} visible ASCII characters"}},
        )
    return key


def fingerprint(body: Mapping[str, Any]) -> str:
    """What makes two requests "the same body": the parsed body (so key order
    and surrounding spaces do not count) as canonical JSON, hashed."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_same_body(stored_fingerprint: str, request_fingerprint: str) -> None:
    if stored_fingerprint != request_fingerprint:
        raise key_reused()


def answered(response: Mapping[str, Any], status: int = 201) -> dict[str, Any]:
    """The columns that record the first answer to a key."""
    return {"state": DONE, "response_status": status, "response": dict(response)}


def refused(error: DomainError) -> dict[str, Any]:
    """The columns that record a refusal as the key's answer."""
    return {"state": FAILED, "response_status": error.status, "response": error.to_body()}


def replay(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first answer to the key again: its response, or its refusal raised
    again; None while there is none (``pending``). A response erased since
    (its customer withdrew) cannot be replayed: the key is spent."""
    if record["state"] not in (DONE, FAILED):
        return None
    response = record["response"]
    if response is None:
        raise key_reused()
    if record["state"] == DONE:
        return dict(response)
    error = response["error"]
    raise DomainError(error["code"], error["message"], error["details"], status=record["response_status"])
