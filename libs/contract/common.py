"""Shapes every area shares: response base, lists, the health report."""
from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

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

