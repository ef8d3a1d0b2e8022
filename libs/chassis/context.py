"""Correlation ids: one per request, carried across RPC calls and events.

nameko copies ``worker_ctx.context_data`` into the headers of every RPC it
makes, so a correlation id placed there follows the call chain. Events carry
it in their envelope; the event entrypoint puts it back into context_data.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from nameko.extensions import DependencyProvider

CORRELATION_KEY = "correlation_id"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class WorkerContext(DependencyProvider):
    """Binds service, entrypoint and correlation id to every log line of a worker."""

    # nameko injects dependencies before calling worker_setup, so the id is
    # settled here, where every other provider can already rely on it.
    def get_dependency(self, worker_ctx: Any) -> str:
        correlation_id = worker_ctx.context_data.get(CORRELATION_KEY) or new_correlation_id()
        worker_ctx.context_data[CORRELATION_KEY] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            entrypoint=f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}",
            correlation_id=correlation_id,
        )
        return correlation_id

    def worker_teardown(self, worker_ctx: Any) -> None:
        structlog.contextvars.clear_contextvars()
