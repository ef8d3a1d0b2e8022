"""Entrypoints validate their input with pydantic; a failure is a 422 naming the fields.

One rule for what a value may be (issue 15, defect 3: nothing is coerced):

- a request body is JSON, and is validated as JSON in pydantic's strict mode
  (``model_validate_json(..., strict=True)``): an int field takes only a JSON
  integer (not ``true``, not ``1.5``, not ``"1"``), a str field only a string,
  a bool field only ``true``/``false``. Strict JSON mode still reads dates,
  datetimes, UUIDs and enums from their strings, which is what JSON can carry;
- a query string has only strings, so each value first becomes the JSON value
  it spells for its field's type (digits for an int field, ``true``/``false``
  for a bool field), and is then validated by the same strict JSON rule;
- a date is a ``YYYY-MM-DD`` string and a datetime an ISO 8601 string, never a
  number of seconds (pydantic itself reads ``"1796342400"`` as a date).

``parse`` is the body's, ``parse_query`` the query's: a query error says
``request query is invalid`` and names the parameters (``from``, ``limit``).
``require_id`` checks an id an RPC takes as an argument (``partner_id``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import DomainError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

MAX_ID_LENGTH = 200  # ids are UUIDs or short names; this only bounds what a caller can make us look up

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?")
INTEGER = re.compile(r"[+-]?\d{1,4000}")  # big ones too: a huge ?limit= is clamped, not refused
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _unwrapped(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of a field's type: ``int | None`` -> (int, None),
    ``Annotated[date, ...]`` -> (date,)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrapped(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return tuple(kind for arg in typing.get_args(annotation) for kind in _unwrapped(arg))
    return (annotation,)


def _calendar_error(kinds: tuple[Any, ...], value: Any) -> str | None:
    """Why ``value`` is not a date or datetime as the contract writes them, or
    None (also for a field that is neither, or that takes something else too)."""
    calendar = [kind for kind in kinds if kind in (dt.date, dt.datetime)]
    if value is None or not calendar or len(calendar) != len([kind for kind in kinds if kind is not type(None)]):
        return None
    if dt.datetime in calendar:
        if not (isinstance(value, str) and DATETIME.fullmatch(value)):
            return "must be a date and time as an ISO 8601 string (2026-01-01T09:00:00+09:00)"
    elif not (isinstance(value, str) and DATE.fullmatch(value)):
        return "must be a date as a YYYY-MM-DD string"
    return None


def _fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    fields = {}
    for name, field in model.model_fields.items():
        fields[name] = field
        if field.alias:
            fields[field.alias] = field
    return fields


def _plain_value_errors(annotation: Any, value: Any, loc: str, errors: dict[str, Any]) -> None:
    """What pydantic would let through that the contract refuses: a NUL in a
    string (PostgreSQL text cannot store it) anywhere, and a date or datetime
    that is not its ISO string (pydantic reads ``"1796342400"`` as a date)."""
    if isinstance(value, str):
        if "\x00" in value:
            errors[loc] = "must not contain NUL characters"
        elif (why := _calendar_error(_unwrapped(annotation), value)) is not None:
            errors[loc] = why
        return
    kinds = _unwrapped(annotation) if annotation is not None else ()
    if isinstance(value, dict):
        model = next((kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)), None)
        if model is not None:
            _model_errors(model, value, loc, errors)
        else:
            mapping = next((kind for kind in kinds if typing.get_origin(kind) is dict), None)
            item = typing.get_args(mapping)[1] if mapping is not None and typing.get_args(mapping) else None
            for key, entry in value.items():
                _plain_value_errors(item, entry, f"{loc}.{key}", errors)
        return
    if isinstance(value, list):
        sequence = next((kind for kind in kinds if typing.get_origin(kind) in (list, tuple, set, frozenset)), None)
        item = typing.get_args(sequence)[0] if sequence is not None and typing.get_args(sequence) else None
        for index, entry in enumerate(value):
            _plain_value_errors(item, entry, f"{loc}.{index}", errors)
        return
    if (why := _calendar_error(kinds, value)) is not None:
        errors[loc] = why


def _model_errors(model: type[BaseModel], data: dict[str, Any], prefix: str, errors: dict[str, Any]) -> None:
    fields = _fields_by_key(model)
    for key, value in data.items():
        field = fields.get(key)
        _plain_value_errors(
            field.annotation if field is not None else None, value, f"{prefix}.{key}" if prefix else str(key), errors
        )


def plain_value_errors(model: type[BaseModel], data: Any) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if isinstance(data, dict):
        _model_errors(model, data, "", errors)
    return errors


class Strict(BaseModel):
    """Base of every request schema: unknown fields are refused (no mass
    assignment of partner_id, role, status, amount). Validated through
    ``parse`` / ``parse_query``, which apply the strict rule above, refuse NUL
    characters and read dates only from ``YYYY-MM-DD``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        _not_blank(handler.resolve_ref_schema(schema))
        return schema


