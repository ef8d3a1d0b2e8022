"""The built-in development issuer (R-ACC-12): the messenger's identity
provider, played locally for ``make run`` and the tests.

In production the consumer app signs its user in with the messenger platform's
OpenID Connect provider and sends us that provider's ID token. Here nothing of
that exists, so the platform brings its own issuer: an ES256 key pair kept in a
file (``OIDC_DEV_KEY_FILE``, created on first use), whose public half the
gateway serves at ``/dev/oidc/jwks.json`` and verifies tokens against exactly
as it would the real provider's. Tokens are minted only by whoever can read
the key file (``make customer-token``, the test helpers), never over HTTP.
The gateway refuses to start with this issuer when ``PRODUCTION`` is on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://dev-issuer.partner-center.invalid"
JWKS_PATH = "/dev/oidc/jwks.json"
ALGORITHM = "ES256"
DEFAULT_AUDIENCE = "partner-center"
TOKEN_LIFETIME_SECONDS = 600
DEFAULT_KEY_FILE = "run/dev-oidc-key.pem"  # relative to the repository


def load_or_create_key(path: str | os.PathLike) -> ec.EllipticCurvePrivateKey:
    """The issuer's private key from ``path``; made there when missing. Two
    processes starting at once agree on one key: the file is linked into place
    only if nobody did it first, and then read back."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        draft.write_bytes(pem)
        os.chmod(draft, 0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey), path  # written above as one
    return key


def e164(phone: str) -> str:
    """A Korean number as an OpenID Connect ``phone_number`` claim (E.164):
    ``010-1234-5678`` -> ``+821012345678``."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        return "+" + digits
    return "+82" + digits[1:] if digits.startswith("0") else "+" + digits


def subject_for_phone(phone: str) -> str:
    """``make customer-token``'s messenger user: one per phone, so the same
    phone signs in as the same customer across runs."""
    return "dev-" + hashlib.sha256(e164(phone).encode()).hexdigest()[:24]


class DevIssuer:
    def __init__(self, key: ec.EllipticCurvePrivateKey, issuer: str = ISSUER):
        self.key = key
        self.issuer = issuer
        public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        # RFC 7638 thumbprint: the key id changes when the key does.
        canonical = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
        self.kid = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        self.public_jwk = {**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    @classmethod
    def from_file(cls, path: str | os.PathLike, issuer: str = ISSUER) -> DevIssuer:
        return cls(load_or_create_key(path), issuer)

    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    def id_token(
        self,
        phone: str,
        name: str | None = None,
        subject: str | None = None,
        audience: str = DEFAULT_AUDIENCE,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
        **claims,
    ) -> str:
        """An ID token as the messenger's provider issues it after sign-in;
        ``claims`` override any standard one (tests forge with it)."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject or subject_for_phone(phone),
            "iat": now,
            "exp": now + lifetime,
            "phone_number": e164(phone),
            "phone_number_verified": True,
        }
        if name:
            body["name"] = name
        body.update(claims)
        return jwt.encode(body, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})


def main(argv=None) -> None:
    """``make customer-token PHONE=010-1234-5678 NAME=김다온``: an ID token of
    the development issuer for that messenger user, to exchange at
    ``POST /v1/customer-sessions``."""
    import argparse

    from chassis.config import REPO_ROOT

    parser = argparse.ArgumentParser(prog="make customer-token", description=main.__doc__)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--name")
    parser.add_argument("--lifetime", type=int, default=TOKEN_LIFETIME_SECONDS, help="seconds (default 600)")
    args = parser.parse_args(argv)
    key_file = REPO_ROOT / os.environ.get("PC_OIDC_DEV_KEY_FILE", DEFAULT_KEY_FILE)
    issuer = DevIssuer.from_file(key_file)
    print(
        issuer.id_token(
            args.phone, args.name, audience=os.environ.get("PC_OIDC_AUDIENCE", DEFAULT_AUDIENCE), lifetime=args.lifetime
        )
    )


if __name__ == "__main__":
    main()
