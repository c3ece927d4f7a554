"""What the rest of Lumen asks of ventures: find one by what people call it, report spend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Venture
from lumen.domain.directory import Directory
from lumen.domain.timeranges import month_start
from lumen.errors import NotFound
from lumen.ventures import repository
from lumen.ventures.access import Reader, hidden_from, may_see, require, visible  # noqa: F401  (the feature's face)


async def find_venture(session: AsyncSession, ref: str, hidden: frozenset[str] = frozenset()) -> Venture:
    """A live venture by slug, name, alias or channel; NotFound suggests close names. A venture
    in `hidden` (private, and the asker may not see it) is neither found nor suggested."""
    ventures = [v for v in await repository.active_ventures(session) if v.slug not in hidden]
    venture = repository.match_venture(ventures, ref)
    if venture is None:
        hint = repository.suggest_ventures(ventures, ref)
        raise NotFound(f"No venture called “{ref}”." + (f" Did you mean {' or '.join(hint)}?" if hint else ""))
    return venture


async def active_ventures(session: AsyncSession) -> Sequence[Venture]:
    """Every venture not archived, with its agents loaded."""
    return await repository.active_ventures(session)


def live_agents(venture: Venture) -> list[Agent]:
    return [a for a in venture.agents if a.archived_at is None]


def find_agent(venture: Venture, role: str) -> Agent:
    for agent in live_agents(venture):
        if agent.role == role.lower():
            return agent
    roles = ", ".join(a.role for a in live_agents(venture)) or "none"
    raise NotFound(f"{venture.name} has no {role} agent. Its agents: {roles}.")


@dataclass(frozen=True)
class BudgetLine:
    venture: str
    role: str
    status: str
    spent_usd: Decimal
    budget_usd: Decimal


async def budget_lines(
    session: AsyncSession, venture_ref: str | None, now: datetime, tz: str, hidden: frozenset[str] = frozenset()
) -> list[BudgetLine]:
    """Each live agent's spend this month (in the workspace's time zone) against its budget."""
    ventures: Sequence[Venture] = (
        [await find_venture(session, venture_ref, hidden)]
        if venture_ref
        else [v for v in await repository.active_ventures(session) if v.slug not in hidden]
    )
    spent = await repository.agent_spend_since(session, month_start(now, tz))
    return [
        BudgetLine(v.slug, a.role, a.status.value, spent.get(a.id, Decimal(0)), a.budget_usd_month)
        for v in ventures
        for a in live_agents(v)
    ]


async def learn_channel_ids(session: AsyncSession, ids_by_name: dict[str, str]) -> list[str]:
    """Store each live venture's channel ID (posts and links use it); return the ventures
    whose channel Slack does not know."""
    missing = []
    for venture in await repository.active_ventures(session):
        channel_id = ids_by_name.get(venture.channel)
        if channel_id and venture.channel_id != channel_id:
            venture.channel_id = channel_id
        elif not channel_id:
            missing.append(venture.slug)
    return missing


async def venture_of_decision(
    session: AsyncSession, decision_id: int, directory: Directory | None = None, reader: Reader | None = None
) -> Venture | None:
    """The venture a decision belongs to; None when there is no such decision, or when the
    `reader` may not see its venture (a private decision's id put in another button)."""
    venture = await repository.venture_of_decision(session, decision_id)
    if venture is None or directory is None or reader is None:
        return venture
    return venture if await may_see(directory, venture, reader) else None
