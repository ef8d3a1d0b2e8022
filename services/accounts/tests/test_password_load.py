"""A burst of logins within the rate limit cannot take more memory than the
hash budget holds (accounts.passwords.HashSlots): beyond it a login waits a
moment and is then a clean 503 ``busy``; /healthz stays 200 meanwhile.

The burst is shaped like `make proof`'s login flood: as many workers as hash
slots (the proof runs 4 and 4), so logins wait in the RPC queue rather than
for a slot, and each hash costs enough that the queue takes longer to drain
than the gateway's health deadline (2 s). A health check waiting its turn
behind the logins would be a 503 (issue 16 item 4; chassis.health)."""

import eventlet

from accounts.passwords import hash_slots
from support.api import expect

MEMORY_KIB, BUDGET_MIB = 8192, 16  # 8 MiB a hash, a 16 MiB budget: 2 at once
TIME_COST = 60  # 0.3 s a hash on an idle machine: 20 logins, 2 at a time, queue >= 3 s
LOGINS = 20


def test_20_concurrent_logins_stay_within_the_hash_budget_and_healthz_stays_200(partner_center):
    pc = partner_center(
        service_config={
            "accounts": {
                "ARGON2_MEMORY_KIB": MEMORY_KIB,
                "ARGON2_TIME_COST": TIME_COST,
                "ARGON2_MEMORY_BUDGET_MIB": BUDGET_MIB,
                "ARGON2_WAIT_SECONDS": 0.2,
                "max_workers": 2,
            }
        },
        gateway_config={"RPC_TIMEOUT": 60},
    )  # the logins' own deadline is not what this test is about
    member = pc.sign_up_member()
    slots = hash_slots(MEMORY_KIB, BUDGET_MIB, 0.2)
    login = {"login_id": member.login_id, "password": member.password}
    health, flooding = [], [True]

    def watch_health():
        while flooding[0]:
            health.append(pc.anonymous.get("/healthz").status_code)
            eventlet.sleep(0.05)

    watcher = eventlet.spawn(watch_health)
    responses = list(
        eventlet.GreenPool(LOGINS).imap(lambda _: pc.client().post("/v1/sessions", json=login), range(LOGINS))
    )
    flooding[0] = False
    watcher.wait()

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses.count(201) >= slots.size, statuses
    assert all(r.json()["error"]["code"] == "busy" for r in responses if r.status_code == 503)
    assert slots.size == 2 and slots.peak <= slots.size  # never more hashes than the budget holds
    assert slots.peak * MEMORY_KIB <= BUDGET_MIB * 1024
    assert len(health) > 1 and set(health) == {200}, health  # asked during the burst, every answer 200
    expect(pc.anonymous.post("/v1/sessions", json=login), 201)  # and after the burst, logins go on
