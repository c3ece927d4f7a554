"""Agents: waking, pausing and resuming them, recording their decisions, and the circuit
breaker. Every function takes the caller's session and never commits; Slack posts go to
the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents import repository
from lumen.agents.triggers import (  # noqa: F401  (the feature's face: event and conditional wake-ups)
    NoWebhook,
    chain_after,
    limits_from,
    outcome_recorded,
    scheduled_skip,
    trigger,
    trigger_note,
    webhook,
)
from lumen.approvals import service as approvals
from lumen.brain import service as brain
from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, Decision, DecisionStatus, RunKind, RunTrigger, Venture
from lumen.domain.gates import GateCheck
from lumen.domain.proposals import ProposedDecision
from lumen.domain.triggers import TriggerLimits
from lumen.engine import outbox, runs
from lumen.engine.outbox import Sent
from lumen.engine.scheduler import Schedule
from lumen.errors import Invariant, LumenError
from lumen.log import get_logger
from lumen.render.agents import breaker_tripped_payload, budget_paused_payload
from lumen.render.decisions import DecisionCard, decision_blocks, decision_text
from lumen.ventures.service import find_agent, find_venture, live_agents

log = get_logger(__name__)

BREAKER_THRESHOLD = 3


@dataclass(frozen=True)
class Woken:
    run_id: int
    venture: str
    role: str
    already_queued: bool = False  # coalesced into a wake-up asked for before


class AgentPaused(LumenError):
    """A wake-up of a paused agent, not forced."""


def wake_key(venture_slug: str, role: str, nominal: datetime) -> str:
    """`wake:acme/ceo:2026-11-23T14:00:00+00:00`: one run per agent per nominal fire time."""
    return runs.wake_key(f"{venture_slug}/{role}", nominal)


async def wake(
    session: AsyncSession,
    venture_ref: str,
    role: str,
    *,
    requested_by: str,
    request_id: str | None = None,
    force: bool = False,
    coalesce: bool = False,
) -> Woken:
    """Queue a manual wake-up now. A paused agent is woken only when `force`d (by someone
    allowed to: the caller checks), and the force is recorded on the run.

    `request_id` (a slash command's trigger_id) makes asking again the same request one run;
    `coalesce` makes a wake-up asked while one is already queued for the agent that one.
    """
    venture = await find_venture(session, venture_ref)
    agent = find_agent(venture, role)
    if agent.status != AgentStatus.ACTIVE and not force:
        raise AgentPaused(
            f"The {agent.role} agent of {venture.name} is paused ({agent.status_reason or agent.status.value}). "
            f"Resume it with `/lumen resume {venture.slug} {agent.role}`, or wake it once with `--force`."
        )
    if coalesce and (queued := await repository.queued_manual_run(session, agent.id)) is not None:
        return Woken(run_id=queued, venture=venture.slug, role=agent.role, already_queued=True)
    key = f"manual:{venture.slug}/{agent.role}:{request_id or uuid.uuid4().hex}"[:200]
    run_id = await runs.enqueue(
        session,
        key=key,
        trigger=RunTrigger.MANUAL,
        agent_id=agent.id,
        venture_id=venture.id,
        scheduled_for=utcnow(),
        context={"requested_by": requested_by} | ({"forced_by": requested_by} if force and agent.status != AgentStatus.ACTIVE else {}),
    )
    if run_id is None:  # the same request, handled again
        run_id = await runs.run_id_of(session, key)
    return Woken(run_id=run_id, venture=venture.slug, role=agent.role)


async def wake_everyone(session: AsyncSession, *, requested_by: str) -> list[int]:
    """One wake-up per live agent now (`lumen dev`'s first start)."""
    return [
        (await wake(session, slug, role, requested_by=requested_by, force=True)).run_id
        for slug, role in await repository.live_agent_refs(session)
    ]


async def set_paused(
    session: AsyncSession, venture_ref: str, role: str | None, *, paused: bool, by: str
) -> tuple[Venture, list[str]]:
    """Pause or resume one agent or all of a venture's; returns the roles that changed."""
    venture = await find_venture(session, venture_ref)
    agents = [find_agent(venture, role)] if role else live_agents(venture)
    changed = []
    for agent in agents:
        target = AgentStatus.PAUSED if paused else AgentStatus.ACTIVE
        if agent.status == target:
            continue
        agent.status = target
        agent.status_reason = f"{'paused' if paused else 'resumed'} by {by}"
        if not paused:
            agent.consecutive_failures = 0  # resuming resets the circuit breaker
        changed.append(agent.role)
    if not changed and role is None and not agents:
        raise LumenError(f"{venture.name} has no agents.")
    return venture, changed


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    run_id: int
    ordinal: int
    proposed: ProposedDecision
    brain_version: int | None
    insight_version: int | None
    model: str
    cost_usd: Decimal
    timezone: str = "UTC"  # the workspace's, in which an approval shows its times


async def record_decision(
    session: AsyncSession, venture: Venture, agent: Agent, item: DecisionInput, check: GateCheck
) -> Decision:
    """Store the decision and queue what Slack should see: its post, or its approval message
    when `check` found a rule that sends it to a human.

    Runs inside the journal step that records it, so a replay never gets here twice;
    UNIQUE(run_id, ordinal) stands behind that.
    """
    proposed = item.proposed
    gate = check.rule
    now = utcnow()
    decision = Decision(
        run_id=item.run_id,
        ordinal=item.ordinal,
        venture_id=venture.id,
        agent_id=agent.id,
        category=proposed.category,
        title=proposed.title,
        rationale=proposed.rationale,
        expected_effect=proposed.expected_effect,
        amount_usd=proposed.amount_usd,
        status=DecisionStatus.AWAITING_APPROVAL if gate else DecisionStatus.EXECUTED,
        brain_version=item.brain_version,
        insight_version=item.insight_version,
        follows_insight=proposed.follows_insight,
        executed_at=None if gate else now,
        resolved_at=None if gate else now,
        created_at=now,
    )
    session.add(decision)
    await session.flush()
    if gate is not None:
        await approvals.open_gate(session, decision, venture, gate, now, tz=item.timezone, why=check.why)
    else:
        await _queue_post(session, venture, agent, decision, item.model, item.cost_usd)
    return decision


async def execute_approved(session: AsyncSession, decision_id: int, model: str, cost_usd: Decimal) -> None:
    """An approved decision is carried out and posted, once."""
    found = await repository.decision_with_owners(session, decision_id)
    if found is None:
        raise Invariant(f"decision {decision_id} is missing")
    decision, venture, agent = found
    if decision.status != DecisionStatus.APPROVED:
        return
    decision.status = DecisionStatus.EXECUTED
    decision.executed_at = utcnow()
    await _queue_post(session, venture, agent, decision, model, cost_usd)


async def _queue_post(
    session: AsyncSession, venture: Venture, agent: Agent, decision: Decision, model: str, cost_usd: Decimal
) -> None:
    card = DecisionCard(
        id=decision.id,
        venture=venture.slug,
        agent_role=agent.role,
        category=decision.category,
        title=decision.title,
        rationale=decision.rationale,
        expected_effect=decision.expected_effect,
        amount_usd=decision.amount_usd,
        status=decision.status.value,
        brain_version=decision.brain_version,
        run_id=decision.run_id,
        cost_usd=cost_usd,
        model=model,
        follows_insight=decision.follows_insight,
    )
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address, "text": decision_text(card), "blocks": decision_blocks(card)},
        dedupe_key=f"decision:{decision.id}:post",
        ref={"decision_id": decision.id, "permalink": True},
    )


