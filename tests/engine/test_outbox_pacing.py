"""How the outbox paces itself: a 429 holds back every row of its method, not just the row
that met it; and when Slack answers again after an outage, the backlog goes out at once
instead of each row sitting out the backoff the outage left it with."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from devslack import Workspace
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.engine import outbox
from lumen.engine.outbox import OutboxDispatcher
from tests.engine.helpers import all_rows, eventually
from tests.engine.test_outbox_claims import served_workspace


async def _queue(container: Container, count: int, prefix: str) -> list[str]:
    texts = [f"{prefix} {n}: churn fell after the onboarding change" for n in range(count)]
    async with container.db.transaction() as session:
        for n, text in enumerate(texts):
            await outbox.enqueue(session, "chat.postMessage", {"channel": "launch-notes", "text": text}, dedupe_key=f"{prefix}:{n}")
    return texts


@asynccontextmanager
async def running(container: Container, ws: Workspace, api_url: str) -> AsyncIterator[OutboxDispatcher]:
    dispatcher = OutboxDispatcher(container.db, AsyncWebClient(token=ws.bot_token, base_url=api_url), poll_interval=0.05)
    task = asyncio.create_task(dispatcher.run_forever())
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, 15)


async def _all_sent(container: Container) -> bool:
    return all(r.status == OutboxStatus.SENT for r in await all_rows(container.db, OutboxMessage))


async def test_a_429_holds_back_every_row_of_that_method_until_retry_after(container: Container) -> None:
    texts = await _queue(container, 10, "Weekly note")
    async with served_workspace() as (ws, api_url):
        ws.rate_limit_window("chat.postMessage", calls=4, per=2)
        async with running(container, ws, api_url):
            await eventually(lambda: _all_sent(container), timeout=30)
        calls = ws.calls_to("chat.postMessage")
        # Four go through, the fifth is told to wait; nothing more is tried in that window.
        statuses = [c.status for c in calls]
        assert statuses.count(429) <= 2 and statuses.count(200) == 10, statuses
        for n, call in enumerate(calls):
            if call.status == 429:
                assert calls[n + 1].time >= call.time + 1.0, statuses  # Retry-After is at least 1 s
        assert sorted(m.text for m in ws.messages("launch-notes")) == sorted(texts)


async def test_after_an_outage_the_backlog_goes_out_when_slack_answers_not_after_each_rows_backoff(container: Container) -> None:
    texts = await _queue(container, 6, "Backlog note")
    async with served_workspace() as (ws, api_url):
        ws.outage(True, status=500)
        async with running(container, ws, api_url):

            async def failed() -> bool:
                return len([r for r in await all_rows(container.db, OutboxMessage) if r.last_error]) >= 2

            await eventually(failed, timeout=20)
            # As a long outage leaves the rows it met: their next try minutes away.
            async with container.db.transaction() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.last_error.is_not(None))
                    .values(next_attempt_at=utcnow() + timedelta(minutes=5))
                )
            ws.outage(False)
            await eventually(lambda: _all_sent(container), timeout=30)
        assert sorted(m.text for m in ws.messages("launch-notes")) == sorted(texts)
