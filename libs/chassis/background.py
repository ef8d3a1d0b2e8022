"""A background loop in a managed greenthread of a service's container: the
outbox relay and notifications' delivery worker are both one.

``poll_once()`` claims and handles a batch and returns how many rows it took.
The loop calls it again at once while more may be waiting (``more_waiting``:
by default, while it finds work); otherwise it sleeps until ``wake()`` (the
dependency workers get: "there is new work") or ``poll_interval`` passes. A
``wake()`` during a pass is kept for the next wait, which then returns at
once. An exception (broker or database away) is logged and backed off
exponentially up to 5 s, keeping the rows for the next pass.
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
    identifier = "polling_loop"  # names the greenthread and the log lines
    enabled = True
    poll_interval = 0.5

    def setup(self) -> None:
        self.wakeup = Event()
        self.running = False
        self.thread = None

    def poll_once(self) -> int:
        raise NotImplementedError

    def more_waiting(self, claimed: int) -> bool:
        """Whether a pass that claimed ``claimed`` rows may have left work behind."""
        return claimed > 0

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
                eventlet.sleep(min(0.2 * 2**failures, MAX_BACKOFF_SECONDS))
            if not self.more_waiting(claimed) and self.running:
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
