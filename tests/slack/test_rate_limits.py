"""Per-person limits on commands and questions, counted in the database across replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from devslack import Workspace
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.db.models import Spend
from lumen.devmode import DevStack, dev_stack
from lumen.engine import ratelimit
from tests.engine.helpers import all_rows
from tests.slack.support import response_url_payloads


@pytest.fixture
async def stack(container: Container) -> AsyncIterator[DevStack]:
    if time.time() % 60 > 50:  # all in one minute's window
        await asyncio.sleep(61 - time.time() % 60)
    settings = container.settings.model_copy(update={"commands_per_minute": 3, "questions_per_minute": 2})
    async with dev_stack(settings, container.config, workspace=Workspace.demo(retry_delays=(0.05, 0.05, 0.05))) as running:
        yield running


async def test_commands_past_the_limit_are_told_when_to_try_again(stack: DevStack) -> None:
    ws = stack.workspace
    sent = [await ws.slash_command("U0BOB", "venture-acme", "/lumen", "approvals") for _ in range(5)]
    replies = [(await ws.wait_for(lambda d=d: response_url_payloads(ws, d), timeout=10))[0]["text"] for d in sent]
    slowed = [r for r in replies if "more than 3 commands a minute" in r]
    assert len(slowed) == 2 and "try again in" in slowed[0]
    # Another person is not held up by Bob.
    other = await ws.slash_command("U0CAROL", "venture-acme", "/lumen", "approvals")
    [reply] = await ws.wait_for(lambda: response_url_payloads(ws, other), timeout=10)
    assert "more than" not in reply["text"]


async def test_questions_past_the_limit_call_no_model(stack: DevStack, container: Container) -> None:
    ws = stack.workspace
    dm = ws.dm_with("U0DAN")
    asked = [await ws.send_message("U0DAN", dm.id, f"what did acme try on pricing? ({n})") for n in range(4)]

    def answers() -> list[str] | None:
        found = [[m.text for m in ws.thread(dm.id, q.ts) if m.ts != q.ts and m.user == ws.bot.id] for q in asked]
        return [a[0] for a in found] if all(found) else None

    texts = await ws.wait_for(answers, timeout=20)
    assert sum("more than 2 questions a minute" in t for t in texts) == 2
    asks = [s for s in await all_rows(container.db, Spend) if s.purpose == "ask"]
    assert len(asks) <= 2


async def test_the_count_is_one_window_per_person_and_minute(container: Container) -> None:
    now = utcnow()
    async with container.db.transaction() as session:
        counts = [(await ratelimit.take(session, "command", "U0BOB", 2, now)).allowed for _ in range(3)]
        other = await ratelimit.take(session, "command", "U0CAROL", 2, now)
        later = await ratelimit.take(session, "command", "U0BOB", 2, now + ratelimit.WINDOW)
    assert counts == [True, True, False] and other.allowed and later.allowed
