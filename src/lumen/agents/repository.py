"""Queries about agents and their decisions. Each takes the caller's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    Decision,
    HumanQuestion,
    Outcome,
    QuestionStatus,
    Run,
    RunStatus,
    RunTrigger,
    Venture,
)


async def decided_since(session: AsyncSession, venture_id: int, since: datetime | None, limit: int) -> Sequence[Decision]:
    """The venture's latest decisions after `since` (all, before its first brain), newest first."""
    query = select(Decision).where(Decision.venture_id == venture_id)
    if since is not None:
        query = query.where(Decision.created_at > since)
    return (await session.scalars(query.order_by(Decision.created_at.desc(), Decision.id.desc()).limit(limit))).all()


async def latest_verdicts(session: AsyncSession, decision_ids: Sequence[int]) -> dict[int, str]:
    verdicts: dict[int, str] = {}
    if decision_ids:
        for outcome in await session.scalars(
            select(Outcome).where(Outcome.decision_id.in_(decision_ids)).order_by(Outcome.id)
        ):
            verdicts[outcome.decision_id] = outcome.verdict.value  # the latest wins
    return verdicts


async def waiting_for_humans(session: AsyncSession, venture_id: int, limit: int) -> Sequence[Decision]:
    """The venture's decisions whose approval is still pending, oldest first."""
    return (
        await session.scalars(
            select(Decision)
            .join(Approval, Approval.decision_id == Decision.id)
            .where(Approval.venture_id == venture_id, Approval.status == ApprovalStatus.PENDING)
            .order_by(Approval.created_at)
            .limit(limit)
        )
    ).all()


async def asked_humans(
    session: AsyncSession, venture_id: int, answered_since: datetime, limit: int
) -> tuple[Sequence[Any], Sequence[Any]]:
    """(questions the venture's agents asked that await an answer, questions answered after
    `answered_since`), each newest first and at most `limit`: with the agent role that asked."""
    asked = select(HumanQuestion, Agent.role).join(Agent, Agent.id == HumanQuestion.agent_id)
    waiting = await session.execute(
        asked.where(HumanQuestion.venture_id == venture_id, HumanQuestion.status == QuestionStatus.PENDING)
        .order_by(HumanQuestion.created_at.desc(), HumanQuestion.id.desc())
        .limit(limit)
    )
    answered = await session.execute(
        asked.where(
            HumanQuestion.venture_id == venture_id,
            HumanQuestion.status == QuestionStatus.ANSWERED,
            HumanQuestion.answered_at > answered_since,
        )
        .order_by(HumanQuestion.answered_at.desc(), HumanQuestion.id.desc())
        .limit(limit)
    )
    return [tuple(r) for r in waiting.all()], [tuple(r) for r in answered.all()]


async def turned_down(session: AsyncSession, venture_id: int, since: datetime, limit: int) -> Sequence[Any]:
    """(decision, approval) the venture's humans rejected (or let expire) after `since`, newest first.

    One query per status: each walks (venture_id, status, resolved_at) backwards and stops at
    `limit`, where one query over both statuses sorts every one of the period's refusals."""
    found: list[Any] = []
    for status in (ApprovalStatus.REJECTED, ApprovalStatus.EXPIRED):
        found += (
            await session.execute(
                select(Decision, Approval)
                .join(Approval, Approval.decision_id == Decision.id)
                .where(Approval.venture_id == venture_id, Approval.status == status, Approval.resolved_at > since)
                .order_by(Approval.resolved_at.desc())
                .limit(limit)
            )
        ).all()
    return sorted(found, key=lambda row: row[1].resolved_at, reverse=True)[:limit]


async def decision_with_owners(session: AsyncSession, decision_id: int) -> tuple[Decision, Venture, Agent] | None:
    row = (
        await session.execute(
            select(Decision, Venture, Agent)
            .join(Venture, Venture.id == Decision.venture_id)
            .join(Agent, Agent.id == Decision.agent_id)
            .where(Decision.id == decision_id)
        )
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


async def record_post(session: AsyncSession, decision_id: int, channel: str | None, ts: str | None, permalink: str | None) -> None:
    """Where the decision's message landed: for outcomes in its thread, and links to it."""
    values: dict[str, Any] = {"slack_channel_id": channel, "slack_ts": ts}
    if permalink:
        values["permalink"] = permalink
    await session.execute(update(Decision).where(Decision.id == decision_id).values(**values))


async def agent_for_update(session: AsyncSession, agent_id: int) -> Agent | None:
    # FOR NO KEY UPDATE, not FOR UPDATE: the transaction that fails a run already holds a
    # key-share lock on the agent (finishing the run re-checks its foreign keys), and so may
    # another failing run of the same agent; FOR UPDATE would deadlock with it, FOR NO KEY
    # UPDATE still serializes the count.
    postgres = session.bind.dialect.name == "postgresql"
    return await session.get(Agent, agent_id, with_for_update={"key_share": True} if postgres else None)


async def reset_failures(session: AsyncSession, agent_id: int) -> None:
    await session.execute(update(Agent).where(Agent.id == agent_id).values(consecutive_failures=0))


async def schedulable_agents(session: AsyncSession) -> Sequence[Agent]:
    """Every live agent of a live venture, with its venture loaded."""
    return (
        await session.scalars(
            select(Agent)
            .join(Venture)
            .where(Agent.archived_at.is_(None), Venture.archived_at.is_(None))
            .options(selectinload(Agent.venture))
        )
    ).all()


async def last_scheduled_fire(session: AsyncSession) -> dict[int, datetime]:
    """The latest nominal fire time enqueued per agent by its schedule."""
    rows = (
        await session.execute(
            select(Run.agent_id, func.max(Run.scheduled_for)).where(Run.trigger == RunTrigger.SCHEDULE).group_by(Run.agent_id)
        )
    ).all()
    return {agent_id: fired for agent_id, fired in rows if agent_id is not None and fired is not None}


async def live_agent_refs(session: AsyncSession) -> Sequence[Any]:
    """(venture slug, role) of every live agent, in order."""
    return (
        await session.execute(
            select(Venture.slug, Agent.role)
            .join(Agent, Agent.venture_id == Venture.id)
            .where(Agent.archived_at.is_(None), Venture.archived_at.is_(None))
            .order_by(Venture.slug, Agent.role)
        )
    ).all()


async def queued_manual_run(session: AsyncSession, agent_id: int) -> int | None:
    """A manual wake-up of this agent that has not started yet, if any."""
    return await session.scalar(
        select(Run.id)
        .where(Run.agent_id == agent_id, Run.trigger == RunTrigger.MANUAL, Run.status == RunStatus.QUEUED)
        .order_by(Run.id)
        .limit(1)
    )