# What str_strip_whitespace removes (Unicode White_Space), spelled out: engines disagree on \s.
NOT_ONLY_SPACES = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _not_blank(schema: dict[str, Any]) -> None:
    """Strings are stripped (str_strip_whitespace) before their minLength is
    checked, so a required text says in the document that it needs one
    character that is not a space (schemathesis sent "\f" to a minLength 1)."""
    for prop in schema.get("properties", {}).values():
        for branch in [prop, *prop.get("anyOf", ())]:
            if (
                branch.get("type") == "string"
                and branch.get("minLength", 0) >= 1
                and "pattern" not in branch
                and "format" not in branch
                and "enum" not in branch
                and "const" not in branch
            ):
                branch["pattern"] = NOT_ONLY_SPACES


def parse(model: type[M], data: Any) -> M:
    """A request body (or an RPC's arguments, which arrive as JSON too) as
    ``model``, validated as strict JSON; no body is an empty object."""
    document = json.dumps(data if data is not None else {}, default=str)
    return _validated(model, document, plain_value_errors(model, json.loads(document)), "request body is invalid")


def _query_value(annotation: Any, value: Any) -> Any:
    """The JSON value a query string spells for a field of this type."""
    if not isinstance(value, str):
        return value
    kinds = _unwrapped(annotation)
    if (int in kinds) and INTEGER.fullmatch(value):
        return int(value)
    if (float in kinds) and NUMBER.fullmatch(value):
        return float(value)
    if (bool in kinds) and value in ("true", "false"):
        return value == "true"
    return value


def query_values(model: type[BaseModel], query: dict[str, Any] | None) -> dict[str, Any]:
    """The query (every value a string) with each value as the JSON it spells
    for its field, found by the field's name or its alias (``from``)."""
    fields = _fields_by_key(model)
    return {
        key: _query_value(fields[key].annotation, value) if key in fields else value
        for key, value in (query or {}).items()
    }


def parse_query(model: type[M], query: dict[str, Any] | None) -> M:
    """A query string as ``model``: a 422 ``request query is invalid`` naming
    the parameters, never ``body``."""
    values = query_values(model, query)
    return _validated(model, json.dumps(values), plain_value_errors(model, values), "request query is invalid")


def _validated(model: type[M], document: str, found: dict[str, Any], message: str) -> M:
    """``model`` from strict JSON, or a 422 naming every field wrong, ours
    (``found``: NUL, calendar) and pydantic's together."""
    fields = {}
    try:
        result = model.model_validate_json(document, strict=True)
    except ValidationError as exc:
        for error in exc.errors():
            fields[".".join(str(part) for part in error["loc"]) or ("query" if "query" in message else "body")] = error[
                "msg"
            ]
    fields.update(found)
    if fields:
        raise ValidationFailed(message=message, details={"fields": fields})
    return result


def invalid_query(**fields: str) -> DomainError:
    """A query error found after parsing (``date_from`` after ``date_to``)."""
    return ValidationFailed(message="request query is invalid", details={"fields": fields})


class NoBody(Strict):
    """The body of a route that takes none (an action such as ``deliver``): an
    empty body or ``{}`` is fine, any field is refused with a 422 naming it, so
    nothing a client sends is silently dropped (issue 18)."""


def require_id(value: Any, field: str) -> str:
    """An id argument (``partner_id``, ``customer_id``): a non-blank string of
    at most ``MAX_ID_LENGTH`` characters, or a 422 naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(message=f"{field} is required", details={"fields": {field: "required"}})
    if len(value) > MAX_ID_LENGTH:
        raise ValidationFailed(
            message=f"{field} is invalid", details={"fields": {field: f"at most {MAX_ID_LENGTH} characters"}}
        )
    return value
