"""A venture simulator: months of weekly work through the real engine, in seconds.

Ventures make moves whose outcomes are drawn from hidden odds: each move has a base chance
of working, each venture a small twist on it, and at a drift week the market moves and the
odds of some moves change for everyone. The agents do not see the odds. They decide through the real engine (a claimed
run, the journal, the offline model deciding from the context it is given, gates with a
simulated approver), outcomes are recorded through the same service as Slack's button, and
the weekly syntheses build the brains and the platform insights. Lumen's clock
(`lumen.clock.at`) stamps every row when it would have happened.

The same world can be run with agents that remember less (`Memory`): no brain at all, or
no platform insights. Outcomes use common random numbers (a hash of the venture, the day
and the move), so two arms that make the same move on the same day get the same outcome,
and a difference between arms is the agents', not luck's.

Used by `benchmarks/flywheel.py`, the flywheel test, and `lumen dev`'s demo history.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from lumen import clock
from lumen.agents.context import FULL, Memory
from lumen.approvals import service as approvals
from lumen.brain import service as brain
from lumen.container import Container
from lumen.db.models import Agent, Approval, ApprovalStatus, Decision, DecisionStatus, Run, RunKind, RunStatus, RunTrigger, Venture
from lumen.domain.attribution import pool_thin
from lumen.domain.config import AgentConfig, GatePolicyConfig, LumenConfig, PlaybookAction, VentureConfig
from lumen.engine import runs
from lumen.engine.worker import Worker
from lumen.log import get_logger
from lumen.runtime import make_worker

log = get_logger(__name__)

APPROVER = "U0SIMAPPROVER"
MOVES: tuple[tuple[str, str], ...] = (
    ("Run a two-week LinkedIn ad test", "marketing"),
    ("Publish a customer case study", "marketing"),
    ("Host a live product webinar", "marketing"),
    ("Offer annual plans with two months free", "pricing_change"),
    ("Add a usage-based overage tier", "pricing_change"),
    ("Interview five churned customers", "research"),
    ("Ship a guided onboarding checklist", "product"),
    ("Co-market a launch with a partner tool", "partnerships"),
)
REJECTIONS = (
    "Not while the annual renewal campaign is running.",
    "Pricing moves wait for the board review this month.",
    "We promised customers no price changes this quarter.",
)


@dataclass(frozen=True)
class SimVenture:
    slug: str
    name: str
    joins: int = 0  # the week it starts deciding
    private: bool = False
    roles: tuple[str, ...] = ("ceo",)  # the agents woken on each working day
    moves: tuple[tuple[str, str], ...] = ()  # its playbook's (title, category); empty: the world's


@dataclass(frozen=True)
class World:
    """The hidden odds: what the agents must learn."""

    seed: int
    ventures: tuple[SimVenture, ...]
    weeks: int
    drift_week: int
    moves: tuple[tuple[str, str], ...] = MOVES
    days: tuple[int, ...] = (0, 2, 4)  # Monday, Wednesday, Friday
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
    approve_share: float = 0.85
    approver: str = APPROVER

    def odds(self, venture: str, move: str, week: int) -> float:
        """The chance the move works for the venture in that week."""
        base = random.Random(f"{self.seed}|base|{move}").uniform(0.15, 0.8)
        twist = random.Random(f"{self.seed}|twist|{venture}|{move}").gauss(0, 0.08)
        chance = base + twist
        if week >= self.drift_week:
            # The market moves, for everyone: some moves fade, others start working.
            chance += random.Random(f"{self.seed}|drift|{move}").choice((-0.4, 0.0, 0.0, 0.35))
        return min(0.92, max(0.05, chance))

    def outcome(self, venture: str, move: str, when: datetime, week: int) -> str:
        """A common random number per (venture, day, move): the same draw in every arm."""
        digest = hashlib.sha256(f"{self.seed}|{venture}|{when.date()}|{move}".encode()).hexdigest()
        u = int(digest[:12], 16) / 16**12
        p = self.odds(venture, move, week)
        if u < p:
            return "success"
        return "mixed" if u < p + 0.08 * (1 - p) else "failure"

    def approves(self, venture: str, move: str, when: datetime) -> bool:
        digest = hashlib.sha256(f"{self.seed}|approve|{venture}|{when.date()}|{move}".encode()).hexdigest()
        return int(digest[:8], 16) / 16**8 < self.approve_share

    def moves_of(self, venture: str) -> tuple[tuple[str, str], ...]:
        own = next((v.moves for v in self.ventures if v.slug == venture), ())
        return own or self.moves

    def best_odds(self, venture: str, week: int) -> float:
        return max(self.odds(venture, title, week) for title, _ in self.moves_of(venture))

    def mean_odds(self, venture: str, week: int) -> float:
        moves = self.moves_of(venture)
        return sum(self.odds(venture, title, week) for title, _ in moves) / len(moves)

    def week_of(self, moment: datetime) -> int:
        return (moment - self.start).days // 7

    def playbook(self, venture: str) -> tuple[PlaybookAction, ...]:
        """The moves, in the order this venture's team wrote them down (its own, seeded)."""
        moves = list(self.moves)
        random.Random(f"{self.seed}|order|{venture}").shuffle(moves)
        return tuple(
            PlaybookAction(
                title=title,
                category=category,
                rationale=f"A {category.replace('_', ' ')} move the team can repeat.",
                repeatable=True,
            )
            for title, category in moves
        )

    def config(self) -> LumenConfig:
        return LumenConfig(
            gates=GatePolicyConfig(approvers=[APPROVER], expiry_hours=72),  # type: ignore[arg-type]
            ventures=tuple(
                VentureConfig(
                    slug=v.slug,
                    name=v.name,
                    channel=f"venture-{v.slug}",
                    private=v.private,
                    playbook=self.playbook(v.slug),
                    agents=(AgentConfig(role="ceo", schedule="0 9 * * 1,3,5", budget_usd_month=Decimal("50")),),
                )
                for v in self.ventures
            ),
        )


