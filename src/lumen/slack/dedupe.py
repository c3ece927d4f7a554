"""Events API retries: Slack re-sends an event it thinks we missed; run it only once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from lumen.db.base import utcnow
from lumen.db.models import SlackEventReceipt
from lumen.db.session import Database
from lumen.db.upsert import insert_ignoring_conflict

# Slack retries within minutes; a day of receipts is plenty.
RECEIPT_TTL = timedelta(days=1)


async def first_delivery(db: Database, event_id: str) -> bool:
    """Record the event id; True only for the first delivery, across replicas."""
    statement = insert_ignoring_conflict(
        db.dialect, SlackEventReceipt, {"event_id": event_id, "received_at": utcnow()}, ["event_id"]
    )
    async with db.transaction() as session:
        result = await session.execute(statement)
    return result.rowcount == 1


async def prune_receipts(db: Database) -> int:
    async with db.transaction() as session:
        result = await session.execute(
            delete(SlackEventReceipt).where(SlackEventReceipt.received_at < utcnow() - RECEIPT_TTL)
        )
    return result.rowcount or 0
