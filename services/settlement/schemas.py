"""Request models of the settlement RPCs (query strings arrive as strings;
pydantic turns them into dates and integers or names the field in a 422)."""

from __future__ import annotations

from typing import Literal

from chassis.validation import Strict

# The query strings and bodies of HTTP routes live in the HTTP contract (libs/contract/settlement.py,
# issue 15), so the gateway documents and validates the very classes checked here.
from contract.settlement import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_RANGE_DAYS,
    DateRangeQuery,
    ListQuery,
    RateRequest,
    RunRequest,
    ScheduleRequest,
    SummaryQuery,
)


class DashboardRequest(Strict):
    role: Literal["admin", "master", "member"]
