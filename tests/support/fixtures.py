"""pytest fixtures for tests through the gateway (see ``support.api``).

``partner_center(*services, gateway_config=None, service_config=None)`` starts
accounts, the named services and a gateway (in this process, on the test's own
vhost and databases) and returns a ``support.api.Platform``; they are killed
after the test. ``pc.containers`` holds them by name (and "gateway"). Passwords are
hashed at a low argon2 cost and the rate limits are lifted, so tests may sign
up, log in, book and order freely (tests of the limits set them back); each
gateway counts in Redis under its own namespace.
The gateway trusts the development issuer, whose key (one per test run) the
Platform reads to sign customers in (``pc.customer_session``).
``service_config={"catalog": {"KEY": value}}`` overrides a service's config.
"""

from __future__ import annotations

import uuid

import pytest

from chassis.testing import free_port, kill_containers, start_container
from support.api import Platform

CHEAP_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
NO_RATE_LIMITS = {
    "RATE_LIMIT_LOGIN": "1000000/1",
    "RATE_LIMIT_SIGNUP": "1000000/1",
    "RATE_LIMIT_BOOKING": "1000000/1",
    "RATE_LIMIT_ORDER": "1000000/1",
}


@pytest.fixture(scope="session")
def dev_issuer_key_file(tmp_path_factory) -> str:
    """The development issuer's key (R-ACC-12), made once per test run."""
    return str(tmp_path_factory.mktemp("dev-issuer") / "dev-oidc-key.pem")


@pytest.fixture
def partner_center(service_config, dev_issuer_key_file):
    containers = []

    def run(service: str, **overrides):
        container = start_container(service, service_config(service, **overrides))
        containers.append(container)
        return container

    def start(*services: str, gateway_config: dict | None = None, service_config: dict | None = None) -> Platform:
        service_config = service_config or {}
        started = {"accounts": run("accounts", **{**CHEAP_PASSWORD_HASHING, **service_config.get("accounts", {})})}
        for name in services:
            if name != "accounts":
                started[name] = run(name, **service_config.get(name, {}))
        port = free_port()
        started["gateway"] = run(
            "gateway",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            DOWNSTREAM_SERVICES=[name for name in started],
            **{
                **NO_RATE_LIMITS,
                "OIDC_DEV_KEY_FILE": dev_issuer_key_file,
                "RATE_LIMIT_NAMESPACE": f"pc_test_{uuid.uuid4().hex[:12]}",
                **(gateway_config or {}),
            },
        )
        return Platform(f"http://127.0.0.1:{port}", started)

    yield start
    kill_containers(containers)  # as run_service does


@pytest.fixture
def platform(partner_center) -> Platform:
    """accounts and the gateway only."""
    return partner_center()
