"""What an application layer (a service's ``use_cases.py``) works through, as
Protocols: ``chassis.db`` satisfies them in a running service, the in-memory
fakes of ``tests/test_use_cases.py`` in a test. One definition for every
service, so the fakes and the real thing are held to the same shape."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class UnitOfWork(Protocol):
    """One transaction (chassis.db.UnitOfWork): SQL, and events into its outbox,
    which leave only if it commits."""

    def execute(self, sql: str, params: Any = None) -> Any: ...

    def fetch_one(self, sql: str, params: Any = None) -> Row | None: ...

    def fetch_all(self, sql: str, params: Any = None) -> list[Row]: ...

    def publish(self, event_type: str, payload: Row, partner_id: str | None = None) -> Any: ...


class Transactions(Protocol):
    """chassis.db.DatabaseSession: ``with db.transaction() as uow`` commits on leaving;
    ``consuming(event)`` yields None for an event this handler already processed (inbox)."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def consuming(self, envelope: Any) -> AbstractContextManager[UnitOfWork | None]: ...
