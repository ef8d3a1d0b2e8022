"""Members and sessions through the gateway (R-ACC-1, R-ACC-2; api.md, Accounts),
and the gateway's rate limits on login and sign-up."""

import http.client
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import psycopg

from chassis.config import REPO_ROOT
from support.api import assert_error, expect


def test_sign_up_login_profile_and_logout(platform):
    """R-ACC-1 sign-up needs agree_terms: true; login ids are unique
    case-insensitively; the owner sees their own phone whole; logout ends the token."""
    pc = platform
    anonymous = pc.anonymous
    body = {
        "login_id": "Daon.Kim",
        "password": "long enough pw",
        "name": "김다온",
        "phone": "010-1234-5678",
        "agree_terms": True,
    }

    refused = assert_error(anonymous.post("/v1/members", json={**body, "agree_terms": False}), 422, "validation_failed")
    assert "agree_terms" in refused["details"]["fields"]
    assert_error(
        anonymous.post("/v1/sessions", json={"login_id": "Daon.Kim", "password": "long enough pw"}),
        401,
        "invalid_credentials",
    )  # nothing was created without the agreement

    member = expect(anonymous.post("/v1/members", json=body), 201)
    assert member["login_id"] == "Daon.Kim" and member["phone"] == "010-1234-5678" and "password" not in str(member)
    assert_error(anonymous.post("/v1/members", json={**body, "login_id": "daon.KIM"}), 409, "login_id_taken")

    assert_error(
        anonymous.post("/v1/sessions", json={"login_id": "daon.kim", "password": "wrong password"}),
        401,
        "invalid_credentials",
    )
    assert_error(
        anonymous.post("/v1/sessions", json={"login_id": "nobody", "password": "long enough pw"}),
        401,
        "invalid_credentials",
    )
    session = expect(anonymous.post("/v1/sessions", json={"login_id": "daon.kim", "password": "long enough pw"}), 201)
    assert session["token"] and session["expires_at"]
    me = pc.client(session["token"])
    assert expect(me.get("/v1/me"), 200) == member

    edited = expect(me.patch("/v1/me", json={"name": "김다온2", "phone": "010 9999 8888"}), 200)
    assert edited["name"] == "김다온2" and edited["phone"] == "010-9999-8888"
    assert_error(me.patch("/v1/me", json={"login_id": "other"}), 422, "validation_failed")
    assert_error(me.patch("/v1/me", json={}), 422, "validation_failed")

    assert expect(me.delete("/v1/sessions/current"), 204) is None
    assert_error(me.get("/v1/me"), 401, "invalid_token")
    assert_error(me.delete("/v1/sessions/current"), 401)
    assert_error(anonymous.get("/v1/me"), 401, "unauthenticated")
    assert_error(pc.client("pcs_forged").get("/v1/me"), 401, "invalid_token")


def test_concurrent_sign_ups_of_one_login_id_make_one_member(platform):
    """Login ids are unique case-insensitively, also when sign-ups race."""
    pc = platform
    barrier = threading.Barrier(8)
    statuses = []

    def sign_up(i):
        login_id = "Race.Winner".upper() if i % 2 else "race.winner"
        barrier.wait()
        statuses.append(
            pc.anonymous.post(
                "/v1/members",
                json={
                    "login_id": login_id,
                    "password": "long password",
                    "name": f"n{i}",
                    "phone": "010-1234-5678",
                    "agree_terms": True,
                },
            ).status_code
        )

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] + [409] * 7


