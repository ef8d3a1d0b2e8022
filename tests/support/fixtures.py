"""pytest fixtures for tests through the gateway (see ``support.api``).

``partner_center(*services, gateway_config=None, service_config=None)`` starts
accounts, the named services and a gateway (in this process, on the test's own
vhost and databases) and returns a ``support.api.Platform``; they are stopped
side by side after the test. ``pc.containers`` holds them by name (and "gateway"). Passwords are
hashed at a low argon2 cost and the login/sign-up rate limits are lifted, so
tests may sign up and log in freely (tests of the limits set them back).
``service_config={"catalog": {"KEY": value}}`` overrides a service's config.
"""
from __future__ import annotations

import sys

import eventlet
import pytest
from nameko.containers import ServiceContainer

from chassis.config import service_dir
from chassis.run import import_service_class
from chassis.testing import free_port
from support.api import Platform

CHEAP_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
NO_RATE_LIMITS = {"RATE_LIMIT_LOGIN": "1000000/1", "RATE_LIMIT_SIGNUP": "1000000/1"}


@pytest.fixture
def partner_center(service_config):
    containers = []

    def run(service: str, **overrides):
        config = service_config(service, **overrides)
        parent = str(service_dir(service).parent)
        if parent not in sys.path:
            sys.path.insert(0, parent)
        container = ServiceContainer(import_service_class(config["SERVICE_CLASS"]), config)
        container.start()
        containers.append(container)
        return container

    def start(*services: str, gateway_config: dict | None = None, service_config: dict | None = None) -> Platform:
        service_config = service_config or {}
        started = {"accounts": run("accounts", **{**CHEAP_PASSWORD_HASHING, **service_config.get("accounts", {})})}
        for name in services:
            if name != "accounts":
                started[name] = run(name, **service_config.get(name, {}))
        port = free_port()
        started["gateway"] = run("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                                 DOWNSTREAM_SERVICES=[name for name in started],
                                 **{**NO_RATE_LIMITS, **(gateway_config or {})})
        return Platform(f"http://127.0.0.1:{port}", started)

    yield start
    # Side by side: each nameko container takes 1-3 s to stop (its consumers' polls).
    pool = eventlet.GreenPool(max(1, len(containers)))
    for container in containers:
        pool.spawn(container.stop)
    pool.waitall()


@pytest.fixture
def platform(partner_center) -> Platform:
    """accounts and the gateway only."""
    return partner_center()
