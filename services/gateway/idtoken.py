"""Customer sign-in by the messenger's OpenID Connect ID token (R-ACC-12).

``POST /v1/customer-sessions {"id_token": ...}``: the gateway verifies the
token and accounts opens a session for the customer it names. Verified means:

- signed with the one configured algorithm (``OIDC_ALGORITHM``, ES256 or
  RS256; ``none`` and HMAC are never accepted, whatever the header says) by a
  key of the issuer's JWKS (``OIDC_JWKS_URL``). The key set is cached for
  ``OIDC_JWKS_TTL_SECONDS`` and fetched again when a token names a key id it
  does not hold (the issuer rotated), at most once per
  ``OIDC_JWKS_MIN_REFRESH_SECONDS``, so made-up key ids cannot turn the gateway
  into a flood against the issuer;
- ``iss`` is ``OIDC_ISSUER``, ``aud`` holds ``OIDC_AUDIENCE``, ``exp`` is in
  the future and ``iat`` not (30 s of clock skew allowed), ``sub`` present;
- the phone is the token's ``phone_number``, and only when
  ``phone_number_verified`` is true: a phone number proves nothing by itself.

Anything else is 401 ``invalid_id_token`` (the reason is logged, not told).
With ``OIDC_ISSUER`` empty the built-in development issuer (``devissuer``) is
the issuer, its JWKS served by this gateway; ``PRODUCTION`` on refuses that.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jwt
import requests
from nameko.extensions import DependencyProvider
from pydantic import Field, StrictStr

from chassis.config import REPO_ROOT
from chassis.errors import Unauthenticated
from chassis.logging import get_logger
from chassis.validation import Strict, parse

from . import devissuer

log = get_logger(__name__)

ALLOWED_ALGORITHMS = ("ES256", "RS256")
CLOCK_SKEW_SECONDS = 30
JWKS_FETCH_TIMEOUT = 3
MAX_JWKS_BYTES = 64 * 1024


class IdTokenIn(Strict):
    id_token: StrictStr = Field(min_length=1, max_length=8192)


def invalid_id_token():
    return Unauthenticated("invalid_id_token", "the ID token is not one this platform accepts: sign in again")


def fetch_jwks(url: str) -> dict:
    response = requests.get(url, timeout=JWKS_FETCH_TIMEOUT, stream=True)
    response.raise_for_status()
    body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError("JWKS larger than allowed")
    return json.loads(body)


class JwksCache:
    """One issuer's signing keys by key id (see the module docstring)."""

    def __init__(self, url: str, ttl: float = 3600, min_refresh: float = 30, fetch=fetch_jwks, clock=time.monotonic):
        self.url, self.ttl, self.min_refresh, self.fetch, self.clock = url, ttl, min_refresh, fetch, clock
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None
        self.fetches = 0
        self.lock = threading.Lock()  # green under eventlet: one fetch at a time

    def key(self, kid: str | None) -> Any:
        if self._stale() or (kid not in self.keys and self._may_refresh()):
            with self.lock:
                if self._stale() or (kid not in self.keys and self._may_refresh()):
                    self._refresh()
        return self.keys.get(kid) if kid is not None else None

    def _stale(self) -> bool:
        return self.fetched_at is None or self.clock() - self.fetched_at >= self.ttl

    def _may_refresh(self) -> bool:
        return self.fetched_at is None or self.clock() - self.fetched_at >= self.min_refresh

    def _refresh(self) -> None:
        # fetched_at is set once the fetch is over (a failed one also waits min_refresh before the
        # next): lookups arriving meanwhile still see the keys as stale and wait on the lock for them.
        self.fetches += 1
        try:
            document = self.fetch(self.url)
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kid") and jwk.get("use", "sig") == "sig":
                    try:
                        keys[jwk["kid"]] = jwt.PyJWK(jwk)
                    except jwt.PyJWTError:
                        continue  # a key of a kind we do not use
            self.keys = keys
        except Exception as exc:  # keep the keys we had: the issuer may be down a moment
            log.warning("jwks_fetch_failed", url=self.url, error=repr(exc)[:200])
        finally:
            self.fetched_at = self.clock()


