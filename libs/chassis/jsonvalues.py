"""Rows as the contract's JSON values, one rule for every service
(../shared/api.md, Conventions): ids as strings, dates ``YYYY-MM-DD``, times
of day ``HH:MM``, instants RFC 3339, and numbers as numbers: PostgreSQL's
``SUM`` of integer won arrives as ``Decimal`` and leaves as an int; only a
fractional value (a rate, an average) leaves as a float. ``pick``: the columns
a view or an event payload copies under their own names, one call instead of a
``"name": row["name"]`` line each."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def pick(row: Mapping[str, Any], *fields: str, prefix: str = "") -> dict[str, Any]:
    """``{field: row[prefix + field]}`` for each of ``fields``, in their order, values
    as they are: the part of a view or payload that copies a row's columns under
    their own names (``prefix``: columns read under a prefix, ``open_number`` as
    ``number``). Values to convert (ids, instants) are written beside it."""
    return {field: row[prefix + field] for field in fields}
