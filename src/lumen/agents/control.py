"""Waking, pausing and resuming agents by hand: shared by Slack and the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, RunTrigger, Venture
from lumen.engine import runs
from lumen.errors import LumenError, NotFound
from lumen.ventures import repository


@dataclass(frozen=True)
class Woken:
    run_id: int
    venture: str
    role: str


async def find_venture(session: AsyncSession, ref: str) -> Venture:
    ventures = await repository.active_ventures(session)
    venture = repository.match_venture(ventures, ref)
    if venture is None:
        hint = repository.suggest_ventures(ventures, ref)
        raise NotFound(
            f"No venture called “{ref}”."
            + (f" Did you mean {' or '.join(hint)}?" if hint else "")
        )
    return venture


def _active_agents(venture: Venture) -> list[Agent]:
    return [a for a in venture.agents if a.archived_at is None]


def find_agent(venture: Venture, role: str) -> Agent:
    for agent in _active_agents(venture):
        if agent.role == role.lower():
            return agent
    roles = ", ".join(a.role for a in _active_agents(venture)) or "none"
    raise NotFound(f"{venture.name} has no {role} agent. Its agents: {roles}.")


async def wake(session: AsyncSession, venture_ref: str, role: str, *, requested_by: str) -> Woken:
    """Queue a manual wake-up now. Paused agents are woken too: a human asked explicitly."""
    venture = await find_venture(session, venture_ref)
    agent = find_agent(venture, role)
    key = f"manual:{venture.slug}/{agent.role}:{uuid.uuid4().hex}"
    run_id = await runs.enqueue(
        session,
        key=key,
        trigger=RunTrigger.MANUAL,
        agent_id=agent.id,
        venture_id=venture.id,
        scheduled_for=utcnow(),
        context={"requested_by": requested_by},
    )
    assert run_id is not None  # the key is unique by construction
    return Woken(run_id=run_id, venture=venture.slug, role=agent.role)


async def set_paused(
    session: AsyncSession, venture_ref: str, role: str | None, *, paused: bool, by: str
) -> tuple[Venture, list[str]]:
    """Pause or resume one agent or all of a venture's; returns the roles that changed."""
    venture = await find_venture(session, venture_ref)
    agents = [find_agent(venture, role)] if role else _active_agents(venture)
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


async def agent_by_id(session: AsyncSession, agent_id: int) -> Agent | None:
    return await session.scalar(select(Agent).where(Agent.id == agent_id))
