"""How thread messages become runs, on both databases: a burst joins the queued run; a message
that comes once the run has started queues one follow-up, which later messages join; the same
message heard twice (as `message` and as `app_mention`) counts once; replies that race on two
connections still make one run; a run waits out its quiet window before a worker may take it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from lumen import clock
from lumen.agents.conversations import MAX_WINDOWS, Heard, Listener, hear
from lumen.container import Container
from lumen.db.models import Agent, Run, RunTrigger, Venture
from lumen.engine import runs

QUIET = timedelta(seconds=30)


async def listener(container: Container) -> Listener:
    async with container.db.sessions() as session:
        venture = await session.scalar(select(Venture).where(Venture.slug == "brightbox"))
        agent = await session.scalar(select(Agent).where(Agent.venture_id == venture.id, Agent.role == "ceo"))
    return Listener(venture, agent, None)


async def say(container: Container, who: Listener, ts: str, text: str = "hm", quiet: timedelta = QUIET):  # type: ignore[no-untyped-def]
    async with container.db.transaction() as session:
        return await hear(session, who, Heard("C0THREAD", "1700000000.000001", ts, "U0BOB", text), quiet=quiet)


async def thread_runs(container: Container) -> list[Run]:
    async with container.db.sessions() as session:
        return list((await session.scalars(select(Run).where(Run.trigger == RunTrigger.EVENT).order_by(Run.id))).all())


async def test_a_burst_joins_one_run_and_a_late_message_queues_one_follow_up(container: Container) -> None:
    who = await listener(container)
    first = await say(container, who, "1700000001.000001", "one")
    assert first.run_id is not None and not first.joined
    for i in range(2, 5):
        joined = await say(container, who, f"170000000{i}.000001", str(i))
        assert joined.joined and joined.run_id == first.run_id
    # The same message again (its app_mention after its message event): heard once.
    again = await say(container, who, "1700000004.000001", "4")
    assert again.run_id is None

    claim = await runs.claim(container.db, first.run_id, "a-worker")  # the run starts
    assert claim is not None
    late = await say(container, who, "1700000005.000001", "five")
    later = await say(container, who, "1700000006.000001", "six")
    assert late.run_id not in (None, first.run_id) and not late.joined
    assert later.joined and later.run_id == late.run_id

    started, follow_up = await thread_runs(container)
    assert [m["text"] for m in started.context["conversation"]["messages"]] == ["one", "2", "3", "4"]
    assert [m["text"] for m in follow_up.context["conversation"]["messages"]] == ["five", "six"]
    assert started.idempotency_key.endswith(":0") and follow_up.idempotency_key.endswith(":1")


async def test_replies_racing_on_two_connections_make_one_run(container: Container) -> None:
    who = await listener(container)
    results = await asyncio.gather(*(say(container, who, f"17000001{i:02d}.000001", f"m{i}") for i in range(6)))
    assert len({r.run_id for r in results}) == 1
    [run] = await thread_runs(container)
    assert sorted(m["text"] for m in run.context["conversation"]["messages"]) == [f"m{i}" for i in range(6)]


async def test_a_thread_run_waits_out_its_quiet_window(container: Container) -> None:
    who = await listener(container)
    woken = await say(container, who, "1700000201.000001", quiet=timedelta(minutes=5))
    assert await runs.claim_next(container.db, "a-worker") is None  # still quiet
    async with container.db.transaction() as session:
        run = await session.get(Run, woken.run_id)
        run.scheduled_for = run.created_at  # the window has passed
    claimed = await runs.claim_next(container.db, "a-worker")
    assert claimed is not None and claimed.run_id == woken.run_id


async def test_a_thread_that_never_falls_quiet_is_still_answered(container: Container) -> None:
    who = await listener(container)
    quiet = timedelta(minutes=1)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    for minute in range(0, 10):  # a message every 50 s for ten minutes: never a quiet minute
        with clock.at(start + timedelta(seconds=50 * minute)):
            woken = await say(container, who, f"17000004{minute:02d}.000001", quiet=quiet)
    [run] = await thread_runs(container)
    assert woken.run_id == run.id
    assert run.scheduled_for == start + quiet * MAX_WINDOWS  # not the last message + a minute
    assert len(run.context["conversation"]["messages"]) == 10
