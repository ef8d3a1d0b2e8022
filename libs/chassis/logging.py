"""structlog JSON logging, configured once per process.

Every line carries ``service``; inside a worker also ``entrypoint`` and
``correlation_id`` (bound by ``WorkerContext``, see ``context.py``). Each
nameko worker runs in its own greenlet, and greenlets have their own
contextvars, so bindings never leak between concurrent workers.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured_for: str | None = None


def configure_logging(service: str, level: str = "INFO") -> None:
    global _configured_for
    if _configured_for is not None:
        return
    _configured_for = service
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, _add_service, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    # Library logs (nameko, kombu) go through the same JSON renderer.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _add_service,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _add_service(_logger: Any, _method: str, event_dict: structlog.typing.EventDict) -> structlog.typing.EventDict:
    event_dict.setdefault("service", _configured_for)
    return event_dict


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
