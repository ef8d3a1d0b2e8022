"""Every test runs under the eventlet monkeypatch, as the services do
(plain pytest would hang on nameko containers)."""

import os
import warnings

# Before psycopg is first imported: its wait function is chosen at import.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

pytest_plugins = ["chassis.testing", "support.fixtures"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def responses_keep_the_contract():
    """Every test that goes through an in-process gateway is also a contract
    test: a response that does not match its route's model fails it (issue 15)."""
    from gateway.http import CONTRACT_BREACHES

    CONTRACT_BREACHES.clear()
    yield
    breaches = list(CONTRACT_BREACHES)
    CONTRACT_BREACHES.clear()
    assert not breaches, "responses that break their model (libs/contract):\n" + "\n".join(
        f"{route}: {errors}" for route, errors in breaches
    )
