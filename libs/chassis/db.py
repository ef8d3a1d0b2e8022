"""The database provider: one psycopg 3 pool per service process, one
transaction per unit of work, rolled back unless it completes.

The pool is small and elastic (``pool_limits``): it keeps ``DB_POOL_MIN``
connections, opens more only when a worker would otherwise wait, up to
``DB_POOL_MAX``, and closes one connection each ``DB_POOL_MAX_IDLE`` seconds
in which some stayed unused. The sizes come from measurement (README,
"Connections"), not from ``max_workers``: a booking holds a connection only
for its SQL, never across an RPC, so a few connections serve ten workers. A
worker that gets no connection within ``DB_POOL_TIMEOUT`` answers 503
(``ServiceUnavailable``); that timeout stays under the callers' RPC deadline,
so the worker says so itself instead of working on after its caller gave up.

psycopg's default wait function (C, ``wait_c``) blocks the whole eventlet hub,
so every other worker stalls behind one query. ``wait_select`` goes through
the (monkey-patched, cooperative) ``select`` module instead. A service refuses
to start when psycopg would block.

Pooled connections are in autocommit mode, so that a unit of work that is one
statement (``statement()``: a token lookup, an Idempotency-Key claim) runs as
that statement alone: PostgreSQL makes one statement atomic by itself, and the
BEGIN and COMMIT round trips were two of its three (about 190 us of CPU of the
330 us, measured under eventlet with ``wait_select``; issue 20).
``transaction()`` is unchanged: psycopg sends BEGIN and COMMIT around it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any

import psycopg  # noqa: E402
import psycopg.waiting  # noqa: E402
from nameko.extensions import DependencyProvider, SharedExtension  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402
from psycopg_pool import ConnectionPool, PoolTimeout  # noqa: E402

from .context import CORRELATION_KEY  # noqa: E402
from .contracts import validate_payload  # noqa: E402
from .envelope import Envelope  # noqa: E402
from .errors import ServiceUnavailable  # noqa: E402
from .logging import get_logger  # noqa: E402

log = get_logger(__name__)

COOPERATIVE_WAIT_FUNCTIONS = ("wait_select",)
# A pooled connection idle longer than this is pinged before it is handed out;
# one used more recently is trusted (a ping per transaction costs a round trip).
# A connection that broke meanwhile fails its transaction once and the pool drops it.
# A row as every pool hands it out (row_factory=dict_row): column name -> value.
Row = dict[str, Any]
Connection = psycopg.Connection[Row]

IDLE_CHECK_SECONDS = 2.0


# Defaults for a service whose config.yaml does not name its own (tests' stand-ins).
DEFAULT_POOL_MIN = 1
DEFAULT_POOL_MAX = 4
DEFAULT_POOL_MAX_IDLE = 5.0  # seconds; a pool at 8 is back at 1 within 35-40 s
DEFAULT_POOL_TIMEOUT = 2.0  # seconds; under the default RPC_TIMEOUT (5)


class BlockingWaitFunction(RuntimeError):
    pass


def make_psycopg_cooperative() -> None:
    psycopg.waiting.wait = psycopg.waiting.wait_select


def ensure_cooperative_wait() -> None:
    name = getattr(psycopg.waiting.wait, "__name__", repr(psycopg.waiting.wait))
    if name not in COOPERATIVE_WAIT_FUNCTIONS:
        raise BlockingWaitFunction(
            f"psycopg uses {name}, which blocks every eventlet worker; "
            "set PSYCOPG_WAIT_FUNC=wait_select before psycopg is imported"
        )


@dataclass(frozen=True)
class PoolLimits:
    min_size: int
    max_size: int
    max_idle: float
    timeout: float


def pool_limits(config: dict[str, Any]) -> PoolLimits:
    """The pool a service's config asks for (``make run`` adds up the maxima)."""
    limits = PoolLimits(
        min_size=int(config.get("DB_POOL_MIN", DEFAULT_POOL_MIN)),
        max_size=int(config.get("DB_POOL_MAX", DEFAULT_POOL_MAX)),
        max_idle=float(config.get("DB_POOL_MAX_IDLE", DEFAULT_POOL_MAX_IDLE)),
        timeout=float(config.get("DB_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT)),
    )
    if not 0 <= limits.min_size <= limits.max_size or limits.max_size < 1:
        raise ValueError(
            f"DB_POOL_MIN {limits.min_size} and DB_POOL_MAX {limits.max_size}: "
            "need 0 <= DB_POOL_MIN <= DB_POOL_MAX and DB_POOL_MAX >= 1"
        )
    if limits.max_idle <= 0 or limits.timeout <= 0:
        raise ValueError("DB_POOL_MAX_IDLE and DB_POOL_TIMEOUT must be positive seconds")
    return limits


class DatabasePool(SharedExtension):
    """One pool per container, shared by the Database provider and the relay."""

    def __init__(self) -> None:
        super().__init__()
        self.outbox_listeners: list[Callable[[], None]] = []  # the relay wakes at once, not at its next poll

    def setup(self) -> None:
        ensure_cooperative_wait()
        config = self.container.config
        self.url = config["DATABASE_URL"]
        limits = pool_limits(config)
        self.pool = ConnectionPool(
            self.url,
            min_size=limits.min_size,
            max_size=limits.max_size,
            max_idle=limits.max_idle,
            timeout=limits.timeout,
            open=False,
            name=self.container.service_name,
            kwargs={"row_factory": dict_row, "autocommit": True},  # transaction() begins its own (above)
            check=check_if_idle,
        )

    def start(self) -> None:
        self.pool.open(wait=False)

    def notify_outbox_written(self) -> None:
        for listener in self.outbox_listeners:
            listener()

    def stop(self) -> None:
        self.pool.close(timeout=5)

    kill = stop

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        try:
            with self.pool.connection() as conn:
                yield conn
                mark_used(conn)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise ServiceUnavailable(message="database unavailable") from exc


def add_filters(where: list[str], params: list[Any], *filters: tuple[str, Any]) -> None:
    """A list's optional filters: each ``(condition, value)`` whose value is not
    None adds its condition (one ``%s``) to ``where`` and its value to ``params``;
    a None value filters nothing."""
    for condition, value in filters:
        if value is not None:
            where.append(condition)
            params.append(value)


def like_part(text: str) -> str:
    """A ``LIKE`` pattern matching values that contain ``text`` taken literally."""
    return "%" + like_prefix(text)


def like_prefix(text: str) -> str:
    """A ``LIKE`` pattern matching values that start with ``text`` taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def mark_used(conn: Connection) -> None:
    conn._pc_used_at = time.monotonic()  # type: ignore[attr-defined]  # our mark on psycopg's object


def check_if_idle(conn: Connection) -> None:
    if time.monotonic() - getattr(conn, "_pc_used_at", 0.0) > IDLE_CHECK_SECONDS:
        ConnectionPool.check_connection(conn)


class UnitOfWork:
    """One transaction. ``publish`` writes to the outbox inside it;
    ``first_delivery`` writes to the inbox inside it."""

    def __init__(self, conn: Connection, worker_ctx: Any = None, source: str = ""):
        self.conn = conn
        self.worker_ctx = worker_ctx
        self.source = source
        self.published: list[Envelope] = []

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor[Row]:
        return self.conn.execute(sql, params)

    def fetch_one(self, sql: str, params: Any = None) -> Row | None:
        return self.conn.execute(sql, params).fetchone()

    def fetch_all(self, sql: str, params: Any = None) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def publish(self, event_type: str, payload: dict[str, Any], partner_id: str | None = None) -> Envelope:
        context = self.worker_ctx.context_data if self.worker_ctx else {}
        envelope = Envelope(
            type=event_type,
            source=self.source,
            partner_id=partner_id,
            correlation_id=context.get(CORRELATION_KEY),
            payload=validate_payload(event_type, payload),
        )
        self.conn.execute(
            "INSERT INTO outbox (event_id, event_type, body) VALUES (%s, %s, %s)",
            (envelope.event_id, envelope.type, Jsonb(envelope.model_dump(mode="json"))),
        )
        self.published.append(envelope)
        return envelope

    def first_delivery(self, handler: str, envelope: Envelope) -> bool:
        """Record the event in the inbox; False when this handler already processed it."""
        row = self.conn.execute(
            "INSERT INTO inbox (handler, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (handler, envelope.event_id),
        ).fetchone()
        return row is not None


class Statement(UnitOfWork):
    """Work done one statement at a time, each its own transaction: nothing may be
    published (an outbox row must commit with its change, in one transaction)."""

    def publish(self, event_type: str, payload: dict[str, Any], partner_id: str | None = None) -> Envelope:
        raise TypeError(f"{event_type}: an event is published inside transaction(), never statement()")

    def first_delivery(self, handler: str, envelope: Envelope) -> bool:
        raise TypeError("an event is consumed inside consuming(), never statement()")


class DatabaseSession:
    """What a worker gets: ``with self.db.transaction() as uow: ...``."""

    def __init__(self, provider: Database, worker_ctx: Any):
        self.provider = provider
        self.worker_ctx = worker_ctx

    @property
    def handler_name(self) -> str:
        return f"{self.worker_ctx.service_name}.{self.worker_ctx.entrypoint.method_name}"

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        with self.provider.pool.connection() as conn, conn.transaction():
            uow = UnitOfWork(conn, self.worker_ctx, self.worker_ctx.service_name)
            yield uow
        if uow.published:
            self.provider.after_commit_with_events()

    @contextmanager
    def statement(self) -> Iterator[UnitOfWork]:
        """For work whose every statement is complete in itself (a read, or a write
        that needs no other to commit with it): no BEGIN, no COMMIT."""
        with self.provider.pool.connection() as conn:
            yield Statement(conn, self.worker_ctx, self.worker_ctx.service_name)

    @contextmanager
    def consuming(self, envelope: Envelope) -> Iterator[UnitOfWork | None]:
        """A transaction for an event handler: yields None when the event was
        already processed by this handler (the duplicate has no effect)."""
        with self.transaction() as uow:
            yield uow if uow.first_delivery(self.handler_name, envelope) else None


class Database(DependencyProvider):
    pool = DatabasePool()

    def after_commit_with_events(self) -> None:
        self.pool.notify_outbox_written()

    def get_dependency(self, worker_ctx: Any) -> DatabaseSession:
        return DatabaseSession(self, worker_ctx)
