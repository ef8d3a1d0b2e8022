"""pytest fixtures for tests through the gateway (see ``support.api``).

``partner_center(*services, gateway_config=None, service_config=None)`` starts
accounts, the named services and a gateway (in this process, on the test's own
vhost and databases) and returns a ``support.api.Platform``. Passwords are
hashed at a low argon2 cost and the login/sign-up rate limits are lifted, so
tests may sign up and log in freely (tests of the limits set them back).
``service_config={"catalog": {"KEY": value}}`` overrides a service's config.
"""
from __future__ import annotations

import pytest

from support.api import Platform

CHEAP_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
NO_RATE_LIMITS = {"RATE_LIMIT_LOGIN": "1000000/1", "RATE_LIMIT_SIGNUP": "1000000/1"}


@pytest.fixture
def partner_center(run_service, gateway):
    def start(*services: str, gateway_config: dict | None = None, service_config: dict | None = None) -> Platform:
        service_config = service_config or {}
        containers = {"accounts": run_service("accounts", **{**CHEAP_PASSWORD_HASHING,
                                                              **service_config.get("accounts", {})})}
        for name in services:
            if name != "accounts":
                containers[name] = run_service(name, **service_config.get(name, {}))
        url = gateway(downstream=list(containers), **{**NO_RATE_LIMITS, **(gateway_config or {})})
        return Platform(url, containers)
    return start


@pytest.fixture
def platform(partner_center) -> Platform:
    """accounts and the gateway only."""
    return partner_center()
