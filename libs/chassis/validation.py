"""Entrypoints validate their input with pydantic; a failure is a 422 naming the fields."""
from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import validation_error_from_pydantic

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every request schema: unknown fields are refused (no mass
    assignment of partner_id, role, status, amount), and no string may carry
    a NUL character (PostgreSQL text cannot store it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


def parse(model: type[M], data) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise validation_error_from_pydantic(exc) from None


class NoBody(Strict):
    """The body of a route that takes none (an action such as ``deliver``): an
    empty body or ``{}`` is fine, any field is refused with a 422 naming it, so
    nothing a client sends is silently dropped (issue 18)."""
