"""Rate limits (429): login and sign-up per client address, bookings and
orders per customer.

A sliding-window log per (rule, key): a limit of ``N/S`` allows N attempts in
any S seconds. Every attempt counts, not only failed ones (credential stuffing
tries many logins, one attempt each).

The counters live in Redis (``REDIS_URL``), shared by every gateway replica,
so N/S holds for the platform, not per process: one sorted set per (rule,
key), trimmed, counted and added to in one Lua script (atomic on the server).
Keys are prefixed by ``RATE_LIMIT_NAMESPACE`` (each test run has its own).
If Redis cannot be reached the gateway keeps limiting with a window in its own
process (logged once per outage), rather than refusing every login.

The client address is ``request.remote_addr``, unless that is one of the
``TRUSTED_PROXIES`` (CIDR ranges of this platform's load balancers, comma
separated; none by default): then ``X-Forwarded-For`` is read from the right,
skipping trusted hops, and the first address that is not ours is the client.
A client cannot pick its own address by sending the header: only what our
proxies appended is believed.

Configured in the gateway's config.yaml as ``RATE_LIMIT_<RULE>: "N/S"``.
"""

from __future__ import annotations

import ipaddress
import math
import time
import uuid
from collections import deque

import redis
from nameko.extensions import DependencyProvider

from chassis.errors import RateLimited
from chassis.logging import get_logger

from .http import error_response

log = get_logger(__name__)

DEFAULT_RULES = {"login": "20/60", "signup": "10/3600", "booking": "30/3600", "order": "30/3600"}
SWEEP_EVERY = 1000  # checks between sweeps of idle keys (bounds memory of the fallback)
REDIS_TIMEOUT = 0.5

# KEYS[1] the window; ARGV: now (ms), window (ms), limit, a unique member.
# Returns 0 when allowed (and recorded), else the ms until the oldest attempt leaves the window.
SLIDING_WINDOW_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""


def parse_rule(text: str) -> tuple[int, float]:
    count_text, _, seconds_text = str(text).partition("/")
    count, seconds = int(count_text), float(seconds_text)
    if count < 1 or seconds <= 0:
        raise ValueError(f"rate limit {text!r}: want N/S with N >= 1 and S > 0")
    return count, seconds


class SlidingWindow:
    """The in-process window: the fallback while Redis is unreachable."""

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


class SharedWindow:
    """The same window in Redis, shared by every gateway process."""

    def __init__(self, client: redis.Redis, script, name: str, limit: int, seconds: float, clock=time.time):
        self.client, self.script, self.name = client, script, name
        self.limit, self.seconds, self.clock = limit, seconds, clock

    def hit(self, key: str) -> float:
        wait_ms = self.script(
            keys=[f"{self.name}:{key}"],
            args=[int(self.clock() * 1000), int(self.seconds * 1000), self.limit, uuid.uuid4().hex],
            client=self.client,
        )
        return int(wait_ms) / 1000.0


def trusted_networks(text) -> list:
    if isinstance(text, (list, tuple)):
        text = ",".join(str(t) for t in text)
    return [ipaddress.ip_network(part.strip(), strict=False) for part in str(text or "").split(",") if part.strip()]


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: list) -> str:
    """The client's address: X-Forwarded-For counts only through trusted proxies."""

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    address = remote_addr or "unknown"
    if not trusted or not is_trusted(address) or not forwarded_for:
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # garbage in the header: the proxy itself is all we know
        address = hop
    return address


class RateLimits(DependencyProvider):
    """``self.rate_limits.check("login", self.rate_limits.client(request))`` in a route."""

    def setup(self):
        config = self.container.config
        self.rules = {
            rule: parse_rule(config.get(f"RATE_LIMIT_{rule.upper()}") or default)
            for rule, default in DEFAULT_RULES.items()
        }
        self.trusted = trusted_networks(config.get("TRUSTED_PROXIES"))
        self.local = {rule: SlidingWindow(*limit) for rule, limit in self.rules.items()}
        namespace = config.get("RATE_LIMIT_NAMESPACE") or "pc"
        url = config.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        script = client.register_script(SLIDING_WINDOW_LUA)
        self.shared = {
            rule: SharedWindow(client, script, f"{namespace}:rl:{rule}", *limit) for rule, limit in self.rules.items()
        }
        self.redis_down = False

    def get_dependency(self, worker_ctx):
        return self

    def client(self, request) -> str:
        return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), self.trusted)

    def check(self, rule: str, key: str | None) -> None:
        wait = self._hit(rule, key or "unknown")
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(
                message="too many attempts; try again later", details={"retry_after_seconds": retry_after, "rule": rule}
            )

    def _hit(self, rule: str, key: str) -> float:
        try:
            wait = self.shared[rule].hit(key)
        except redis.RedisError as exc:
            if not self.redis_down:
                log.warning("rate_limit_store_unreachable", error=repr(exc)[:200])
            self.redis_down = True
            return self.local[rule].hit(key)
        self.redis_down = False
        return wait


class RateLimitedRoutes:
    """Route mixin: ``self._rate_limited(rule, request, key=None)`` is None when
    the caller may go on, else the 429 response with Retry-After; the key is
    the client's address unless given (a customer id)."""

    rate_limits = RateLimits()

    def rate_limited(self, rule: str, request):
        """``@route(..., rate_limit=rule)``'s hook (gateway.http), counted before the body is
        read: per customer when the caller is one (issue 16: a customer's bookings and orders,
        wherever they come from), else per client address."""
        return self._rate_limited(rule, request, getattr(request.principal, "customer_id", None) or None)

    def _rate_limited(self, rule: str, request, key: str | None = None):
        try:
            self.rate_limits.check(rule, key if key is not None else self.rate_limits.client(request))
        except RateLimited as exc:
            response = error_response(exc, request)
            response.headers["Retry-After"] = str(exc.details["retry_after_seconds"])
            return response
        return None
