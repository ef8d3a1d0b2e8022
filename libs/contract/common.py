"""Shapes every area shares: response base, lists, the health report."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

T = TypeVar("T")


class Out(BaseModel):
    """Base of every response model: a field the model does not name is a
    breach of the contract (``gateway.http.serialise``), so a field a service
    adds must be added here too, and so to the document."""

    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """Every list (../shared/api.md, Lists): ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def examples(*values: dict[str, Any], **schema: Any) -> ConfigDict:
    """A model's examples in the document (and any other keywords of its schema, after them)."""
    return ConfigDict(json_schema_extra={"examples": list(values), **schema})


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def left_out_unchanged(**constraints: Any) -> Any:
    """The default of an edit's field that may be left out (unchanged) but not sent as null: the
    document offers no default and no null. Typed Any so the field keeps its own, non-null type."""
    return Field(None, json_schema_extra=_no_default, **constraints)


class Health(Out):
    status: str
    services: dict[str, str]
    failing: list[str] | None = None


class Document(Out):
    """An OpenAPI 3.1 document (this one)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


# A moment as the services send it (ISO 8601 with its offset, ``2026-12-04T10:00:00+09:00``). Kept a
# string on the wire: parsing it into a datetime would re-serialise UTC as ``Z``, changing what is sent.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
# An hour and minute as the services send it (``10:00``, the partner's local time): a time re-dumped
# by pydantic would read ``10:00:00``.
ClockTime = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "description": "HH:MM, the partner's local time"}
    ),
]
