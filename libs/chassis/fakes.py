"""In-memory stand-ins for ``chassis.ports`` (test code): the transactions of a
fake repository, for the orchestration tests of ``use_cases.py`` that run in
milliseconds without PostgreSQL or RabbitMQ.

A transaction commits the repository's changes and its events together, or
neither: a failure puts every attribute of the repository back (rollback) and
drops the events it published (the outbox leaves only on commit). ``open``
counts the transactions open now, so a fake port can assert that no RPC is
made while rows are locked (issue 19)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chassis.contracts import validate_payload


class RecordingUnitOfWork:
    """One transaction's events, each checked against its contract payload model."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, event_type: str, payload: dict[str, Any], partner_id: str | None = None) -> None:
        self.published.append((event_type, validate_payload(event_type, payload)))


class InMemoryTransactions:
    """``Transactions`` over a fake repository; ``outbox`` holds the committed events in order,
    ``consumed`` the ids of the events consumed (the inbox: a transaction that fails leaves
    its event unconsumed). ``not_rolled_back`` names the repository's attributes that are
    not data (a clock)."""

    def __init__(self, store: Any, not_rolled_back: tuple[str, ...] = ()) -> None:
        self.store = store
        self.not_rolled_back = not_rolled_back
        self.outbox: list[tuple[str, dict[str, Any]]] = []
        self.consumed: set[Any] = set()
        self.open = 0

    def transaction(self) -> Any:
        """Typed loosely: the recording unit of work runs no SQL, so it is not a whole
        ``chassis.ports.UnitOfWork``; the fake repositories never ask it to."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[RecordingUnitOfWork]:
        before = copy.deepcopy({k: v for k, v in vars(self.store).items() if k not in self.not_rolled_back})
        uow = RecordingUnitOfWork()
        self.open += 1
        try:
            yield uow
        except BaseException:
            vars(self.store).update(before)
            raise
        finally:
            self.open -= 1
        self.outbox += uow.published

    def statement(self) -> Any:
        """Like a transaction that may not publish: a fake repository's statements
        are one call each, so there is nothing to roll back between them."""
        return self._statement()

    @contextmanager
    def _statement(self) -> Iterator[RecordingUnitOfWork]:
        uow = RecordingUnitOfWork()
        yield uow
        assert not uow.published, "statement() may not publish: an outbox row needs transaction()"

    def consuming(self, envelope: Any) -> Any:
        """As ``chassis.db``'s inbox: None for an event already consumed (a redelivery),
        else a transaction that marks it consumed if it commits."""
        return self._consuming(envelope)

    @contextmanager
    def _consuming(self, envelope: Any) -> Iterator[RecordingUnitOfWork | None]:
        if envelope.event_id in self.consumed:
            yield None
            return
        with self._transaction() as uow:
            yield uow
        self.consumed.add(envelope.event_id)
