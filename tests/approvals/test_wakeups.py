"""A resolution nudges the outbox so the approval message changes at once, not at the next poll.

Found by benchmarks/approval_resume.py: the dispatcher cleared its wake-up flag *after* looking
for due rows, so a nudge that arrived while it was looking was lost and the message update
waited a whole poll interval (p99 click-to-update over 500 ms on SQLite).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from lumen.db.session import Database
from lumen.engine.outbox import OutboxDispatcher
from tests.support.databases import sqlite_url


async def test_a_nudge_while_the_outbox_is_looking_is_not_lost(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path))  # never queried: the look is replaced below
    client = AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/api/")
    dispatcher = OutboxDispatcher(db, client, poll_interval=30)
    looks = 0
    second_look = asyncio.Event()

    async def dispatch_due() -> int:
        nonlocal looks
        looks += 1
        if looks == 1:
            await asyncio.sleep(0)  # while this look is under way (its query already ran) ...
            dispatcher.notify()  # ... a resolution commits and nudges the outbox
        else:
            second_look.set()
        return 0

    dispatcher.dispatch_due = dispatch_due  # type: ignore[method-assign]
    task = asyncio.create_task(dispatcher.run_forever())
    try:
        await asyncio.wait_for(second_look.wait(), 2)  # looks again now, not after 30 s
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, 2)
        await db.dispose()