def world_around(config: LumenConfig, *, seed: int, weeks: int, start: datetime, days: tuple[int, ...]) -> World:
    """A world for ventures already configured (`lumen dev`'s demo): their own playbooks and
    agents, hidden odds drawn for their moves, the first configured approver deciding gates."""
    approvers = config.gates.approvers.users if config.gates.approvers else ()
    return World(
        seed=seed,
        weeks=weeks,
        drift_week=weeks // 2,
        start=start,
        days=days,
        approver=approvers[0] if approvers else APPROVER,
        ventures=tuple(
            SimVenture(
                slug=v.slug,
                name=v.name,
                private=v.private,
                roles=tuple(a.role for a in v.agents),
                moves=tuple((p.title, p.category) for p in v.playbook),
            )
            for v in config.ventures
            if v.agents and v.playbook
        ),
    )


def standard_world(seed: int = 7, weeks: int = 52) -> World:
    """Four ventures from the start, one private; four more that join for the last quarter."""
    return World(
        seed=seed,
        weeks=weeks,
        drift_week=weeks // 2,
        ventures=(
            SimVenture("alder", "Alder Analytics"),
            SimVenture("birch", "Birch Books"),
            SimVenture("cedar", "Cedar Care", private=True),
            SimVenture("dogwood", "Dogwood Dental"),
            SimVenture("elm", "Elm Events", joins=max(0, weeks - 13)),
            SimVenture("fir", "Fir Fitness", joins=max(0, weeks - 13)),
            SimVenture("gum", "Gum Tree Games", joins=max(0, weeks - 13)),
            SimVenture("hazel", "Hazel Health", joins=max(0, weeks - 13)),
        ),
    )


@dataclass
class Made:
    decision_id: int
    venture: str
    title: str
    week: int
    when: datetime
    brain_version: int | None
    insight_version: int | None
    outcome: str | None = None  # None: rejected by the approver, no outcome


