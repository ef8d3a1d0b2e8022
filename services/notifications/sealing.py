"""Webhook secrets at rest (issue 16): sealed, never stored in clear.

The platform must sign each delivery with the secret itself (HMAC), so a hash
will not do: the secret is sealed with AES-256-GCM under
``WEBHOOK_SECRET_KEY`` (32 bytes, base64; from the deployment's secret store)
and opened only in the delivery worker. A stolen database without that key
yields no secret. Without the setting a development key is used, which the
service refuses when ``PRODUCTION`` is on.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
DEVELOPMENT_KEY = hashlib.sha256(b"partner-center development webhook key").digest()


def key_from_config(config: dict) -> bytes:
    text = str(config.get("WEBHOOK_SECRET_KEY") or "").strip()
    if not text:
        if str(config.get("PRODUCTION", "")).strip().lower() in ("1", "true", "yes", "on"):
            raise RuntimeError("PRODUCTION is on: set WEBHOOK_SECRET_KEY (32 bytes, base64)")
        return DEVELOPMENT_KEY
    key = base64.b64decode(text)
    if len(key) != 32:
        raise ValueError("WEBHOOK_SECRET_KEY must be 32 bytes, base64-encoded")
    return key


def seal(key: bytes, secret: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), b"webhook-secret")


def unseal(key: bytes, sealed: bytes) -> str:
    sealed = bytes(sealed)
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], b"webhook-secret").decode()