class IdTokenVerifier:
    def __init__(self, issuer: str, audience: str, algorithm: str, jwks: JwksCache):
        if algorithm not in ALLOWED_ALGORITHMS:
            raise ValueError(f"OIDC_ALGORITHM {algorithm!r}: want one of {ALLOWED_ALGORITHMS}")
        self.issuer, self.audience, self.algorithm, self.jwks = issuer, audience, algorithm, jwks

    def verify(self, body) -> dict:
        """The verified identity ``{issuer, subject, phone_number, name}``, or 401."""
        token = parse(IdTokenIn, body).id_token
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self.algorithm:
                raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r}")
            key = self.jwks.key(header.get("kid"))
            if key is None:
                raise jwt.InvalidKeyError(f"unknown kid {header.get('kid')!r}")
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            log.info("id_token_refused", reason=f"{type(exc).__name__}: {exc}"[:200])
            raise invalid_id_token() from None
        phone = claims.get("phone_number")
        if not isinstance(phone, str) or claims.get("phone_number_verified") is not True:
            log.info("id_token_refused", reason="no verified phone_number")
            raise invalid_id_token()
        name = claims.get("name")
        return {
            "issuer": claims["iss"],
            "subject": str(claims["sub"]),
            "phone_number": phone,
            "name": name if isinstance(name, str) else None,
        }


def is_on(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def seconds(config, key: str, default: float) -> float:
    value = config.get(key)
    return default if value in (None, "") else float(value)


def own_base_url(config) -> str:
    host, _, port = str(config["WEB_SERVER_ADDRESS"]).rpartition(":")
    return f"http://{'127.0.0.1' if host in ('', '0.0.0.0', '::') else host}:{port}"


class IdTokens(DependencyProvider):
    """``self.id_tokens.verify(body)``; ``self.id_tokens.dev_issuer`` is the
    development issuer when it is the configured one (else None)."""

    def setup(self):
        config = self.container.config
        issuer = str(config.get("OIDC_ISSUER") or "").strip()
        jwks_url = str(config.get("OIDC_JWKS_URL") or "").strip()
        self.dev_issuer = None
        if not issuer:
            if is_on(config.get("PRODUCTION")):
                raise RuntimeError(
                    "PRODUCTION is on: set OIDC_ISSUER and OIDC_JWKS_URL to the messenger's "
                    "identity provider (the development issuer is refused)"
                )
            key_file = REPO_ROOT / str(config.get("OIDC_DEV_KEY_FILE") or devissuer.DEFAULT_KEY_FILE)
            self.dev_issuer = devissuer.DevIssuer.from_file(key_file)
            issuer, jwks_url = self.dev_issuer.issuer, own_base_url(config) + devissuer.JWKS_PATH
        if not jwks_url:
            raise RuntimeError("OIDC_JWKS_URL is required with OIDC_ISSUER")
        jwks = JwksCache(
            jwks_url,
            ttl=seconds(config, "OIDC_JWKS_TTL_SECONDS", 3600),
            min_refresh=seconds(config, "OIDC_JWKS_MIN_REFRESH_SECONDS", 30),
            fetch=self.own_jwks if self.dev_issuer else fetch_jwks,
        )
        self.verifier = IdTokenVerifier(
            issuer,
            str(config.get("OIDC_AUDIENCE") or devissuer.DEFAULT_AUDIENCE),
            str(config.get("OIDC_ALGORITHM") or devissuer.ALGORITHM),
            jwks,
        )

    def own_jwks(self, _url: str) -> dict:
        # The built-in issuer's keys are read in-process: fetching them over HTTP from this very
        # gateway takes one of its own workers, and a burst of sign-ins holding every worker while
        # they wait for that fetch stalls until its timeout (seen: 20 at once on a loaded machine).
        return self.dev_issuer.jwks()

    def get_dependency(self, worker_ctx):
        return self

    def verify(self, body) -> dict:
        return self.verifier.verify(body)
