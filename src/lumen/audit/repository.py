"""Queries over runs and their journals. Each takes the caller's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Decision, Run, RunStatus, Step, Venture


async def runs(session: AsyncSession, *, venture: str | None, status: RunStatus | None, limit: int) -> Sequence[Any]:
    """(run, venture slug, agent role), newest first."""
    query = (
        select(Run, Venture.slug, Agent.role)
        .outerjoin(Venture, Venture.id == Run.venture_id)
        .outerjoin(Agent, Agent.id == Run.agent_id)
        .order_by(Run.id.desc())
        .limit(limit)
    )
    if venture:
        query = query.where(Venture.slug == venture)
    if status is not None:
        query = query.where(Run.status == status)
    return (await session.execute(query)).all()


async def run_with_steps(session: AsyncSession, run_id: int) -> tuple[Run, list[Step]] | None:
    run = await session.get(Run, run_id)
    if run is None:
        return None
    steps = list((await session.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.seq))).all())
    return run, steps


async def run_of_decision(session: AsyncSession, decision_id: int) -> tuple[int, str | None] | None:
    """The decision's run, and the permalink of its message (once posted)."""
    row = (await session.execute(select(Decision.run_id, Decision.permalink).where(Decision.id == decision_id))).first()
    return (row[0], row[1]) if row else None
