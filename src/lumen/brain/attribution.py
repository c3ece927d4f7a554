"""Reading decision quality per brain version out of the database."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Approval, ApprovalStatus, Decision, Outcome, Run, RunKind
from lumen.domain.attribution import DecisionRecord, VersionScore, score_by_version


async def scores_for_venture(session: AsyncSession, venture_id: int) -> list[VersionScore]:
    latest_outcome = (
        select(Outcome.decision_id, func.max(Outcome.id).label("outcome_id"))
        .group_by(Outcome.decision_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Decision.brain_version, Outcome.verdict, Approval.status)
            .outerjoin(latest_outcome, latest_outcome.c.decision_id == Decision.id)
            .outerjoin(Outcome, Outcome.id == latest_outcome.c.outcome_id)
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
    records = [
        DecisionRecord(
            brain_version=version,
            verdict=verdict.value if verdict else None,
            gated=status is not None,
            approved=None
            if status is None or status == ApprovalStatus.PENDING
            else status == ApprovalStatus.APPROVED,
            cost_usd=Decimal(0),
        )
        for version, verdict, status in rows
    ]
    scores = score_by_version(records)
    return [
        VersionScore(**{**s.__dict__, "cost_usd": Decimal(str(costs.get(s.brain_version, 0)))}) for s in scores
    ]
