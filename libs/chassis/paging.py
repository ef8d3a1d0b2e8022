"""Lists the contract's way (../shared/api.md, Conventions): ``?limit=``
(default 20, clamped to 100) and an opaque ``?cursor=``; the body is
``{"items": [...], "next_cursor": "..." | null}``. One implementation for
every service: keyset pagination on the values of the last row of a page.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Callable

from .errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, int(limit)))


def encode_cursor(*values) -> str:
    raw = json.dumps([str(value) for value in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: Callable) -> tuple | None:
    """The values of a cursor made by ``encode_cursor``, each converted by its
    type (``int``, ``str``, ``datetime.fromisoformat``, ``uuid.UUID``, ...);
    None for the first page; a 422 naming ``cursor`` for anything else."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError(cursor)
        return tuple(convert(value) for convert, value in zip(types, values))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed(message="request query is invalid",
                               details={"fields": {"cursor": "not a cursor this list gave out"}}) from None


def page(rows: list, limit: int, cursor_of: Callable) -> dict:
    """``rows`` fetched with ``LIMIT limit + 1``: the page and the cursor of the next one."""
    items = rows[:limit]
    next_cursor = encode_cursor(*cursor_of(items[-1])) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}
