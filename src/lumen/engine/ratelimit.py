"""Per-person rate limits, counted in the database so every replica counts the same.

A fixed one-minute window per person and kind ("command", "question"): one upsert that
returns the count, so a thousand requests from one person cost a thousand cheap statements,
not a thousand model calls. Windows older than an hour are swept as new ones open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import RateLimitWindow

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    count: int
    limit: int
    retry_after_s: int  # until the window closes


async def take(session: AsyncSession, kind: str, user_id: str, limit: int, now: datetime) -> Allowance:
    """Count one request of `kind` by `user_id`; allowed while the minute's count is within `limit`."""
    start = now.replace(second=0, microsecond=0)
    key = f"{kind}:{user_id}:{start:%Y%m%d%H%M}"[:120]
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(RateLimitWindow).values(key=key, count=1, window_start=start)
    count = await session.scalar(
        insert.on_conflict_do_update(index_elements=["key"], set_={"count": RateLimitWindow.count + 1}).returning(
            RateLimitWindow.count
        )
    )
    if count == 1:  # the first request of a new window: forget old ones
        await session.execute(delete(RateLimitWindow).where(RateLimitWindow.window_start < start - timedelta(hours=1)))
    retry = int((start + WINDOW - now).total_seconds()) + 1
    return Allowance(allowed=(count or 0) <= limit, count=count or 0, limit=limit, retry_after_s=retry)
