"""What an application layer (a service's ``use_cases.py``) works through, as
Protocols: ``chassis.db`` satisfies them in a running service, the in-memory
fakes of ``tests/test_use_cases.py`` in a test. One definition for every
service, so the fakes and the real thing are held to the same shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

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
    ``statement()`` for work whose statements each stand alone;
    ``consuming(event)`` yields None for an event this handler already processed (inbox)."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def statement(self) -> AbstractContextManager[UnitOfWork]:
        """Each statement its own transaction (no BEGIN/COMMIT round trips); publishing refused."""
        ...

    def consuming(self, envelope: Any) -> AbstractContextManager[UnitOfWork | None]: ...


CatalogT = TypeVar("CatalogT")
AccountsT = TypeVar("AccountsT")
SettingsT = TypeVar("SettingsT")


def _nothing() -> None:
    pass


@dataclass(eq=False)
class HoldingUseCases(Generic[CatalogT, AccountsT, SettingsT]):
    """The base of the use cases of a service that holds the catalog's stock
    (orders, reservations): its transactions, its repository (``store.py``, or an
    in-memory fake of its functions), its ports to the catalog and accounts, its
    settings and clock. ``after_hold`` runs with a hold taken and nothing recorded
    yet: where crash tests die."""

    db: Transactions
    store: Any
    catalog: CatalogT
    accounts: AccountsT
    settings: SettingsT
    now: Callable[[], dt.datetime]
    after_hold: Callable[[], None] = _nothing
