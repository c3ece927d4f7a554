"""`lumen dev`'s demo history: two quarters of the configured ventures' work, made by the
real engine in simulated time.

The history is not canned. `lumen.simulator` gives each playbook move hidden odds (which shift
halfway through, as markets do); the agents decide through the same wake-ups, gates and offline
model as in production, a configured approver decides the gates, outcomes are drawn from the
odds, and the weekly syntheses build the brains and platform insights. So a visitor sees what
Lumen is for: versions with enough outcomes to score, and a success rate that moves as the
brain learns. It is written once, into an empty database; its runs carry `demo:` keys.

Only the last week is in Slack: its decisions, the approvals it left open for a person to
decide, and the brain summaries and insights built from it (with their charts). The weeks
before happened "before you started Lumen", so their Slack messages are dropped, not sent.
On first start every agent is also woken once, so the channels show fresh decisions at once.

Costs show too: `lumen dev` prices the offline model at its simulated table, and the demo
gives one agent a small daily envelope (`SMALL_ENVELOPE`). On first start that agent works
until its envelope stops it, so its channel shows spend, the 80 % warning and the stop
(what was stopped, and why), all marked as simulated prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select

from lumen.agents import service as agents
from lumen.clock import utcnow
from lumen.container import Container
from lumen.db.models import Agent, Approval, ApprovalStatus, Decision, OutboxMessage, OutboxStatus, RunStatus, RunTrigger, Venture
from lumen.engine import runs
from lumen.log import get_logger
from lumen.runtime import make_worker
from lumen.simulator import Simulation, world_around

log = get_logger(__name__)

WEEKS = 26  # two quarters: enough for "last quarter" questions and a rate that moves
SEED = 16  # a world whose story reads well; benchmarks/flywheel.py shows the effect across seeds
OPEN_WEEKS = 2  # the last weeks, whose decisions are in Slack and whose gates wait for a person
DAYS = (0,)  # each agent wakes on Mondays: two quarters in about five seconds


@dataclass(frozen=True)
class SmallEnvelope:
    venture: str
    role: str
    budget_usd_day: Decimal
    # The venture's month, on the simulated prices' scale, so that its chart shows the spend
    # against a budget it can reach (the example's budgets are for real prices).
    venture_budget_usd_month: Decimal
    most_wakes: int = 8


# Acme's cmo may spend 4 cents a day of simulated money: a wake-up reserves about 3 (a full
# context and the whole output cap) and settles at under 1, so its second or third wake-up
# of the day crosses 80 % and the next is stopped. Its weekly history stays under 80 %.
# Acme's month of simulated work comes to some 30 cents: 60 cents is a budget it does not reach.
SMALL_ENVELOPE = SmallEnvelope("acme", "cmo", Decimal("0.04"), Decimal("0.60"))


async def spend_the_small_envelope(c: Container, envelope: SmallEnvelope = SMALL_ENVELOPE) -> int:
    """Wake the small envelope's agent until its daily budget stops it (the ledger posts the
    warning and the stop); returns the wake-ups it took. Nothing to show when the offline
    model is free, or the agent is not configured with that envelope."""
    if not c.settings.offline_simulated_prices:
        return 0
    async with c.db.sessions() as session:
        agent = await session.scalar(
            select(Agent).join(Venture, Venture.id == Agent.venture_id).where(Venture.slug == envelope.venture, Agent.role == envelope.role)
        )
    if agent is None or agent.budget_usd_day is None:
        return 0
    worker = make_worker(c, concurrency=1)
    now = utcnow()
    for wake in range(1, envelope.most_wakes + 1):
        async with c.db.transaction() as session:
            run_id = await runs.enqueue_new(
                session,
                key=f"demo:budget:{envelope.venture}/{envelope.role}:{now.isoformat()}:{wake}",
                trigger=RunTrigger.MANUAL,
                agent_id=agent.id,
                venture_id=agent.venture_id,
                scheduled_for=utcnow(),
                context={"requested_by": "lumen dev (the demo's small envelope)"},
            )
        if await worker.run_one(run_id) == RunStatus.FAILED:
            log.info("lumen.demo.envelope_spent", agent=f"{envelope.venture}/{envelope.role}", wakes=wake)
            return wake
    return envelope.most_wakes


async def is_empty(c: Container) -> bool:
    async with c.db.sessions() as session:
        return not await session.scalar(select(func.count()).select_from(Decision))


def _first_monday(now: datetime, weeks: int) -> datetime:
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday - timedelta(weeks=weeks)


async def seed_history(
    c: Container, *, now: datetime | None = None, weeks: int = WEEKS, seed: int = SEED, days: tuple[int, ...] = DAYS
) -> int:
    """Simulate `weeks` of the configured ventures up to this week; returns the decisions made."""
    now = now or utcnow()
    world = world_around(c.config, seed=seed, weeks=weeks, start=_first_monday(now, weeks), days=days)
    if not world.ventures:
        return 0
    simulation = Simulation(c, world, name="demo", label="demo")
    for week in range(weeks):
        last = week == weeks - 1
        recent = week >= weeks - OPEN_WEEKS
        if week == weeks - OPEN_WEEKS:
            await _drop_history_posts(c)
        # The last weeks' gates stay open: a visitor finds approvals waiting, posted as they would be.
        await simulation.act(week, decide_gates=not recent)
        await simulation.synthesise(week, side_effects=last)
    await _renew_open_gates(c, now)
    result = simulation.result
    log.info("lumen.demo.seeded", decisions=len(result.decisions), weeks=weeks, failed_runs=result.failed_runs)
    return len(result.decisions)


async def _renew_open_gates(c: Container, now: datetime) -> None:
    """The gates the history left open were waiting for the visitor: their expiry and reminders
    count from now, or the first sweep would expire them before anyone looks."""
    async with c.db.transaction() as session:
        for approval in (await session.scalars(select(Approval).where(Approval.status == ApprovalStatus.PENDING))).all():
            approval.expires_at = now + timedelta(hours=float(approval.approvers.get("expiry_hours", 72)))
            approval.next_reminder_at = now + timedelta(hours=float(approval.approvers.get("reminder_hours", 24)))


async def _drop_history_posts(c: Container) -> None:
    """The simulated weeks' decision posts and approval messages were never in Slack: drop them."""
    async with c.db.transaction() as session:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))


async def wake_everyone(c: Container) -> list[int]:
    """One wake-up per agent now, so the channels come alive on first start."""
    async with c.db.transaction() as session:
        run_ids = await agents.wake_everyone(session, requested_by="lumen dev")
    c.signals.runs.notify()
    return run_ids
