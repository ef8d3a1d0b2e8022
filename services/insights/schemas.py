"""Request models of the insights RPCs. Query strings arrive as strings:
pydantic turns them into dates and integers or names the field in a 422."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from chassis.validation import Strict
from chassis.paging import PageQuery

Days = Field(None, ge=1, le=3650)


class ListQuery(PageQuery):
    """``?limit=`` (default 20, clamped to 1..100) and an opaque ``?cursor=``."""


class CustomerQuery(ListQuery):
    """``q``: the start of a name, or the last 4 phone digits (R-RSV-8)."""
    q: str | None = Field(None, min_length=1, max_length=50)
    visited_within_days: int | None = Days


class PartnerReviewQuery(ListQuery):
    product_id: str | None = Field(None, min_length=1, max_length=100)
    replied: Literal["true", "false"] | None = None


class StatisticsQuery(Strict):
    """A period (``from`` and ``to`` inclusive, partner-zone dates); the service checks its bounds."""
    model_config = ConfigDict(populate_by_name=True)

    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")


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