def post_from(url: str, source_ip: str, path: str, body: dict) -> int:
    """A request from another loopback address (another client)."""
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10, source_address=(source_ip, 0))
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_login_and_sign_up_are_rate_limited_per_client_address(partner_center):
    pc = partner_center(gateway_config={"RATE_LIMIT_LOGIN": "3/60", "RATE_LIMIT_SIGNUP": "2/60"})
    sign_up = {"password": "long password", "name": "n", "phone": "010-1234-5678", "agree_terms": True}
    assert expect(pc.anonymous.post("/v1/members", json={**sign_up, "login_id": "first"}), 201)
    assert_error(pc.anonymous.post("/v1/members", json={**sign_up, "login_id": "second", "zzz": 1}), 422)
    limited = pc.anonymous.post("/v1/members", json={**sign_up, "login_id": "third"})
    error = assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and error["details"]["retry_after_seconds"] >= 1
    assert_error(pc.anonymous.post("/v1/sessions", json={"login_id": "third", "password": "long password"}), 401)

    login = {"login_id": "first", "password": "long password"}
    assert_error(pc.anonymous.post("/v1/sessions", json={**login, "password": "wrong password"}), 401)
    assert expect(pc.anonymous.post("/v1/sessions", json=login), 201)["token"]
    assert_error(pc.anonymous.post("/v1/sessions", json=login), 429, "rate_limited")  # 4th attempt in the window
    assert_error(pc.anonymous.post("/v1/customer-sessions", json={"id_token": pc.id_token("010-1234-5678")}), 429)
    # Another client address has its own allowance.
    assert post_from(pc.url, "127.0.0.2", "/v1/sessions", login) == 201
    assert post_from(pc.url, "127.0.0.2", "/v1/members", {**sign_up, "login_id": "fourth"}) == 201


def test_operators_come_from_the_ops_command_and_sessions_expire(partner_center):
    """`make operator` (python -m accounts.ops create-operator) makes an operator
    that logs in like a member and reaches /v1/ops; it refuses a member's login
    id; sessions end at their expiry; tokens and passwords are stored hashed."""
    pc = partner_center(service_config={"accounts": {"SESSION_TTL_SECONDS": 600}})
    database_url = pc.containers["accounts"].config["DATABASE_URL"]
    member = pc.sign_up_member(login_id="member.one")
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "-m accounts.ops create-operator" in makefile

    def ops_command(login, password):
        env = {
            **os.environ,
            "PC_ACCOUNTS_DATABASE_URL": database_url,
            "PASSWORD": password,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "libs"), str(REPO_ROOT / "services")]),
        }
        return subprocess.run(
            [sys.executable, "-m", "accounts.ops", "create-operator", "--login", login],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    made = ops_command("Ops.Kim", "operator password")
    assert made.returncode == 0, made.stderr
    assert ops_command("member.one", "operator password").returncode != 0  # a member is not turned into one
    assert ops_command("ops.two", "short").returncode != 0

    session = expect(
        pc.anonymous.post("/v1/sessions", json={"login_id": "ops.kim", "password": "operator password"}), 201
    )
    assert session["kind"] == "operator"
    lifetime = datetime.fromisoformat(session["expires_at"]) - datetime.now(UTC)
    assert timedelta(seconds=500) < lifetime <= timedelta(seconds=600)
    operator = pc.client(session["token"])
    partner = pc.create_partner(admin=member, verified=False)
    assert expect(operator.post(f"/v1/ops/partners/{partner.partner_id}/verify", json={}), 200)["status"] == "verified"
    assert_error(operator.get("/v1/me"), 403)
    assert_error(
        operator.post("/v1/partners", json={"name": "p", "category": "cafe", "business_number": "1234567890"}), 403
    )

    with psycopg.connect(database_url) as conn:
        stored = " ".join(
            str(row)
            for row in conn.execute(
                "SELECT m.password_hash, s.token_hash FROM members m JOIN sessions s ON s.member_id = m.id"
            ).fetchall()
        )
    assert "$argon2id$" in stored
    assert "operator password" not in stored and session["token"] not in stored and member.token not in stored

    with psycopg.connect(database_url) as conn:  # the member's session reaches its expiry
        conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE member_id = %s", (member.member_id,)
        )
    assert_error(member.client.get("/v1/me"), 401, "invalid_token")
    assert_error(member.client.delete("/v1/sessions/current"), 401, "invalid_token")
    assert_error(operator.get("/v1/notices"), 403, "forbidden")  # still a valid token: only the member's session ended
