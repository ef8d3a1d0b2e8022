"""Lists the contract's way (../shared/api.md, Conventions): ``?limit=``
(default 20, clamped to 1..100) and an opaque ``?cursor=``; the body is
``{"items": [...], "next_cursor": "..." | null}``. The one implementation for
every service (issue 15: six copies disagreed on their arguments): keyset
pagination on the values of the last row of a page.

    class ListQuery(PageQuery): status: str | None = None     # the query model
    q = parse_query(ListQuery, query)
    after = decode_cursor(q.cursor, datetime.fromisoformat, uuid.UUID)
    rows = store.rows(..., after, limit=q.limit + 1)
    return page(rows, q.limit, lambda row: (row["created_at"].isoformat(), row["id"]), render=view)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field, field_validator

from .errors import ValidationFailed
from .validation import Strict

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, int(limit)))


def encode_cursor(*values: object) -> str:
    raw = json.dumps([str(value) for value in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: Callable[..., Any]) -> tuple[Any, ...] | None:
    """The values of a cursor made by ``encode_cursor``, each converted by its
    type (``int``, ``str``, ``datetime.fromisoformat``, ``uuid.UUID``, ...);
    None for the first page; a 422 naming ``cursor`` for anything else."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError(cursor)
        return tuple(convert(value) for convert, value in zip(types, values, strict=True))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed(
            message="request query is invalid", details={"fields": {"cursor": "not a cursor this list gave out"}}
        ) from None


class PageQuery(Strict):
    """``?limit=&cursor=``, the base of every list's query model: a limit out
    of 1..100 is clamped, not refused; the cursor is opaque (``decode_cursor``
    refuses one this list did not give out, naming ``cursor``)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = Field(None, max_length=500)

    @field_validator("limit", mode="after")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return clamp_limit(value)


def page(
    rows: list[Any], limit: int, cursor_of: Callable[..., Any], render: Callable[..., Any] | None = None
) -> dict[str, Any]:
    """``rows`` fetched with ``LIMIT limit + 1``: the page (each row through
    ``render`` when given) and the cursor of the next one, made of the values
    ``cursor_of(last row)`` returns (a tuple)."""
    items = rows[:limit]
    next_cursor = encode_cursor(*cursor_of(items[-1])) if len(rows) > limit and items else None
    return {"items": [render(item) for item in items] if render is not None else items, "next_cursor": next_cursor}


def keyset(
    where: list[str], params: list[Any], columns: str, after: Sequence[Any] | None, placeholders: str = "%s, %s"
) -> None:
    """The SQL side of a page after the first, newest first: adds to ``where``
    the condition that keeps the rows before ``after`` (the last row's values
    of ``columns``, from ``decode_cursor``), and ``after`` to ``params``; the
    first page (``after`` None) adds nothing."""
    if after:
        where.append(f"({columns}) < ({placeholders})")
        params.extend(after)
