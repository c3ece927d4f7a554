"""Queries about ventures and agents. Read-only; the caller owns the transaction."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lumen.db.models import Agent, Approval, ApprovalStatus, BrainVersion, Decision, Run, RunTrigger, Spend, Venture


async def active_ventures(session: AsyncSession) -> Sequence[Venture]:
    query = (
        select(Venture)
        .where(Venture.archived_at.is_(None))
        .options(selectinload(Venture.agents))
        .order_by(Venture.slug)
    )
    return (await session.scalars(query)).all()


def match_venture(ventures: Sequence[Venture], ref: str) -> Venture | None:
    """Find a venture by slug, name, alias or channel; exact matches only."""
    needle = ref.strip().lstrip("#").lower()
    for venture in ventures:
        names = {venture.slug, venture.name.lower(), venture.channel, *map(str.lower, venture.aliases)}
        if needle in names or (venture.channel_id and needle == venture.channel_id.lower()):
            return venture
    return None


def suggest_ventures(ventures: Sequence[Venture], ref: str) -> list[str]:
    names = [v.slug for v in ventures] + [v.name for v in ventures]
    return difflib.get_close_matches(ref, names, n=3, cutoff=0.5)


async def last_runs(session: AsyncSession, agent_ids: Sequence[int]) -> dict[int, Run]:
    if not agent_ids:
        return {}
    latest = (
        select(Run.agent_id, func.max(Run.id).label("run_id"))
        # A replay (`lumen runs replay`) is an operator's experiment, not the agent at work:
        # its failure is not the agent's last failure.
        .where(Run.agent_id.in_(agent_ids), Run.trigger != RunTrigger.REPLAY)
        .group_by(Run.agent_id)
        .subquery()
    )
    runs = await session.scalars(select(Run).join(latest, Run.id == latest.c.run_id))
    return {run.agent_id: run for run in runs if run.agent_id is not None}


async def pending_approval_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Approval.venture_id, func.count())
        .where(Approval.status == ApprovalStatus.PENDING)
        .group_by(Approval.venture_id)
    )
    return {venture_id: count for venture_id, count in rows}


async def spend_since(session: AsyncSession, since: datetime) -> dict[int, Decimal]:
    rows = await session.execute(
        select(Spend.venture_id, func.coalesce(func.sum(Spend.cost_usd), 0))
        .where(Spend.created_at >= since)
        .group_by(Spend.venture_id)
    )
    return {venture_id: Decimal(str(total)) for venture_id, total in rows if venture_id}


async def agent_by_role(session: AsyncSession, venture_id: int, role: str) -> Agent | None:
    return await session.scalar(
        select(Agent).where(
            Agent.venture_id == venture_id, Agent.role == role, Agent.archived_at.is_(None)
        )
    )


async def agent_spend_since(session: AsyncSession, since: datetime) -> dict[int, Decimal]:
    rows = await session.execute(
        select(Spend.agent_id, func.coalesce(func.sum(Spend.cost_usd), 0))
        .where(Spend.created_at >= since, Spend.agent_id.is_not(None))
        .group_by(Spend.agent_id)
    )
    return {agent_id: Decimal(str(total)) for agent_id, total in rows}


async def latest_charts(session: AsyncSession, venture_ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    """Per venture, its newest brain version that has a chart in Slack: (version, file id, alt text)."""
    newest = (
        select(BrainVersion.venture_id, func.max(BrainVersion.version).label("version"))
        .where(BrainVersion.venture_id.in_(venture_ids), BrainVersion.chart_file_id.is_not(None))
        .group_by(BrainVersion.venture_id)
        .subquery()
    )
    rows = await session.execute(
        select(BrainVersion.venture_id, BrainVersion.version, BrainVersion.chart_file_id, BrainVersion.chart_alt).join(
            newest, (newest.c.venture_id == BrainVersion.venture_id) & (newest.c.version == BrainVersion.version)
        )
    )
    return {venture_id: (version, file_id, alt or "") for venture_id, version, file_id, alt in rows.all()}


async def venture_of_decision(session: AsyncSession, decision_id: int) -> Venture | None:
    if not 0 < decision_id < 2**63:
        return None
    return await session.scalar(
        select(Venture).join(Decision, Decision.venture_id == Venture.id).where(Decision.id == decision_id)
    )