async def on_post_delivered(session: AsyncSession, sent: Sent) -> None:
    """Outbox hook: remember where a decision's message (or its approval message) landed."""
    if sent.method == "chat.postMessage" and (decision_id := sent.ref.get("decision_id")):
        await repository.record_post(session, int(decision_id), sent.channel, sent.ts, sent.permalink)


# --- the circuit breaker ----------------------------------------------------------------------


async def pause_for_budget(session: AsyncSession, agent_id: int, run_id: int, reason: str) -> None:
    """A spent envelope is not a fault to count: the agent stops until a human resumes it."""
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.status != AgentStatus.ACTIVE:
        return
    venture = await session.get(Venture, agent.venture_id)
    if venture is None:
        raise Invariant(f"agent {agent_id}: venture {agent.venture_id} is missing")
    agent.status = AgentStatus.PAUSED
    agent.status_reason = f"monthly budget reached: {reason}"
    log.warning("lumen.agent.budget_exhausted", agent_id=agent.id, run_id=run_id)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address} | budget_paused_payload(venture.slug, agent.role, reason),
        dedupe_key=f"budget:{agent.id}:run:{run_id}",
    )


async def count_failure(session: AsyncSession, agent_id: int, run_id: int, reason: str) -> None:
    """The circuit breaker: pause the agent after too many failures in a row, and say why."""
    agent = await repository.agent_for_update(session, agent_id)
    if agent is None:
        return
    agent.consecutive_failures += 1
    if agent.consecutive_failures < BREAKER_THRESHOLD or agent.status != AgentStatus.ACTIVE:
        return
    venture = await session.get(Venture, agent.venture_id)
    if venture is None:
        raise Invariant(f"agent {agent_id}: venture {agent.venture_id} is missing")
    agent.status = AgentStatus.TRIPPED
    agent.status_reason = f"{agent.consecutive_failures} runs failed in a row; last: {reason}"
    log.warning("lumen.agent.tripped", agent_id=agent.id, reason=reason)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address}
        | breaker_tripped_payload(venture.slug, agent.role, agent.consecutive_failures, reason),
        dedupe_key=f"breaker:{agent.id}:run:{run_id}",
    )


