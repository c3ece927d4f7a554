"""`lumen dev`'s demo history: a few weeks of past decisions and outcomes for the demo ventures,
synthesised week by week into real brains and platform insights by the offline model.

The history is written once, into an empty database, and marked as demo data on
its runs. The brains, summaries and insights are not canned: they come from the
same synthesis runs that production uses. On first start every agent is also
woken once, so a newcomer sees fresh decisions (and an approval) at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from lumen.agents import service as agents
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    Decision,
    DecisionStatus,
    Outcome,
    Run,
    RunKind,
    RunStatus,
    RunTrigger,
    Venture,
    Verdict,
)
from lumen.engine import runs
from lumen.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class PastMove:
    week: int  # weeks before now
    role: str
    category: str
    title: str
    verdict: str | None  # None: rejected by a human
    metric: str | None = None
    before: float | None = None
    after: float | None = None
    amount: str | None = None
    note: str | None = None


HISTORY: dict[str, tuple[PastMove, ...]] = {
    "acme": (
        PastMove(6, "ceo", "pricing_change", "Raise the Pro plan from $49 to $59", "success", "MRR", 38000, 41500),
        PastMove(6, "cmo", "marketing", "Sponsor the DataOps newsletter for a month", "failure", "signups", 120, 126, "1200"),
        PastMove(5, "cmo", "marketing", "Run a webinar series on churn analytics", "success", "trials", 40, 95),
        PastMove(4, "ceo", "customer_commitment", "Commit to SOC 2 Type I by March", "success", "enterprise pipeline", 2, 6),
        PastMove(4, "cmo", "marketing", "Cold outbound to 500 SaaS CFOs", "failure", "meetings", 0, 2),
        PastMove(3, "ceo", "pricing_change", "Add usage-based overage billing", "mixed", "MRR", 41500, 42300),
        PastMove(2, "ceo", "new_dependency", "Adopt Segment for event collection", "success"),
        PastMove(1, "ceo", "resource_allocation", "Hire a part-time data engineer", "mixed", amount="3000"),
    ),
    "brightbox": (
        PastMove(5, "ceo", "marketing", "Offer a free handoff audit to agencies", "success", "qualified leads", 3, 14),
        PastMove(4, "ceo", "pricing_change", "Launch a $19 starter tier", "success", "paying customers", 1, 4),
        PastMove(3, "ceo", "marketing", "Post in design subreddits", "failure", "signups", 10, 11),
        PastMove(2, "ceo", "customer_commitment", "Promise custom integrations to the first customer", None,
                 note="We can't support one-off integrations at this stage."),
        PastMove(1, "ceo", "new_dependency", "Partner with a Figma plugin author", "mixed"),
    ),
}


RunNow = Callable[[int], Awaitable[object]]


async def is_empty(c: Container) -> bool:
    async with c.db.sessions() as session:
        return not await session.scalar(select(func.count()).select_from(Decision))


async def seed_history(c: Container, run_now: RunNow, *, now: datetime | None = None) -> int:
    """Write the demo history and synthesise it with `run_now`; returns how many decisions were written."""
    now = now or utcnow()
    written = 0
    async with c.db.transaction() as session:
        ventures = {v.slug: v for v in (await session.scalars(select(Venture))).all()}
        agents = {(a.venture_id, a.role): a for a in (await session.scalars(select(Agent))).all()}
        for slug, moves in HISTORY.items():
            venture = ventures.get(slug)
            if venture is None:
                continue
            weeks = sorted({m.week for m in moves}, reverse=True)
            for index, move in enumerate(moves):
                agent = agents.get((venture.id, move.role))
                if agent is None:
                    continue
                # Each earlier week with moves was synthesised into one brain version.
                brain_version = sum(1 for w in weeks if w > move.week) or None
                await _write_move(session, venture, agent, move, now, index, brain_version)
                written += 1
    if not written:
        return 0
    # Synthesise week by week, as the scheduler would have: brains v1, v2, … with real diffs.
    weeks = sorted({m.week for moves in HISTORY.values() for m in moves}, reverse=True)
    for week in weeks:
        week_end = now - timedelta(weeks=week) + timedelta(days=6)
        latest = week == weeks[-1]
        for slug in HISTORY:
            venture = ventures.get(slug)
            if venture is not None:
                await _synthesise(c, run_now, RunKind.SYNTHESIS, venture.id, week_end, side_effects=latest)
        await _synthesise(c, run_now, RunKind.PLATFORM_SYNTHESIS, None, week_end, side_effects=latest)
    log.info("lumen.demo.seeded", decisions=written, weeks=len(weeks))
    return written


async def _write_move(  # type: ignore[no-untyped-def]
    session, venture: Venture, agent: Agent, move: PastMove, now: datetime, index: int, brain_version: int | None
) -> None:
    at = now - timedelta(weeks=move.week, hours=-index)
    run = Run(
        kind=RunKind.WAKE,
        venture_id=venture.id,
        agent_id=agent.id,
        # Not SCHEDULE: the scheduler would read these as missed firings and catch up on them.
        trigger=RunTrigger.MANUAL,
        idempotency_key=f"demo:{venture.slug}:{uuid.uuid4().hex}",
        status=RunStatus.SUCCEEDED,
        brain_version=brain_version,
        scheduled_for=at,
        context={"demo": True},
        started_at=at,
        finished_at=at,
        created_at=at,
    )
    session.add(run)
    await session.flush()
    rejected = move.verdict is None
    decision = Decision(
        run_id=run.id,
        ordinal=0,
        venture_id=venture.id,
        agent_id=agent.id,
        category=move.category,
        title=move.title,
        rationale="Demo history: a move made before you started Lumen.",
        expected_effect="",
        amount_usd=Decimal(move.amount) if move.amount else None,
        status=DecisionStatus.REJECTED if rejected else DecisionStatus.EXECUTED,
        brain_version=brain_version,
        created_at=at,
        resolved_at=at + timedelta(hours=2),
        executed_at=None if rejected else at + timedelta(hours=2),
    )
    session.add(decision)
    await session.flush()
    if rejected:
        session.add(
            Approval(
                decision_id=decision.id,
                run_id=run.id,
                venture_id=venture.id,
                status=ApprovalStatus.REJECTED,
                approvers={"users": ["U0ALICE"]},
                expires_at=at + timedelta(hours=72),
                resolved_by="U0ALICE",
                resolved_at=at + timedelta(hours=2),
                reason=move.note,
                created_at=at,
            )
        )
        return
    session.add(
        Outcome(
            decision_id=decision.id,
            verdict=Verdict(move.verdict),
            metric=move.metric,
            metric_before=move.before,
            metric_after=move.after,
            note=move.note,
            reported_by="demo",
            source="demo",
            created_at=at + timedelta(days=3),
        )
    )


async def _synthesise(
    c: Container, run_now: RunNow, kind: RunKind, venture_id: int | None, at: datetime, *, side_effects: bool
) -> None:
    async with c.db.transaction() as session:
        run_id = await runs.enqueue(
            session,
            key=f"demo:{kind.value}:{venture_id}:{at.isoformat()}",
            trigger=RunTrigger.SCHEDULE,
            kind=kind,
            venture_id=venture_id,
            scheduled_for=at,
            side_effects=side_effects,
            context={"demo": True},
        )
    if run_id is not None:
        await run_now(run_id)


async def wake_everyone(c: Container) -> list[int]:
    """One wake-up per agent now, so the channels come alive on first start."""
    async with c.db.transaction() as session:
        run_ids = await agents.wake_everyone(session, requested_by="lumen dev")
    c.signals.runs.notify()
    return run_ids
