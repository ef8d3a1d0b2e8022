"""Authenticated requests through the gateway: what every partner-app call pays.

A cheap authenticated GET (``GET /v1/partners/<pid>``: the gateway asks
``accounts.authenticate`` for the token and the caller's role, then
``accounts.get_partner``) from 20 HTTP clients, against one gateway and one
accounts process; and ``accounts.authenticate`` alone over RPC (one indexed
query). Both as ratios to the bare RPC echo of the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import requests

from bench import REPO, http_rate, rpc_rate
from chassis.testing import free_port

CLIENTS = 20
SECONDS = 5.0


def run(ctx) -> list[dict]:
    ctx.start_service("accounts", {"PC_MAX_WORKERS": "20"})
    ctx.rpc_ready("accounts")
    url = start_gateway(ctx)
    token, partner_id = set_up(url, ctx.amqp_uri)
    get_rate = authenticated_get_rate(f"{url}/v1/partners/{partner_id}", token)
    auth_rate = rpc_rate(ctx.amqp_uri, lambda rpc, i: rpc.accounts.authenticate(token, partner_id))
    return [
        {
            "name": f"authenticated GET /v1/partners/<pid> through the gateway ({CLIENTS} HTTP clients)",
            "value": get_rate,
            "unit": "requests/s",
            "note": "2 RPCs per request: authenticate + get_partner; gateway and accounts 1 process each",
        },
        {
            "name": f"accounts.authenticate RPC ({CLIENTS} clients, 1 process)",
            "value": auth_rate,
            "unit": "calls/s",
            "note": "one indexed query per call",
        },
    ]


# A bench drives one or a few customers far past a real one's bookings and orders per hour, and
# its setup logs in and signs up from one address, run after run (the limits are kept in Redis).
BENCH_RATE_LIMITS = {
    "PC_RATE_LIMIT_BOOKING": "1000000/1",
    "PC_RATE_LIMIT_ORDER": "1000000/1",
    "PC_RATE_LIMIT_LOGIN": "1000000/1",
    "PC_RATE_LIMIT_SIGNUP": "1000000/1",
}


def start_gateway(ctx) -> str:
    """The gateway as its own process on this run's vhost (it has no database)."""
    port = free_port()
    spawn_service(ctx, "gateway", {"PC_GATEWAY_PORT": str(port), "PC_GATEWAY_METRICS_PORT": "0", **BENCH_RATE_LIMITS})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/v1/openapi.json", timeout=2).status_code == 200:
                return url
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.2)


def spawn_service(ctx, service: str, env: dict[str, str]) -> None:
    """``python -m chassis.run service`` on this run's vhost with ``env`` added, on a
    database it is given in ``env`` (or none), stopped with the run; unlike
    ``ctx.start_service``, left out of the section's memory figure."""
    child_env = {
        **os.environ,
        "PC_AMQP_URI": ctx.amqp_uri,
        "PC_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "services")]),
        **env,
    }
    ctx.processes.append(
        subprocess.Popen(
            [sys.executable, "-m", "chassis.run", service, "--no-migrate"], env=child_env, stdout=subprocess.DEVNULL
        )
    )


def set_up(url: str, amqp_uri: str) -> tuple[str, str]:
    """A member who is admin of a partner, logged in."""
    member: dict[str, Any] = {
        "login_id": "bench.admin",
        "password": "bench password",
        "name": "Bench",
        "phone": "010-0000-0000",
        "agree_terms": True,
    }
    requests.post(f"{url}/v1/members", json=member, timeout=30).raise_for_status()
    session = requests.post(
        f"{url}/v1/sessions", json={"login_id": "bench.admin", "password": "bench password"}, timeout=30
    )
    session.raise_for_status()
    token = session.json()["token"]
    partner = requests.post(
        f"{url}/v1/partners",
        json={"name": "Bench salon", "category": "salon", "business_number": "1234567890"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    partner.raise_for_status()
    return token, partner.json()["partner_id"]


def authenticated_get_rate(url: str, token: str) -> float:
    def get(http):
        response = http.get(url, timeout=30)
        assert response.status_code == 200, response.text

    return http_rate(token, get, CLIENTS, SECONDS)
