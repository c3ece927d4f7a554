"""The inbox: deliveries we are sent more than once run once, and none is lost on the way.

A receipt row per delivery key (Slack's event_id), under a PRIMARY KEY. The replica that
inserts it claims the delivery for a while (CLAIM_LEASE, renewed while its work runs) and
marks it handled once the work is done; later copies find it claimed or handled and are
dropped. A delivery whose handling failed is released, and one whose replica died keeps
its claim only until the lease runs out: either way the next copy Slack sends takes it
over, and so does the inbox sweep, from the body the receipt keeps until it is handled.
After MAX_ATTEMPTS the delivery is given up, with a log line. The caller owns the
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import SlackEventReceipt
from lumen.db.upsert import insert_ignoring_conflict
from lumen.log import get_logger

log = get_logger(__name__)

# Slack retries within minutes; a day of receipts is plenty.
RECEIPT_TTL = timedelta(days=1)
# A claim's life without renewal: longer than the few seconds Slack waits for its answer.
CLAIM_LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Claim:
    key: str
    token: str


async def claim(session: AsyncSession, key: str, body: dict[str, Any] | None = None) -> Claim | None:
    """Take the delivery: its first copy, or a copy of one nobody is handling any more.

    None when it was handled already, or is being handled now.
    """
    now, token = utcnow(), uuid.uuid4().hex
    values = {
        "event_id": key,
        "received_at": now,
        "claim_token": token,
        "claimed_until": now + CLAIM_LEASE,
        "attempts": 1,
        "body": body,
    }
    inserted = await session.execute(
        insert_ignoring_conflict(session.bind.dialect.name, SlackEventReceipt, values, ["event_id"])
    )
    if inserted.rowcount == 1:
        return Claim(key, token)
    return await take_over(session, key, now)


async def recorded(session: AsyncSession, key: str) -> bool:
    """Whether a delivery with this key came in before (on any replica)."""
    found = await session.scalar(select(SlackEventReceipt.event_id).where(SlackEventReceipt.event_id == key))
    return found is not None


async def take_over(session: AsyncSession, key: str, now: datetime | None = None) -> Claim | None:
    """Claim a delivery whose last claim ran out before it was handled."""
    now, token = now or utcnow(), uuid.uuid4().hex
    result = await session.execute(
        update(SlackEventReceipt)
        .where(
            SlackEventReceipt.event_id == key,
            SlackEventReceipt.handled_at.is_(None),
            SlackEventReceipt.claimed_until < now,
            SlackEventReceipt.attempts < MAX_ATTEMPTS,
        )
        .values(claim_token=token, claimed_until=now + CLAIM_LEASE, attempts=SlackEventReceipt.attempts + 1)
    )
    if result.rowcount != 1:
        return None
    log.info("lumen.inbox.taken_over", key=key)
    return Claim(key, token)


def _held(claim: Claim) -> tuple[Any, ...]:
    return (SlackEventReceipt.event_id == claim.key, SlackEventReceipt.claim_token == claim.token)


async def renew(session: AsyncSession, claim: Claim) -> bool:
    result = await session.execute(
        update(SlackEventReceipt).where(*_held(claim)).values(claimed_until=utcnow() + CLAIM_LEASE)
    )
    return result.rowcount == 1


async def handled(session: AsyncSession, claim: Claim) -> None:
    """Done: later copies are dropped, and the body is not kept any more."""
    await session.execute(
        update(SlackEventReceipt)
        .where(*_held(claim))
        .values(handled_at=utcnow(), claim_token=None, claimed_until=None, body=None)
    )


async def release(session: AsyncSession, claim: Claim) -> None:
    """The handling failed: the next copy (Slack's retry, or the sweep) may take it at once."""
    result = await session.execute(
        update(SlackEventReceipt)
        .where(*_held(claim))
        .values(claim_token=None, claimed_until=utcnow())
        .returning(SlackEventReceipt.attempts)
    )
    attempts = result.scalar_one_or_none()
    if attempts is not None and attempts >= MAX_ATTEMPTS:
        log.error("lumen.inbox.given_up", key=claim.key, attempts=attempts)


async def abandoned(session: AsyncSession, limit: int = 20, now: datetime | None = None) -> list[str]:
    """Keys of deliveries nobody is handling: released, or claimed by a replica that died."""
    now = now or utcnow()
    query = (
        select(SlackEventReceipt.event_id)
        .where(
            SlackEventReceipt.handled_at.is_(None),
            SlackEventReceipt.claimed_until < now,
            SlackEventReceipt.attempts < MAX_ATTEMPTS,
            SlackEventReceipt.body.is_not(None),
            SlackEventReceipt.received_at > now - RECEIPT_TTL,
        )
        .order_by(SlackEventReceipt.received_at)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def body_of(session: AsyncSession, claim: Claim) -> dict[str, Any] | None:
    return await session.scalar(select(SlackEventReceipt.body).where(*_held(claim)))


async def prune(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget receipts older than any retry can be."""
    result = await session.execute(
        delete(SlackEventReceipt).where(SlackEventReceipt.received_at < (now or utcnow()) - RECEIPT_TTL)
    )
    return result.rowcount or 0
