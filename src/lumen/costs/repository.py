"""Queries for costs: spend rows, decisions and successful outcomes of a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lumen.db.enums import Verdict
from lumen.db.models import Agent, Decision, Outcome, OutboxMessage, Spend, Venture


@dataclass(frozen=True)
class SpendPoint:
    at: datetime
    cost_usd: Decimal
    venture_id: int | None
    agent_id: int | None
    purpose: str
    model: str


async def spend_since(session: AsyncSession, since: datetime, venture_id: int | None = None) -> list[SpendPoint]:
    """Every call since `since` (settled and reserved), for attribution and daily series."""
    query = select(Spend.created_at, Spend.cost_usd, Spend.venture_id, Spend.agent_id, Spend.purpose, Spend.model).where(
        Spend.created_at >= since
    )
    if venture_id is not None:
        query = query.where(Spend.venture_id == venture_id)
    return [SpendPoint(*row) for row in (await session.execute(query)).all()]


async def agents_of(session: AsyncSession, venture_ids: Sequence[int]) -> list[tuple[Agent, str]]:
    """Live agents of these ventures, with their venture's slug."""
    query = (
        select(Agent, Venture.slug)
        .join(Venture, Venture.id == Agent.venture_id)
        .where(Agent.venture_id.in_(venture_ids), Agent.archived_at.is_(None))
        .order_by(Venture.slug, Agent.role)
    )
    return [(agent, slug) for agent, slug in (await session.execute(query)).all()]


async def decisions_since(session: AsyncSession, since: datetime, venture_ids: Sequence[int]) -> dict[int, int]:
    query = (
        select(Decision.venture_id, func.count())
        .where(Decision.created_at >= since, Decision.venture_id.in_(venture_ids))
        .group_by(Decision.venture_id)
    )
    return {venture_id: count for venture_id, count in (await session.execute(query)).all()}


async def successes_since(session: AsyncSession, since: datetime, venture_ids: Sequence[int]) -> dict[int, int]:
    """Successful outcomes recorded since `since`, by venture; a corrected outcome counts as corrected."""
    later = aliased(Outcome)
    current = ~select(later.id).where(later.supersedes_id == Outcome.id).exists()
    query = (
        select(Decision.venture_id, func.count(func.distinct(Outcome.decision_id)))
        .join(Decision, Decision.id == Outcome.decision_id)
        .where(and_(Outcome.created_at >= since, Outcome.verdict == Verdict.SUCCESS, current, Decision.venture_id.in_(venture_ids)))
        .group_by(Decision.venture_id)
    )
    return {venture_id: count for venture_id, count in (await session.execute(query)).all()}


@dataclass(frozen=True)
class RunUsage:
    run_id: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal


async def recent_run_usage(session: AsyncSession, agent_id: int, runs: int) -> list[RunUsage]:
    """The agent's latest runs that called a model: calls and tokens per run, newest first."""
    query = (
        select(
            Spend.run_id,
            func.count(),
            func.coalesce(func.sum(Spend.prompt_tokens), 0),
            func.coalesce(func.sum(Spend.completion_tokens), 0),
            func.coalesce(func.sum(Spend.cost_usd), 0),
        )
        .where(Spend.agent_id == agent_id, Spend.run_id.is_not(None), Spend.settled.is_(True))
        .group_by(Spend.run_id)
        .order_by(func.max(Spend.created_at).desc())
        .limit(runs)
    )
    return [RunUsage(r[0], r[1], int(r[2]), int(r[3]), Decimal(str(r[4]))) for r in (await session.execute(query)).all()]


async def agent_spend_since(session: AsyncSession, agent_id: int, since: datetime) -> Decimal:
    query = select(func.coalesce(func.sum(Spend.cost_usd), 0)).where(Spend.agent_id == agent_id, Spend.created_at >= since)
    return Decimal(str(await session.scalar(query)))


async def outbox_rows(session: AsyncSession, keys: Sequence[str]) -> dict[str, OutboxMessage]:
    """The outbox rows under these keys (a chart's upload, to reuse within its hour)."""
    if not keys:
        return {}
    rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.in_(list(keys))))).all()
    return {row.dedupe_key: row for row in rows}
