"""Password hashing with argon2id (argon2-cffi), off the eventlet hub.

A hash costs ~0.1 s of CPU and 64 MiB at the library's defaults (RFC 9106's
low-memory profile); run inline it would stall every other worker of the
process, so it runs in eventlet's thread pool (argon2-cffi releases the GIL).
The cost parameters come from the service config (tests lower them); each
hash records its own parameters, so hashes made at another cost still verify,
and a login rehashes one made at a cost that is no longer current.

Each hash holds its memory cost for as long as it runs, so a burst of logins
could take more memory than the pod has (10 at once took 642 MiB against a
512 MiB limit). ``HashSlots`` bounds the hashes running at once in a process
to what ``ARGON2_MEMORY_BUDGET_MIB`` holds (default 256: half of the pod's
limit; 4 hashes at 64 MiB). A login that finds no slot waits up to
``ARGON2_WAIT_SECONDS`` (default 1) and is then refused with 503 ``busy``, so
workers are not held by a queue and the service still answers its health
check while logins queue.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from eventlet.semaphore import Semaphore

from chassis.errors import ServiceUnavailable

# A hash of nothing anybody knows: unknown logins verify against it, so that
# they take as long as a wrong password (no login-id oracle by timing).
_DUMMY_PASSWORD = "no member has this password"


@lru_cache(maxsize=8)
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_from_config(config: dict) -> PasswordHasher:
    defaults = PasswordHasher()
    return hasher(
        int(config.get("ARGON2_TIME_COST") or defaults.time_cost),
        int(config.get("ARGON2_MEMORY_KIB") or defaults.memory_cost),
        int(config.get("ARGON2_PARALLELISM") or defaults.parallelism),
    )


DEFAULT_MEMORY_BUDGET_MIB = 256
DEFAULT_WAIT_SECONDS = 1.0


class HashSlots:
    """At most ``size`` hashes at once in this process; ``peak`` is the most seen."""

    def __init__(self, size: int, wait_seconds: float):
        self.size, self.wait_seconds = size, wait_seconds
        self.semaphore = Semaphore(size)
        self.running = self.peak = self.refused = 0

    def run(self, function, *args):
        if not self.semaphore.acquire(timeout=self.wait_seconds):
            self.refused += 1
            raise ServiceUnavailable(
                "busy", "too many sign-ins at this moment; try again in a few seconds", {"retry_after_seconds": 1}
            )
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            return tpool.execute(function, *args)
        finally:
            self.running -= 1
            self.semaphore.release()


@lru_cache(maxsize=8)
def hash_slots(memory_kib: int, budget_mib: int, wait_seconds: float) -> HashSlots:
    """One bound per process and configuration (the service's workers share it)."""
    return HashSlots(max(1, (budget_mib * 1024) // max(1, memory_kib)), wait_seconds)


def slots_from_config(ph: PasswordHasher, config: dict) -> HashSlots:
    return hash_slots(
        ph.memory_cost,
        int(config.get("ARGON2_MEMORY_BUDGET_MIB") or DEFAULT_MEMORY_BUDGET_MIB),
        float(config.get("ARGON2_WAIT_SECONDS") or DEFAULT_WAIT_SECONDS),
    )


def hash_password(ph: PasswordHasher, slots: HashSlots, password: str) -> str:
    return slots.run(ph.hash, password)


@lru_cache(maxsize=8)
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash(_DUMMY_PASSWORD)


def verify_password(ph: PasswordHasher, slots: HashSlots, stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown member (no hash) costs the same."""
    candidate = stored_hash or _dummy_hash(ph)
    try:
        ok = slots.run(ph.verify, candidate, password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored_hash is not None


def needs_rehash(ph: PasswordHasher, stored_hash: str) -> bool:
    return ph.check_needs_rehash(stored_hash)


class Argon2Passwords:
    """The use cases' ``PasswordsPort``: this process's hasher and its bound of
    hashes at once, both from the service config. Made on first use: every
    partner request builds the use cases (``authenticate``) and needs neither."""

    def __init__(self, config: dict):
        self.config = config

    @cached_property
    def hasher(self) -> PasswordHasher:
        return hasher_from_config(self.config)

    @cached_property
    def slots(self) -> HashSlots:
        return slots_from_config(self.hasher, self.config)

    def hash(self, password: str) -> str:
        return hash_password(self.hasher, self.slots, password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        return verify_password(self.hasher, self.slots, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return needs_rehash(self.hasher, stored_hash)
