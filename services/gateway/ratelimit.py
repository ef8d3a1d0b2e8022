"""Rate limits per client address (429), for login and sign-up.

A sliding-window log per (rule, address), kept in the gateway process: a
limit of ``N/S`` allows N attempts in any S seconds. Every attempt counts, not
only failed ones (credential stuffing tries many logins, one attempt each).
With several gateway processes each keeps its own count, so the effective
limit is N per process; a shared store would be the next step.

The client address is ``request.remote_addr``; X-Forwarded-For is not trusted
(any client could send one). Configured in the gateway's config.yaml as
``RATE_LIMIT_<RULE>: "N/S"``.
"""
from __future__ import annotations

import math
import time
from collections import deque

from nameko.extensions import DependencyProvider

from chassis.errors import RateLimited

DEFAULT_RULES = {"login": "20/60", "signup": "10/3600"}
SWEEP_EVERY = 1000  # checks between sweeps of idle addresses (bounds memory)


def parse_rule(text: str) -> tuple[int, float]:
    count, _, seconds = str(text).partition("/")
    count, seconds = int(count), float(seconds)
    if count < 1 or seconds <= 0:
        raise ValueError(f"rate limit {text!r}: want N/S with N >= 1 and S > 0")
    return count, seconds


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, clock=time.monotonic):
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.hits: dict[str, deque] = {}
        self.checks = 0

    def hit(self, key: str) -> float:
        """Record an attempt; 0 when allowed, else the seconds until one is."""
        now = self.clock()
        self.checks += 1
        if self.checks % SWEEP_EVERY == 0:
            self._sweep(now)
        window = self.hits.setdefault(key, deque())
        while window and window[0] <= now - self.seconds:
            window.popleft()
        if len(window) >= self.limit:
            return window[0] + self.seconds - now
        window.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        for key in [k for k, w in self.hits.items() if not w or w[-1] <= now - self.seconds]:
            del self.hits[key]


class RateLimits(DependencyProvider):
    """``self.rate_limits.check("login", request.remote_addr)`` in a route."""

    def setup(self):
        config = self.container.config
        self.windows = {rule: SlidingWindow(*parse_rule(config.get(f"RATE_LIMIT_{rule.upper()}") or default))
                        for rule, default in DEFAULT_RULES.items()}

    def get_dependency(self, worker_ctx):
        return self

    def check(self, rule: str, address: str | None) -> None:
        wait = self.windows[rule].hit(address or "unknown")
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(message="too many attempts from this address; try again later",
                              details={"retry_after_seconds": retry_after, "rule": rule})
