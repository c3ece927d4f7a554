"""The inbox on both databases: one handler per delivery at a time, none dropped.

A copy of a delivery is refused while its first copy is being handled and once it was
handled; it is taken when the handling failed (released) or its handler vanished (the
claim ran out); after MAX_ATTEMPTS it is given up.
"""

from __future__ import annotations

from datetime import timedelta

from lumen.db.base import utcnow
from lumen.db.session import Database
from lumen.engine import inbox

BODY = {"type": "event_callback", "event_id": "Ev0PRICING", "event": {"type": "app_mention", "text": "what about pricing?"}}


async def _claim(db: Database, key: str = "Ev0PRICING") -> inbox.Claim | None:
    async with db.transaction() as session:
        return await inbox.claim(session, key, BODY)


async def test_a_copy_is_refused_while_the_first_is_handled_and_after(db: Database) -> None:
    first = await _claim(db)
    assert first is not None
    assert await _claim(db) is None  # being handled
    async with db.transaction() as session:
        await inbox.handled(session, first)
    assert await _claim(db) is None  # handled
    async with db.sessions() as session:
        assert await inbox.abandoned(session) == []
        assert await inbox.body_of(session, first) is None  # not kept once handled


async def test_a_released_delivery_is_taken_by_the_next_copy_or_the_sweep(db: Database) -> None:
    first = await _claim(db)
    assert first is not None
    async with db.transaction() as session:
        await inbox.release(session, first)
    async with db.sessions() as session:
        assert await inbox.abandoned(session) == ["Ev0PRICING"]
    retry = await _claim(db)
    assert retry is not None and retry.token != first.token
    async with db.transaction() as session:
        await inbox.handled(session, first)  # the old claim no longer counts
    async with db.sessions() as session:
        assert await inbox.body_of(session, retry) == BODY


async def test_a_claim_whose_handler_vanished_is_taken_over_after_its_lease(db: Database) -> None:
    first = await _claim(db)
    assert first is not None
    later = utcnow() + inbox.CLAIM_LEASE + timedelta(seconds=1)
    async with db.sessions() as session:
        assert await inbox.abandoned(session) == []
        assert await inbox.abandoned(session, now=later) == ["Ev0PRICING"]
    async with db.transaction() as session:
        heir = await inbox.take_over(session, "Ev0PRICING", now=later)
        assert heir is not None
        assert not await inbox.renew(session, first)  # the vanished handler holds nothing now
        assert await inbox.renew(session, heir)


async def test_a_delivery_that_keeps_failing_is_given_up(db: Database) -> None:
    for _ in range(inbox.MAX_ATTEMPTS):
        claim = await _claim(db)
        assert claim is not None
        async with db.transaction() as session:
            await inbox.release(session, claim)
    assert await _claim(db) is None
    async with db.sessions() as session:
        assert await inbox.abandoned(session) == []
