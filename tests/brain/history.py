"""A generated venture history: weeks of wake-ups, decisions, approvals and outcomes.

Written through the ORM at known timestamps, with verdicts and categories that follow
from each decision's ordinal alone, so a test can compute what every synthesis and
score must say. `benchmarks/synthesis_scaling.py` imports it too.

The n-th decision (0-based, counted across weeks) has
    category = CATEGORIES[n % 5]
    kind     = KINDS[(n // 5) % 10]    (success, failure, mixed, pending, rejected)
so with 50 a week every category sees every kind. Rejected decisions and those in
GATED categories went through an approval (approved unless rejected); pending ones were
executed but have no outcome yet. Decisions of week w (1-based) fall in the first three
days of `start + (w-1) weeks`, are resolved an hour later, and get their outcome two days
after that: still inside the week, before `week_end(start, w)`, when that week's
synthesis runs. By default a decision of week w was made under brain version w-1 (none in
week 1), as if the weekly synthesis had run at the end of every earlier week.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    Spend,
    Venture,
    Verdict,
)
from lumen.db.session import Database
from lumen.engine import runs
from lumen.runtime import run_now
from lumen.llm import Gateway
from lumen.container import Container

CATEGORIES = ("pricing_change", "marketing", "research", "resource_allocation", "new_dependency")
KINDS = ("success", "failure", "success", "mixed", "pending", "success", "rejected", "success", "failure", "success")
GATED = frozenset({"pricing_change", "resource_allocation"})
MOVES = {
    "pricing_change": "Test a {p}% price change on the {plan} plan for new signups",
    "marketing": "Run a {p}-day {plan} campaign aimed at churned trial users",
    "research": "Interview {p} {plan} customers about onboarding friction",
    "resource_allocation": "Spend ${p}00 on contractor hours for the {plan} backlog",
    "new_dependency": "Adopt a hosted {plan} service to replace the cron scripts",
}
PLANS = ("Starter", "Pro", "Team", "Enterprise", "annual")
RUN_COST = Decimal("0.0125")
DECISION_SPREAD = timedelta(days=3)
RESOLVE_AFTER = timedelta(hours=1)
OUTCOME_AFTER = timedelta(days=2)


def kind_of(n: int) -> str:
    return KINDS[(n // len(CATEGORIES)) % len(KINDS)]


def category_of(n: int) -> str:
    return CATEGORIES[n % len(CATEGORIES)]


def title_of(n: int) -> str:
    category = category_of(n)
    return MOVES[category].format(p=5 + n % 23, plan=PLANS[(n // 7) % len(PLANS)]) + f" (move {n + 1})"


def week_start(start: datetime, week: int) -> datetime:
    return start + timedelta(weeks=week - 1)


def week_end(start: datetime, week: int) -> datetime:
    """When week `week`'s synthesis runs: an hour before the next week begins."""
    return start + timedelta(weeks=week) - timedelta(hours=1)


def previous_version(week: int) -> int | None:
    return week - 1 or None


@dataclass(frozen=True)
class Generated:
    id: int
    run_id: int
    n: int
    week: int
    category: str
    title: str
    kind: str  # success | failure | mixed | pending | rejected
    gated: bool
    brain_version: int | None
    created_at: datetime
    outcome_at: datetime | None
    cost_usd: Decimal

    @property
    def verdict(self) -> str | None:
        return self.kind if self.kind in ("success", "failure", "mixed") else None

    @property
    def status(self) -> str:
        return "rejected" if self.kind == "rejected" else "executed"

    @property
    def approved(self) -> bool | None:
        return (self.kind != "rejected") if self.gated else None


@dataclass
class History:
    venture_id: int
    start: datetime
    decisions: list[Generated] = field(default_factory=list)

    def week(self, week: int) -> list[Generated]:
        return [d for d in self.decisions if d.week == week]

    def ids(self, week: int | None = None) -> set[int]:
        return {d.id for d in (self.decisions if week is None else self.week(week))}

    def under(self, version: int | None) -> list[Generated]:
        return [d for d in self.decisions if d.brain_version == version]


