"""Fixtures of notifications' tests: the stand-in accounts service and
notifications started over it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from .support import FAKE_ACCOUNTS, FAST, staff_of


@pytest.fixture
def start_accounts(run_service) -> Callable[..., Any]:
    """``start_accounts(*partner_ids, operators=(), **config)``: the fake accounts
    answering one staff member per role of each partner, and these operators;
    its container."""

    def start(*partner_ids: str, operators: Sequence[str] = (), **config: Any) -> Any:
        return run_service(FAKE_ACCOUNTS, STAFF=staff_of(*partner_ids), OPERATORS=list(operators), **config)

    return start


@pytest.fixture
def start_notifications(run_service, start_accounts) -> Callable[..., str]:
    """``start_notifications(*partner_ids, operators=(), **settings)``: the fake
    accounts (``start_accounts``), then notifications with the FAST settings and
    ``settings`` over them; notifications' database URL."""

    def start(*partner_ids: str, operators: Sequence[str] = (), **settings: Any) -> str:
        start_accounts(*partner_ids, operators=operators)
        return run_service("notifications", **{**FAST, **settings}).config["DATABASE_URL"]

    return start
