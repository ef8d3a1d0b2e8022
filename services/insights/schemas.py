"""Request models of the insights RPCs. Query strings arrive as strings:
pydantic turns them into dates and integers or names the field in a 422."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from chassis.validation import Strict

# The query strings of HTTP routes live in the HTTP contract (libs/contract/insights.py, issue 15),
# so the gateway documents and validates the very classes checked here.
from contract.insights import CustomerQuery, Days, ListQuery, PartnerReviewQuery, StatisticsQuery


class Segment(Strict):
    """Customers to target with a channel message (R-NTF-3); every criterion given must hold."""

    visited_within_days: int | None = Days
    min_visits: int | None = Field(None, ge=1, le=100_000)
    min_total_spent: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _some_criterion(self):
        if self.visited_within_days is None and self.min_visits is None and self.min_total_spent is None:
            raise ValueError("give at least one of visited_within_days, min_visits, min_total_spent")
        return self


class SegmentRequest(Strict):
    segment: Segment


class DashboardRequest(Strict):
    role: Literal["admin", "master", "member"]
