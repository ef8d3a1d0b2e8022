"""R-ACC-12: customers sign in with the messenger's OpenID Connect ID token;
a phone number proves nothing (gateway.idtoken, gateway.devissuer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chassis.testing import free_port, start_container
from gateway.devissuer import DevIssuer
from gateway.idtoken import JwksCache
from support.api import assert_error, expect


def hs256(secret: bytes, claims: dict, kid: str) -> str:
    """An HMAC token keyed with our public key: the classic algorithm-confusion forgery."""

    def part(value) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + part(json.dumps(claims).encode())
    )
    return signing_input + "." + part(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def refused(pc, id_token) -> dict:
    return assert_error(
        pc.anonymous.post("/v1/customer-sessions", json={"id_token": id_token}), 401, "invalid_id_token"
    )


def test_R_ACC_12_the_customer_is_the_issuers_subject_with_its_verified_phone(platform, rpc):
    pc = platform
    first = pc.customer_session(name="김다온", phone="010-1234-5678", subject="messenger-42")
    # The same messenger user again, with a new phone: the same customer, the phone the issuer verified now.
    again = pc.customer_from(pc.anonymous, pc.id_token("010-9999-0000", subject="messenger-42"), "", "")
    assert again.customer_id == first.customer_id and again.token != first.token
    # Other services are told the phone the issuer verified last, and the name kept (the token had none).
    assert rpc.accounts.customer_contact(first.customer_id) == {
        "customer_id": first.customer_id,
        "name": "김다온",
        "phone": "01099990000",
        "erased": False,
        "pseudonym": None,
    }
    jwks = expect(pc.anonymous.get("/dev/oidc/jwks.json"), 200)
    assert [key["kid"] for key in jwks["keys"]] == [pc.dev_issuer.kid] and "d" not in jwks["keys"][0]


def test_R_ACC_12_a_phone_number_alone_opens_nothing(platform):
    pc = platform
    owner = pc.customer_session(phone="010-1234-5678", subject="messenger-owner")
    # The old body is gone (unknown fields are refused) ...
    error = assert_error(pc.anonymous.post("/v1/customer-sessions", json={"name": "x", "phone": "010-1234-5678"}), 422)
    assert {"name", "phone", "id_token"} <= set(error["details"]["fields"])
    # ... and another messenger user who claims the same phone is another customer.
    other = pc.customer_session(phone="010-1234-5678", subject="messenger-someone-else")
    assert other.customer_id != owner.customer_id
    assert_error(
        pc.anonymous.post("/v1/customer-sessions", json={"id_token": "010-1234-5678"}), 401, "invalid_id_token"
    )


def test_R_ACC_12_forged_expired_wrong_audience_wrong_issuer_tokens_are_401(platform):
    pc = platform
    issuer, now = pc.dev_issuer, int(time.time())
    forger = DevIssuer(ec.generate_private_key(ec.SECP256R1()))
    forged = jwt.encode(
        jwt.decode(issuer.id_token("010-1234-5678"), options={"verify_signature": False}),
        forger.key,
        algorithm="ES256",
        headers={"kid": issuer.kid},
    )  # our key id, another key
    refused(pc, forged)
    refused(pc, pc.id_token("010-1234-5678", exp=now - 120, iat=now - 720))  # expired
    refused(pc, pc.id_token("010-1234-5678", aud="another-app"))  # wrong audience
    refused(pc, pc.id_token("010-1234-5678", iss="https://evil.example"))  # wrong issuer
    refused(pc, pc.id_token("010-1234-5678", iat=now + 3600, exp=now + 7200))  # issued in the future
    refused(pc, pc.id_token("010-1234-5678", phone_number_verified=False))  # unverified phone
    refused(pc, pc.id_token("010-1234-5678", sub=None))  # nobody
    # Valid claims, signed by no key or by a secret anyone can read:
    claims = {
        "iss": issuer.issuer,
        "aud": "partner-center",
        "sub": "x",
        "iat": now,
        "exp": now + 60,
        "phone_number": "+821012345678",
        "phone_number_verified": True,
    }
    refused(pc, jwt.encode(claims, None, algorithm="none"))  # alg none
    refused(pc, hs256(json.dumps(issuer.public_jwk).encode(), claims, issuer.kid))  # HS256 keyed with our public key
    refused(pc, forged[:-4] + "AAAA")  # tampered
    pc.customer_session()  # and a genuine one still passes


class JwksServer:
    """The messenger's identity provider's JWKS endpoint, in this test process."""

    def __init__(self):
        self.document = {"keys": []}
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *keys):
        self.document = {
            "keys": [
                {
                    **jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key(), as_dict=True),
                    "kid": kid,
                    "alg": "RS256",
                    "use": "sig",
                }
                for kid, k in keys
            ]
        }


def test_R_ACC_12_a_configured_issuer_rs256_keys_refetched_when_it_rotates(partner_center):
    idp = JwksServer()
    old, new = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    idp.publish(("2026-1", old))
    pc = partner_center(
        gateway_config={
            "OIDC_ISSUER": "https://id.messenger.example",
            "OIDC_JWKS_URL": idp.url,
            "OIDC_ALGORITHM": "RS256",
            "OIDC_JWKS_MIN_REFRESH_SECONDS": 0,
        }
    )

    def token(key, kid, sub="user-1"):
        now = int(time.time())
        return jwt.encode(
            {
                "iss": "https://id.messenger.example",
                "aud": "partner-center",
                "sub": sub,
                "iat": now,
                "exp": now + 300,
                "phone_number": "+821055550000",
                "phone_number_verified": True,
            },
            key,
            algorithm="RS256",
            headers={"kid": kid},
        )

    first = expect(pc.anonymous.post("/v1/customer-sessions", json={"id_token": token(old, "2026-1")}), 201)
    expect(pc.anonymous.post("/v1/customer-sessions", json={"id_token": token(old, "2026-1")}), 201)
    assert idp.requests == 1  # cached
    idp.publish(("2026-1", old), ("2026-2", new))  # the issuer rotates
    rotated = expect(pc.anonymous.post("/v1/customer-sessions", json={"id_token": token(new, "2026-2")}), 201)
    assert rotated["customer_id"] == first["customer_id"] and idp.requests == 2
    # The development issuer is not trusted when a real one is configured, and serves nothing.
    refused(pc, pc.id_token("010-5555-0000"))
    assert_error(pc.anonymous.get("/dev/oidc/jwks.json"), 404)
    idp.server.shutdown()


def test_R_ACC_12_unknown_key_ids_refetch_the_jwks_at_most_once_per_interval():
    clock, fetched = [1000.0], []
    cache = JwksCache(
        "http://idp/jwks",
        ttl=3600,
        min_refresh=30,
        fetch=lambda url: fetched.append(url) or {"keys": []},
        clock=lambda: clock[0],
    )
    for kid in ("a", "b", "c", "d"):
        assert cache.key(kid) is None
    assert len(fetched) == 1
    clock[0] += 31
    assert cache.key("e") is None and len(fetched) == 2


def test_R_ACC_12_sign_ins_racing_the_first_jwks_fetch_wait_for_its_keys():
    """The first burst of sign-ins after a start (make proof's 20 at once): the
    lookups that arrive while the one fetch is under way get its keys."""
    import eventlet

    issuer = DevIssuer(ec.generate_private_key(ec.SECP256R1()))
    fetched, answer = [], eventlet.event.Event()
    cache = JwksCache("http://idp/jwks", fetch=lambda url: fetched.append(url) or answer.wait())
    lookups = [eventlet.spawn(cache.key, issuer.kid) for _ in range(5)]
    eventlet.sleep(0.05)  # every lookup has started; the first is inside the fetch
    answer.send(issuer.jwks())
    assert [lookup.wait() is not None for lookup in lookups] == [True] * 5
    assert len(fetched) == 1


def test_R_ACC_12_production_refuses_the_development_issuer(service_config):
    config = service_config(
        "gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}", PRODUCTION="true", DOWNSTREAM_SERVICES=[]
    )
    with pytest.raises(RuntimeError, match="development issuer is refused"):
        container = start_container("gateway", config)
        container.kill()
