"""Run one service: ``python -m chassis.run <service>``.

Monkey-patches first, configures logging once, creates the database and
applies migrations (safe when several instances start together), then runs
the service until SIGTERM or SIGINT, when it stops gracefully: consumers stop
taking messages and in-flight workers finish (unacked messages are
redelivered to another instance if the process is killed instead).
"""

from __future__ import annotations

import warnings
from typing import Any

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from .config import load_config, service_dir, service_name  # noqa: E402
from .db import ensure_cooperative_wait  # noqa: E402
from .logging import configure_logging, get_logger  # noqa: E402
from .migrations import apply_migrations, ensure_database  # noqa: E402

STOP_TIMEOUT = 20


def import_service_class(dotted: str) -> type:
    module_name, _, class_name = dotted.partition(":")
    service_class: type = getattr(importlib.import_module(module_name), class_name)
    return service_class


def prepare_database(config: dict[str, Any], service: str) -> None:
    if config.get("DATABASE_URL"):
        ensure_database(config["DATABASE_URL"])
        apply_migrations(config["DATABASE_URL"], service)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one partner-center service.")
    parser.add_argument(
        "service", help="directory name under services/ (e.g. accounts), or a path to a service directory"
    )
    parser.add_argument("--no-migrate", action="store_true", help="skip database creation and migrations")
    args = parser.parse_args(argv)

    config = load_config(args.service)
    sys.path.insert(0, str(service_dir(args.service).parent))  # services/ holds the service packages
    configure_logging(service_name(args.service), os.environ.get("PC_LOG_LEVEL", "INFO"))
    log = get_logger("chassis.run")
    ensure_cooperative_wait()
    if not args.no_migrate:
        prepare_database(config, args.service)

    runner = ServiceRunner(config)
    runner.add_service(import_service_class(config["SERVICE_CLASS"]))

    stop_reason: list[Any] = []
    # Signal handlers only set a flag: the main loop notices within 0.2 s.
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop_reason.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _frame: stop_reason.append(signum))

    def watch_containers() -> None:
        try:
            runner.wait()
        except Exception as exc:  # a container died: exit non-zero, do not limp on
            log.error("container_died", error=repr(exc))
            stop_reason.append("container_died")

    runner.start()
    eventlet.spawn(watch_containers)
    log.info("service_started", pid=os.getpid())
    while not stop_reason:
        eventlet.sleep(0.2)
    log.info("service_stopping", reason=str(stop_reason[0]))
    with eventlet.Timeout(STOP_TIMEOUT, False):
        runner.stop()
        return 0 if stop_reason[0] != "container_died" else 1
    runner.kill()
    return 1


if __name__ == "__main__":
    sys.exit(main())
