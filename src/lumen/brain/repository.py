"""Queries about brains, insights, outcomes and what happened since a brain. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import (
    Approval,
    ApprovalStatus,
    BrainVersion,
    Decision,
    Outcome,
    OutboxMessage,
    PlatformInsight,
    Run,
    RunKind,
    Spend,
    Venture,
)
from lumen.domain.brain import DecisionFact


async def latest_brain(session: AsyncSession, venture_id: int, version: int | None = None) -> BrainVersion | None:
    query = select(BrainVersion).where(BrainVersion.venture_id == venture_id)
    if version is not None:
        query = query.where(BrainVersion.version == version)
    return await session.scalar(query.order_by(BrainVersion.version.desc()).limit(1))


async def latest_brain_version(session: AsyncSession, venture_id: int) -> int | None:
    return await session.scalar(select(func.max(BrainVersion.version)).where(BrainVersion.venture_id == venture_id))


async def latest_insight(session: AsyncSession) -> PlatformInsight | None:
    return await session.scalar(select(PlatformInsight).order_by(PlatformInsight.version.desc()).limit(1))


async def latest_insight_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(PlatformInsight.version))) or 0)


async def live_ventures(session: AsyncSession) -> Sequence[Venture]:
    return (await session.scalars(select(Venture).where(Venture.archived_at.is_(None)))).all()


async def latest_outcome(session: AsyncSession, decision_id: int) -> Outcome | None:
    return await session.scalar(
        select(Outcome).where(Outcome.decision_id == decision_id).order_by(Outcome.id.desc()).limit(1)
    )


async def decision_for_outcome(session: AsyncSession, decision_id: int) -> Decision | None:
    """The decision, locked on Postgres: two outcomes for it must not both find none before them."""
    return await session.get(Decision, decision_id, with_for_update=session.bind.dialect.name == "postgresql")


async def facts_since(
    session: AsyncSession, venture_id: int, since: datetime | None, until: datetime
) -> list[DecisionFact]:
    """Decisions made, resolved or given an outcome in (since, until]: the week's activity only."""
    touched = or_(
        Decision.created_at > since,
        Decision.resolved_at > since,
        Decision.id.in_(select(Outcome.decision_id).where(Outcome.created_at > since, Outcome.created_at <= until)),
    ) if since is not None else True
    chosen = Decision.venture_id == venture_id, Decision.created_at <= until, touched
    decisions = (await session.scalars(select(Decision).where(*chosen).order_by(Decision.id))).all()
    if not decisions:
        return []
    # The same selection as a subquery, not a list of ids: a first synthesis over a long history
    # touches more decisions than a statement may carry parameters.
    ids = select(Decision.id).where(*chosen)
    outcomes: dict[int, Outcome] = {}
    for outcome in await session.scalars(
        select(Outcome).where(Outcome.decision_id.in_(ids), Outcome.created_at <= until).order_by(Outcome.id)
    ):
        outcomes[outcome.decision_id] = outcome  # the latest wins
    reasons = dict(
        (
            await session.execute(
                select(Approval.decision_id, Approval.reason).where(
                    Approval.decision_id.in_(ids), Approval.status == ApprovalStatus.REJECTED
                )
            )
        ).all()
    )
    facts = []
    for d in decisions:
        o = outcomes.get(d.id)
        facts.append(
            DecisionFact(
                id=d.id,
                title=d.title,
                category=d.category,
                status=d.status.value,
                verdict=o.verdict.value if o else None,
                metric=o.metric if o else None,
                before=o.metric_before if o else None,
                after=o.metric_after if o else None,
                reason=reasons.get(d.id),
                brain_version=d.brain_version,
            )
        )
    return facts


async def week_stats(session: AsyncSession, venture: Venture, since: datetime | None, until: datetime) -> dict[str, Any]:
    """Counts for the weekly summary: decisions, approvals, outcomes and spend in the window."""
    lower = since or datetime.min.replace(tzinfo=until.tzinfo)
    decisions = dict(
        (
            await session.execute(
                select(Decision.status, func.count())
                .where(Decision.venture_id == venture.id, Decision.created_at > lower, Decision.created_at <= until)
                .group_by(Decision.status)
            )
        ).all()
    )
    approvals = dict(
        (
            await session.execute(
                select(Approval.status, func.count())
                .where(Approval.venture_id == venture.id, Approval.resolved_at > lower, Approval.resolved_at <= until)
                .group_by(Approval.status)
            )
        ).all()
    )
    outcomes = dict(
        (
            await session.execute(
                select(Outcome.verdict, func.count())
                .join(Decision, Decision.id == Outcome.decision_id)
                .where(Decision.venture_id == venture.id, Outcome.created_at > lower, Outcome.created_at <= until)
                .group_by(Outcome.verdict)
            )
        ).all()
    )
    spend = await session.scalar(
        select(func.coalesce(func.sum(Spend.cost_usd), 0)).where(
            Spend.venture_id == venture.id, Spend.created_at > lower, Spend.created_at <= until
        )
    )
    return {
        "decisions": {k.value: v for k, v in decisions.items()},
        "approvals": {k.value: v for k, v in approvals.items()},
        "outcomes": {k.value: v for k, v in outcomes.items()},
        "spend_usd": str(Decimal(str(spend or 0))),
    }


async def score_rows(session: AsyncSession, venture_id: int) -> tuple[list[Any], dict[int | None, Decimal]]:
    """(brain version, latest verdict, approval status) per decision, and wake-up cost per version."""
    newest = (
        select(Outcome.decision_id, func.max(Outcome.id).label("outcome_id"))
        .group_by(Outcome.decision_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Decision.brain_version, Outcome.verdict, Approval.status)
            .outerjoin(newest, newest.c.decision_id == Decision.id)
            .outerjoin(Outcome, Outcome.id == newest.c.outcome_id)
            .outerjoin(Approval, Approval.decision_id == Decision.id)
            .where(Decision.venture_id == venture_id)
        )
    ).all()
    # Model cost belongs to the wake-ups, which ran under one brain version each.
    costs = dict(
        (
            await session.execute(
                select(Run.brain_version, func.coalesce(func.sum(Run.cost_usd), 0))
                .where(Run.venture_id == venture_id, Run.kind == RunKind.WAKE, Run.side_effects.is_(True))
                .group_by(Run.brain_version)
            )
        ).all()
    )
    return list(rows), {version: Decimal(str(cost)) for version, cost in costs.items()}


async def record_chart(session: AsyncSession, brain_version_id: int, file_id: str) -> None:
    await session.execute(update(BrainVersion).where(BrainVersion.id == brain_version_id).values(chart_file_id=file_id))


async def posted_payload(session: AsyncSession, dedupe_key: str) -> dict[str, Any] | None:
    """What a message was posted with (its outbox row's payload), to change it in place later."""
    return await session.scalar(select(OutboxMessage.payload).where(OutboxMessage.dedupe_key == dedupe_key))
