"""Request models of the settlement RPCs (query strings arrive as strings;
pydantic turns them into dates and integers or names the field in a 422)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from chassis.validation import Strict, invalid_query
from chassis.paging import PageQuery


DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_RANGE_DAYS = 366


class ListQuery(PageQuery):
    """``?limit=`` (default 20, clamped to 1..100) and an opaque ``?cursor=``."""
    model_config = ConfigDict(populate_by_name=True)


class DateRangeQuery(ListQuery):
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid_query(**{"from": "must not be after 'to'"})   # a query error names its parameter
        return self


class SummaryQuery(Strict):
    """Sales summary over at most a year; defaults to the current month."""
    model_config = ConfigDict(populate_by_name=True)

    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _bounded(self):
        if self.date_from and self.date_to:
            if self.date_from > self.date_to:
                raise invalid_query(**{"from": "must not be after 'to'"})
            if (self.date_to - self.date_from).days >= MAX_RANGE_DAYS:
                raise invalid_query(**{"from": f"a summary covers at most {MAX_RANGE_DAYS} days"})
        return self


class RunRequest(Strict):
    period_end: date


class RateRequest(Strict):
    scope: Literal["category", "partner"]
    subject: str = Field(min_length=1, max_length=64)
    rate_bps: int = Field(ge=0, le=10_000)
    effective_from: date


class ScheduleRequest(Strict):
    schedule: Literal["weekly", "monthly"]
    delay_days: int = Field(ge=0, le=60)


class DashboardRequest(Strict):
    role: Literal["admin", "master", "member"]
