"""Event-triggered runs with backpressure: one key makes one run, however often it is fired,
by however many replicas; an agent that already has a run waiting takes the new trigger into
it (coalesced); an agent past its runs-per-hour ceiling is not woken. Every trigger that does
not become a run of its own still leaves a run row under its key saying why (`record_skip`).

Generic over `Run.agent_id`: what fires a trigger (a chain, an outcome, a webhook, a Slack
thread) is the features' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, Run, RunKind, RunStatus, RunTrigger
from lumen.engine import runs

# A waiting run keeps at most this many coalesced inputs (the newest), so it stays bounded.
MAX_COALESCED = 20

Outcome = Literal["queued", "duplicate", "coalesced", "skipped"]


@dataclass(frozen=True)
class Fired:
    run_id: int  # the run that will carry the trigger (or the skipped row saying why not)
    outcome: Outcome
    reason: str | None = None
    coalesced_into: int | None = None


async def fire(
    session: AsyncSession,
    *,
    agent_id: int,
    venture_id: int,
    key: str,
    trigger: dict[str, Any],
    runs_per_hour: int,
    also_keys: tuple[str, ...] = (),
    run_trigger: RunTrigger = RunTrigger.EVENT,
) -> Fired:
    """Queue a wake-up of the agent for one trigger (`trigger` goes to the run's context).

    `also_keys`: older keys that stand for the same trigger (a webhook's previous time window).
    """
    if (found := await _existing(session, (key, *also_keys))) is not None:
        return Fired(found, "duplicate")
    # Triggers of one agent take turns across replicas, so that two of them cannot both
    # miss the run the other is queueing (SQLite has one writer at a time anyway).
    if session.bind.dialect.name == "postgresql":
        await session.execute(select(Agent.id).where(Agent.id == agent_id).with_for_update())
        if (found := await _existing(session, (key, *also_keys))) is not None:
            return Fired(found, "duplicate")
    context = {"trigger": trigger}
    started = await runs_in_last_hour(session, agent_id)
    if started >= runs_per_hour:
        reason = f"runs-per-hour ceiling reached: {started} runs in the last hour (limit {runs_per_hour})"
        return await _skip(session, key, reason, agent_id, venture_id, context, run_trigger)
    waiting = await _queued_run(session, agent_id)
    if waiting is not None and await _take_into(session, waiting, trigger):
        reason = f"coalesced into run #{waiting}, which was already waiting to start"
        skipped = await _skip(session, key, reason, agent_id, venture_id, context, run_trigger)
        return Fired(skipped.run_id, "coalesced" if skipped.outcome == "skipped" else skipped.outcome, reason, waiting)
    run_id = await runs.enqueue(
        session,
        key=key,
        trigger=run_trigger,
        kind=RunKind.WAKE,
        agent_id=agent_id,
        venture_id=venture_id,
        scheduled_for=utcnow(),
        context=context,
    )
    if run_id is None:
        return Fired(await runs.run_id_of(session, key), "duplicate")
    return Fired(run_id, "queued")


async def runs_in_last_hour(session: AsyncSession, agent_id: int) -> int:
    """Runs of the agent created in the last hour that ran or will run (not skipped, not replays)."""
    since = utcnow() - timedelta(hours=1)
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Run)
            .where(
                Run.agent_id == agent_id,
                Run.created_at >= since,
                Run.status != RunStatus.CANCELLED,
                Run.side_effects.is_(True),
            )
        )
        or 0
    )


async def _existing(session: AsyncSession, keys: tuple[str, ...]) -> int | None:
    return await session.scalar(select(Run.id).where(Run.idempotency_key.in_(keys)).order_by(Run.id).limit(1))


async def _queued_run(session: AsyncSession, agent_id: int) -> int | None:
    """A wake-up of this agent not started yet: a new trigger rides along with it."""
    return await session.scalar(
        select(Run.id)
        .where(Run.agent_id == agent_id, Run.kind == RunKind.WAKE, Run.status == RunStatus.QUEUED, Run.side_effects.is_(True))
        .order_by(Run.id)
        .limit(1)
    )


async def _take_into(session: AsyncSession, run_id: int, trigger: dict[str, Any]) -> bool:
    """Add the trigger to a queued run's context; False if it started meanwhile."""
    run = await session.get(Run, run_id, populate_existing=True)
    if run is None or run.status != RunStatus.QUEUED:
        return False
    coalesced = [*run.context.get("coalesced", []), trigger][-MAX_COALESCED:]
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.QUEUED)
        .values(context=run.context | {"coalesced": coalesced})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def _skip(
    session: AsyncSession,
    key: str,
    reason: str,
    agent_id: int,
    venture_id: int,
    context: dict[str, Any],
    run_trigger: RunTrigger,
) -> Fired:
    run_id = await runs.record_skip(
        session, key=key, reason=reason, trigger=run_trigger, agent_id=agent_id, venture_id=venture_id, context=context
    )
    if run_id is None:
        return Fired(await runs.run_id_of(session, key), "duplicate")
    return Fired(run_id, "skipped", reason)
