"""The inbox: deliveries we were sent more than once run once (Slack's Events API retries).

A receipt row per delivery key, under a PRIMARY KEY: the first replica to insert it
handles the delivery, every later copy finds it there. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import SlackEventReceipt
from lumen.db.upsert import insert_ignoring_conflict

# Slack retries within minutes; a day of receipts is plenty.
RECEIPT_TTL = timedelta(days=1)


async def first_delivery(session: AsyncSession, key: str) -> bool:
    """Record the delivery; True only for the first one, across replicas."""
    statement = insert_ignoring_conflict(
        session.bind.dialect.name, SlackEventReceipt, {"event_id": key, "received_at": utcnow()}, ["event_id"]
    )
    result = await session.execute(statement)
    return result.rowcount == 1


async def prune(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget receipts older than any retry can be."""
    result = await session.execute(
        delete(SlackEventReceipt).where(SlackEventReceipt.received_at < (now or utcnow()) - RECEIPT_TTL)
    )
    return result.rowcount or 0