async def generate_history(
    session: AsyncSession,
    venture: Venture,
    weeks: int,
    per_week: int,
    start: datetime,
    *,
    first_week: int = 1,
    agent: Agent | None = None,
    brain_version: Callable[[int], int | None] = previous_version,
    run_cost: Decimal = RUN_COST,
    kinds: Callable[[int], str] = kind_of,
) -> History:
    """Write weeks first_week..first_week+weeks-1 of `venture`'s history; flushes, does not commit."""
    if agent is None:
        agent = await session.scalar(
            select(Agent).where(Agent.venture_id == venture.id).order_by(Agent.id).limit(1)
        )
        assert agent is not None, f"{venture.slug} has no agent"
    history = History(venture_id=venture.id, start=start)
    for week in range(first_week, first_week + weeks):
        version = brain_version(week)
        planned = []
        for i in range(per_week):
            n = (week - 1) * per_week + i
            at = week_start(start, week) + DECISION_SPREAD * i / per_week
            planned.append((n, at, kinds(n)))
        wake_ups = [
            Run(
                kind=RunKind.WAKE,
                venture_id=venture.id,
                agent_id=agent.id,
                trigger=RunTrigger.SCHEDULE,
                idempotency_key=f"history:{venture.slug}:{n}:{uuid.uuid4().hex[:8]}",
                status=RunStatus.SUCCEEDED,
                scheduled_for=at,
                brain_version=version,
                cost_usd=run_cost,
                started_at=at,
                finished_at=at + timedelta(minutes=1),
                created_at=at,
            )
            for n, at, _ in planned
        ]
        session.add_all(wake_ups)
        await session.flush()
        decisions = []
        for (n, at, kind), run in zip(planned, wake_ups, strict=True):
            category = category_of(n)
            rejected = kind == "rejected"
            decisions.append(
                Decision(
                    run_id=run.id,
                    ordinal=0,
                    venture_id=venture.id,
                    agent_id=agent.id,
                    category=category,
                    title=title_of(n),
                    rationale="Generated history.",
                    expected_effect="",
                    status=DecisionStatus.REJECTED if rejected else DecisionStatus.EXECUTED,
                    brain_version=version,
                    created_at=at,
                    resolved_at=at + RESOLVE_AFTER,
                    executed_at=None if rejected else at + RESOLVE_AFTER,
                )
            )
        session.add_all(decisions)
        await session.flush()
        rows: list[object] = []
        for (n, at, kind), run, decision in zip(planned, wake_ups, decisions, strict=True):
            gated = decision.category in GATED or kind == "rejected"
            verdict = kind if kind in ("success", "failure", "mixed") else None
            outcome_at = at + RESOLVE_AFTER + OUTCOME_AFTER if verdict else None
            rows.append(
                Spend(
                    run_id=run.id,
                    agent_id=agent.id,
                    venture_id=venture.id,
                    model="lumen-offline/playbook",
                    purpose="decide",
                    prompt_tokens=1000,
                    completion_tokens=100,
                    cost_usd=run_cost,
                    created_at=at,
                )
            )
            if gated:
                rows.append(
                    Approval(
                        decision_id=decision.id,
                        run_id=run.id,
                        venture_id=venture.id,
                        status=ApprovalStatus.REJECTED if kind == "rejected" else ApprovalStatus.APPROVED,
                        approvers={"users": ["U0ALICE"]},
                        expires_at=at + timedelta(hours=72),
                        resolved_by="U0ALICE",
                        resolved_at=at + RESOLVE_AFTER,
                        reason="Not while the annual plan launch is running." if kind == "rejected" else None,
                        created_at=at,
                    )
                )
            if verdict:
                before = 1000.0 + n
                rows.append(
                    Outcome(
                        decision_id=decision.id,
                        verdict=Verdict(verdict),
                        metric="MRR",
                        metric_before=before,
                        metric_after=before * {"success": 1.1, "failure": 0.95, "mixed": 1.0}[verdict],
                        reported_by="history",
                        source="api",
                        created_at=outcome_at,
                    )
                )
            history.decisions.append(
                Generated(
                    id=decision.id,
                    run_id=run.id,
                    n=n,
                    week=week,
                    category=decision.category,
                    title=decision.title,
                    kind=kind,
                    gated=gated,
                    brain_version=version,
                    created_at=at,
                    outcome_at=outcome_at,
                    cost_usd=run_cost,
                )
            )
        session.add_all(rows)
        await session.flush()
    return history


async def write_history(db: Database, slug: str, weeks: int, per_week: int, start: datetime, **kw: object) -> History:
    """generate_history in a transaction of its own, for the venture with this slug."""
    async with db.transaction() as session:
        venture = await session.scalar(select(Venture).where(Venture.slug == slug))
        assert venture is not None, slug
        return await generate_history(session, venture, weeks, per_week, start, **kw)  # type: ignore[arg-type]


async def synthesise(
    container: Container,
    gateway: Gateway,
    venture_id: int,
    at: datetime,
    *,
    side_effects: bool = False,
    kind: RunKind = RunKind.SYNTHESIS,
) -> int:
    """Queue the synthesis `at` (its nominal time) and run it here, as the weekly job would."""
    from lumen.brain.service import platform_key
    from lumen.brain.service import synthesis_key

    async with container.db.transaction() as session:
        if kind == RunKind.SYNTHESIS:
            venture = await session.get(Venture, venture_id)
            assert venture is not None
            key = synthesis_key(venture.slug, at)
        else:
            key = platform_key(at)
        run_id = await runs.enqueue(
            session,
            key=key,
            trigger=RunTrigger.SCHEDULE,
            kind=kind,
            venture_id=venture_id if kind == RunKind.SYNTHESIS else None,
            scheduled_for=at,
            side_effects=side_effects,
        )
    assert run_id is not None, f"a run with key {key} already exists"
    status = await run_now(container, run_id, gateway)
    assert status == RunStatus.SUCCEEDED, (run_id, status)
    return run_id


async def synthesis_spend(db: Database, run_id: int) -> Spend | None:
    async with db.sessions() as session:
        return await session.scalar(select(Spend).where(Spend.run_id == run_id))
