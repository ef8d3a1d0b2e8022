"""The partner's clock (../shared/api.md: a partner's dates are in its time
zone, Asia/Seoul unless it says otherwise): one definition of the zone and of
the business day every service dates by, so that settlement, insights, orders
and reservations never disagree about which day a midnight sale belongs to."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARTNER_TIME_ZONE = ZoneInfo("Asia/Seoul")


def business_date(moment: datetime) -> date:
    """The partner's calendar day of an instant."""
    return moment.astimezone(PARTNER_TIME_ZONE).date()


def today_in_partner_zone(now: datetime | None = None) -> date:
    return business_date(now or datetime.now(PARTNER_TIME_ZONE))
