"""A wake-up asked for by one slash command is one run, however often the command is handled
(a replica that died with it leaves it to be handled again)."""

from __future__ import annotations

from sqlalchemy import func, select

from lumen.agents import service as agents
from lumen.container import Container
from lumen.db.models import Run


async def test_the_same_request_handled_twice_wakes_the_agent_once(container: Container) -> None:
    db = container.db
    async with db.transaction() as session:
        first = await agents.wake(session, "acme", "cmo", requested_by="U0BOB", request_id="13345224609.738474920.8088930838d88f")
    async with db.transaction() as session:
        again = await agents.wake(session, "acme", "cmo", requested_by="U0BOB", request_id="13345224609.738474920.8088930838d88f")
        other = await agents.wake(session, "acme", "cmo", requested_by="U0BOB", request_id="13345224610.112233445.0a0b0c0d0e0f")
    assert again == first and other.run_id != first.run_id
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Run)) == 2