async def reset_failures(session: AsyncSession, agent_id: int) -> None:
    await repository.reset_failures(session, agent_id)


# --- schedules -------------------------------------------------------------------------------


async def record_outcome(
    session: AsyncSession, report: brain.OutcomeReport, *, source: str, limits: TriggerLimits
) -> brain.Recorded:
    """Record an outcome (brain) and wake the venture's agents that listen for outcomes, in the
    same transaction: every edge that takes outcomes comes through here."""
    recorded = await brain.record_outcome(session, report, source=source)
    await outcome_recorded(session, recorded.outcome_id, limits)
    return recorded


async def wake_schedules(session: AsyncSession, limits: TriggerLimits = TriggerLimits()) -> Sequence[Schedule]:
    """A schedule source: every live agent's wake-up, on its cron in its venture's time zone.

    A firing past the agent's runs-per-hour ceiling, or whose `when:` does not hold, is kept
    as a skipped run saying why."""
    agents = await repository.schedulable_agents(session)
    last_fired = await repository.last_scheduled_fire(session)
    return [
        Schedule(
            job_id=f"wake:{agent.id}",
            cron=agent.schedule,
            timezone=agent.venture.timezone,
            kind=RunKind.WAKE,
            key=lambda nominal, slug=agent.venture.slug, role=agent.role: wake_key(slug, role, nominal),
            agent_id=agent.id,
            venture_id=agent.venture_id,
            admit=lambda session, agent_id=agent.id: is_awake(session, agent_id),
            skip=lambda session, agent_id=agent.id: scheduled_skip(session, agent_id, limits),
            catch_up=True,
            last_fired=last_fired.get(agent.id),
            label=f"{agent.venture.slug}/{agent.role}",
        )
        for agent in agents
    ]


async def is_awake(session: AsyncSession, agent_id: int) -> bool:
    """Does a scheduled firing wake this agent? Not when it is paused, tripped or archived."""
    agent = await session.get(Agent, agent_id)
    return agent is not None and agent.archived_at is None and agent.status == AgentStatus.ACTIVE