@dataclass
class ArmResult:
    name: str
    decisions: list[Made] = field(default_factory=list)
    runs: int = 0
    failed_runs: int = 0

    def rate(self, made: Sequence[Made]) -> float | None:
        judged = [m for m in made if m.outcome in ("success", "failure", "mixed")]
        if not judged:
            return None
        return round(sum(1.0 if m.outcome == "success" else 0.5 if m.outcome == "mixed" else 0.0 for m in judged) / len(judged), 3)

    def by_quarter(self, weeks: int) -> list[float | None]:
        return [self.rate([m for m in self.decisions if q * 13 <= m.week < (q + 1) * 13]) for q in range((weeks + 12) // 13)]

    def last_quarter(self, weeks: int) -> float | None:
        return self.rate([m for m in self.decisions if m.week >= weeks - 13])

    def by_brain_version(self, ventures: Sequence[str], every: int = 4) -> list[dict[str, Any]]:
        """The curve: the rate of decisions made under brain versions 1–4, 5–8, … pooled across ventures.

        One venture's weekly version holds a handful of decisions, too few to judge alone;
        pooling the same version number across ventures gives each point a sample worth reading.
        """
        made = [m for m in self.decisions if m.venture in ventures]
        top = max((m.brain_version or 0 for m in made), default=0)
        points: list[dict[str, Any]] = []
        before = [m for m in made if m.brain_version is None]
        if before:
            points.append({"brain_versions": "none", "decisions": len(before), "rate": self.rate(before)})
        for first in range(1, top + 1, every):
            last = min(top, first + every - 1)
            group = [m for m in made if m.brain_version is not None and first <= m.brain_version <= last]
            points.append({"brain_versions": f"{first}-{last}", "decisions": len(group), "rate": self.rate(group)})
        return points


class Simulation:
    """One arm: a world, a database, agents with a given memory.

    `label` prefixes the idempotency keys of the runs it queues (and marks their context),
    so a simulated history can be told from live work.
    """

    def __init__(
        self, container: Container, world: World, memory: Memory = FULL, name: str = "full", *, label: str = "sim"
    ) -> None:
        self.c = container
        self.world = world
        self.memory = memory
        self.label = label
        self.worker: Worker = make_worker(container, memory=memory, concurrency=1)
        self.result = ArmResult(name)
        self._pending_outcomes: list[Made] = []

    async def run(self) -> ArmResult:
        for week in range(self.world.weeks):
            await self.week(week)
        return self.result

    async def week(self, week: int) -> None:
        await self.act(week)
        await self.synthesise(week)

    def active(self, week: int) -> list[SimVenture]:
        return [v for v in self.world.ventures if v.joins <= week]

    async def act(self, week: int, *, decide_gates: bool = True) -> None:
        """The week's wake-ups, gates and outcomes. With `decide_gates` off, gates stay open for
        a person to decide (the demo's last week)."""
        monday = self.world.start + timedelta(weeks=week)
        for day in self.world.days:
            moment = monday + timedelta(days=day, hours=9)
            for venture in self.active(week):
                for role in venture.roles:
                    await self._wake(venture, role, moment, week, decide_gates)
        # Outcomes come in before the weekend; the brains are rebuilt Monday morning.
        with clock.at(monday + timedelta(days=6, hours=18)):
            async with self.c.db.transaction() as session:
                for made in self._pending_outcomes:
                    report = brain.OutcomeReport(decision_id=made.decision_id, verdict=made.outcome or "unknown", reported_by=self.label)
                    await brain.record_outcome(session, report, source=self.label)
        self._pending_outcomes = []

    async def synthesise(self, week: int, *, side_effects: bool = False) -> None:
        """Monday morning after the week: each venture's brain, then the platform insights."""
        next_monday = self.world.start + timedelta(weeks=week + 1)
        for venture in self.active(week):
            await self._synthesise(RunKind.SYNTHESIS, venture, next_monday + timedelta(hours=6), side_effects)
        await self._synthesise(RunKind.PLATFORM_SYNTHESIS, None, next_monday + timedelta(hours=7), side_effects)

    async def _wake(self, venture: SimVenture, role: str, moment: datetime, week: int, decide_gates: bool = True) -> None:
        with clock.at(moment):
            async with self.c.db.transaction() as session:
                agent = await session.scalar(
                    select(Agent).join(Venture, Venture.id == Agent.venture_id).where(Venture.slug == venture.slug, Agent.role == role)
                )
                if agent is None:
                    return
                run_id = await runs.enqueue_new(
                    session,
                    key=f"{self.label}:wake:{venture.slug}/{role}:{moment.isoformat()}",
                    trigger=RunTrigger.MANUAL,
                    agent_id=agent.id,
                    venture_id=agent.venture_id,
                    scheduled_for=moment,
                    context={"requested_by": self.label, "simulated": True},
                )
            status = await self.worker.run_one(run_id)
        self.result.runs += 1
        if status == RunStatus.AWAITING_APPROVAL and decide_gates:
            await self._approve(venture, run_id, moment + timedelta(hours=2))
            with clock.at(moment + timedelta(hours=2, minutes=5)):
                status = await self.worker.run_one(run_id)
        if status == RunStatus.FAILED:
            self.result.failed_runs += 1
        async with self.c.db.sessions() as session:
            made = (await session.scalars(select(Decision).where(Decision.run_id == run_id).order_by(Decision.ordinal))).all()
        for decision in made:
            record = Made(
                decision_id=decision.id,
                venture=venture.slug,
                title=decision.title,
                week=week,
                when=moment,
                brain_version=decision.brain_version,
                insight_version=decision.insight_version,
            )
            if decision.status == DecisionStatus.EXECUTED:
                record.outcome = self.world.outcome(venture.slug, decision.title, moment, week)
                self._pending_outcomes.append(record)
            self.result.decisions.append(record)

    async def _approve(self, venture: SimVenture, run_id: int, moment: datetime) -> None:
        """The simulated approver decides every gate of the run: mostly yes, sometimes no, with a reason."""
        with clock.at(moment):
            async with self.c.db.sessions() as session:
                pending = (
                    await session.execute(
                        select(Approval.id, Decision.title)
                        .join(Decision, Decision.id == Approval.decision_id)
                        .where(Approval.run_id == run_id, Approval.status == ApprovalStatus.PENDING)
                    )
                ).all()
            for approval_id, title in pending:
                yes = self.world.approves(venture.slug, title, moment)
                reason = None if yes else REJECTIONS[int(hashlib.sha256(title.encode()).hexdigest(), 16) % len(REJECTIONS)]
                async with self.c.db.transaction() as session:
                    await approvals.resolve(session, approval_id, self.world.approver, approve=yes, reason=reason)

    async def _synthesise(self, kind: RunKind, venture: SimVenture | None, moment: datetime, side_effects: bool) -> None:
        with clock.at(moment):
            async with self.c.db.transaction() as session:
                venture_id = None
                if venture is not None:
                    venture_id = await session.scalar(select(Venture.id).where(Venture.slug == venture.slug))
                run_id = await runs.enqueue(
                    session,
                    key=f"{self.label}:{kind.value}:{venture.slug if venture else 'platform'}:{moment.isoformat()}",
                    trigger=RunTrigger.SCHEDULE,
                    kind=kind,
                    venture_id=venture_id,
                    scheduled_for=moment,
                    side_effects=side_effects,
                    context={"simulated": True},
                )
            if run_id is not None:
                status = await self.worker.run_one(run_id)
                if status != RunStatus.SUCCEEDED:
                    self.result.failed_runs += 1


async def brain_scores(c: Container) -> dict[str, list[dict[str, Any]]]:
    """Success rate per brain version, per venture, as Lumen reports it (thin versions pooled)."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with c.db.sessions() as session:
        ventures = (await session.scalars(select(Venture).order_by(Venture.slug))).all()
        for venture in ventures:
            scores = pool_thin(await brain.scores_for_venture(session, venture.id))
            out[venture.slug] = [
                {
                    "brain_versions": s.label,
                    "decisions": s.decisions,
                    "with_outcome": s.with_outcome,
                    "success_rate": round(s.success_rate, 3) if s.success_rate is not None else None,
                }
                for s in scores
            ]
    return out


async def runs_left(c: Container) -> int:
    async with c.db.sessions() as session:
        return len(
            (
                await session.scalars(
                    select(Run.id).where(Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL]))
                )
            ).all()
        )
