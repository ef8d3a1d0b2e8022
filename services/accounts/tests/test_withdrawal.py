"""Withdrawal (R-ACC-3..5) through the gateway: the last-admin rule, erasure
of every personal datum in the accounts database, the member.withdrawn event."""

import json
import subprocess
import threading

from chassis.testing import eventually
from chassis.topology import EVENTS_EXCHANGE, connect, declare_events_exchange
from support.api import assert_error, expect

WATCH_QUEUE = "test.watch.member_withdrawn"


def watch_withdrawals(amqp_uri: str):
    connection = connect(amqp_uri)
    channel = connection.channel()
    declare_events_exchange(channel)
    channel.queue_declare(WATCH_QUEUE, durable=False, auto_delete=False)
    channel.queue_bind(WATCH_QUEUE, EVENTS_EXCHANGE, "member.withdrawn")
    return connection, channel


def dump(database_url: str) -> str:
    return subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", database_url], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def test_withdrawal_last_admin_rule_erasure_and_event(platform, amqp_uri):
    pc = platform
    connection, channel = watch_withdrawals(amqp_uri)
    leaver = pc.sign_up_member(login_id="Leaving.Kim", name="탈퇴예정자", phone="010-8765-4321")
    partner = pc.create_partner(admin=leaver)
    rejected = pc.create_partner(admin=leaver, verified=False)
    pc.reject_partner(rejected.partner_id)  # not operating: it does not hold the leaver back
    place = expect(leaver.client.post(f"{partner.path}/places", json={"name": "본점", "address": "서울"}), 201)
    leaver_key = pc.api_key(partner, by=leaver)
    invited_elsewhere = pc.create_partner()
    pc.invite(invited_elsewhere, leaver, "member")

    assert_error(leaver.client.post("/v1/me/withdraw", json={}), 422)
    assert_error(leaver.client.post("/v1/me/withdraw", json={"confirm": False}), 422)
    error = assert_error(leaver.client.post("/v1/me/withdraw", json={"confirm": True}), 409, "last_admin")
    assert error["details"]["partner_ids"] == [partner.partner_id]
    assert partner.name in error["message"] and "관리자를 초대" in error["message"]  # issue 17 item 10: names it
    assert expect(leaver.client.get("/v1/me"), 200)["name"] == "탈퇴예정자"  # nothing erased on refusal

    successor = pc.staff(partner, "admin", member=pc.sign_up_member())
    second_session = pc.login("leaving.kim")
    assert expect(leaver.client.post("/v1/me/withdraw", json={"confirm": True}), 204) is None

    for token in (leaver.token, second_session):
        assert_error(pc.client(token).get("/v1/me"), 401, "invalid_token")
    assert (
        expect(leaver_key.get(partner.path), 200)["partner_id"] == partner.partner_id
    )  # the partner's key stays (R-ACC-13)
    assert_error(
        pc.anonymous.post("/v1/sessions", json={"login_id": "leaving.kim", "password": leaver.password}),
        401,
        "invalid_credentials",
    )
    staff = expect(successor.client.get(f"{partner.path}/members"), 200)["items"]
    assert [s["member_id"] for s in staff] == [successor.member_id]
    # The partner, its places and its history stay (R-ACC-5).
    assert expect(successor.client.get(f"{partner.path}/places"), 200)["items"][0]["place_id"] == place["place_id"]

    accounts_db = dump(pc.containers["accounts"].config["DATABASE_URL"]).lower()
    assert leaver.member_id in accounts_db  # the dump is the real one: the pseudonymous row is there
    for personal in ("탈퇴예정자", "leaving.kim", "87654321", "8765-4321", "010-8765", "01087654321"):
        assert personal not in accounts_db, f"{personal!r} survived withdrawal"

    def withdrawn_event():
        message = channel.basic_get(WATCH_QUEUE, no_ack=True)
        return json.loads(message.body) if message else None

    envelope = eventually(withdrawn_event, timeout=15, message="member.withdrawn published")
    assert envelope["type"] == "member.withdrawn"
    assert envelope["payload"]["member_id"] == leaver.member_id
    assert envelope["payload"]["pseudonym"].startswith("member-")
    assert "탈퇴예정자" not in json.dumps(envelope, ensure_ascii=False) and "8765" not in json.dumps(envelope)
    connection.collect()

    # The login id is free again: a new person may take it.
    assert (
        expect(
            pc.anonymous.post(
                "/v1/members",
                json={
                    "login_id": "leaving.kim",
                    "password": "another password",
                    "name": "새 회원",
                    "phone": "010-1111-2222",
                    "agree_terms": True,
                },
            ),
            201,
        )["member_id"]
        != leaver.member_id
    )


def test_two_admins_withdrawing_at_once_leave_one_admin(platform):
    """R-ACC-4 under concurrency: of the two only admins, exactly one may go."""
    pc = platform
    for _ in range(3):
        partner = pc.create_partner()
        first, second = partner.admin, pc.staff(partner, "admin")
        barrier = threading.Barrier(2)
        statuses = {}

        def withdraw(member, barrier=barrier, statuses=statuses):
            barrier.wait()
            statuses[member.member_id] = member.client.post("/v1/me/withdraw", json={"confirm": True}).status_code

        threads = [threading.Thread(target=withdraw, args=(m,)) for m in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses.values()) == [204, 409], statuses
        remaining = [m for m in (first, second) if statuses[m.member_id] == 409][0]
        staff = expect(remaining.client.get(f"{partner.path}/members"), 200)["items"]
        assert [(s["member_id"], s["role"]) for s in staff] == [(remaining.member_id, "admin")]
