"""A background loop in a managed greenthread of a service's container: the
outbox relay and notifications' delivery worker are both one.

``poll_once()`` claims and handles a batch and returns how many rows it took.
The loop calls it again at once while it finds work; when it finds none it
sleeps until ``wake()`` (the dependency workers get: "there is new work") or
``poll_interval`` passes; an exception (broker or database away) is logged and
backed off exponentially up to 5 s, keeping the rows for the next pass.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from .logging import get_logger

log = get_logger(__name__)

MAX_BACKOFF_SECONDS = 5.0


class PollingLoop(DependencyProvider):
    identifier = "polling_loop"     # names the greenthread and the log lines
    enabled = True
    poll_interval = 0.5

    def setup(self) -> None:
        self.wakeup = Event()
        self.running = False
        self.thread = None

    def poll_once(self) -> int:
        raise NotImplementedError

    def start(self) -> None:
        if self.enabled:
            self.running = True
            self.thread = self.container.spawn_managed_thread(self._run, identifier=self.identifier)

    def wake(self) -> None:
        if not self.wakeup.ready():
            self.wakeup.send(True)

    def _run(self) -> None:
        failures = 0
        while self.running:
            try:
                claimed = self.poll_once()
                failures = 0
            except Exception as exc:
                failures += 1
                claimed = 0
                log.warning(f"{self.identifier}_error", error=repr(exc), failures=failures)
                eventlet.sleep(min(0.2 * 2 ** failures, MAX_BACKOFF_SECONDS))
            if claimed == 0 and self.running:
                with eventlet.Timeout(self.poll_interval, False):
                    self.wakeup.wait()
                self.wakeup = Event()

    def stop(self) -> None:
        self.running = False
        self.wake()
        if self.thread is not None:
            with eventlet.Timeout(5, False):
                self.thread.wait()

    def kill(self) -> None:
        self.running = False
        self.wake()

    def get_dependency(self, worker_ctx: Any) -> Callable[[], None]:
        return self.wake
