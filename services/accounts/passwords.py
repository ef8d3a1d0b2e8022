"""Password hashing with argon2id (argon2-cffi), off the eventlet hub.

A hash costs ~0.1 s of CPU and 64 MiB at the library's defaults (RFC 9106's
low-memory profile); run inline it would stall every other worker of the
process, so it runs in eventlet's thread pool (argon2-cffi releases the GIL).
The cost parameters come from the service config (tests lower them); each
hash records its own parameters, so hashes made at another cost still verify,
and a login rehashes one made at a cost that is no longer current.
"""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

# A hash of nothing anybody knows: unknown logins verify against it, so that
# they take as long as a wrong password (no login-id oracle by timing).
_DUMMY_PASSWORD = "no member has this password"


@lru_cache(maxsize=8)
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_from_config(config: dict) -> PasswordHasher:
    defaults = PasswordHasher()
    return hasher(int(config.get("ARGON2_TIME_COST") or defaults.time_cost),
                  int(config.get("ARGON2_MEMORY_KIB") or defaults.memory_cost),
                  int(config.get("ARGON2_PARALLELISM") or defaults.parallelism))


def hash_password(ph: PasswordHasher, password: str) -> str:
    return tpool.execute(ph.hash, password)


@lru_cache(maxsize=8)
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash(_DUMMY_PASSWORD)


def verify_password(ph: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown member (no hash) costs the same."""
    candidate = stored_hash or _dummy_hash(ph)
    try:
        ok = tpool.execute(ph.verify, candidate, password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored_hash is not None


def needs_rehash(ph: PasswordHasher, stored_hash: str) -> bool:
    return ph.check_needs_rehash(stored_hash)
