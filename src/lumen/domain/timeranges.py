"""Calendar arithmetic in a time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def month_start(now: datetime, tz: str) -> datetime:
    """The first instant of `now`'s month in `tz`, as an aware UTC datetime."""
    local = now.astimezone(ZoneInfo(tz))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(timezone.utc)
