"""Who may see a venture, and who may act on its agents, asked of the Slack directory.

Privacy is by audience: a private venture is shown in its own channel, in a DM (or App
Home) to one of its channel's members, or in a channel whose every member is one. To anyone
else it does not exist: not listed, not suggested, and "No venture called …" when named, the
same words as for a name nobody uses. Permissions (`domain/permissions.py`) say who may pause,
resume, wake, force and record outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.domain.config import LumenConfig
from lumen.domain.directory import Directory, channel_approvers
from lumen.domain.gates import effective_rules
from lumen.domain.permissions import Action, refusal, who_may
from lumen.errors import NotAllowed
from lumen.ventures import repository


class Audience(Protocol):
    """What privacy needs of a venture (an ORM row or a report line)."""

    slug: str
    private: bool
    channel_id: str | None


@dataclass(frozen=True)
class Reader:
    """Who will read an answer: the person, and where it is shown (None: only to them)."""

    user_id: str | None
    channel_id: str | None = None


async def may_see(directory: Directory, venture: Audience, reader: Reader) -> bool:
    """May everyone who reads this answer see the venture?"""
    if not venture.private:
        return True
    if reader.channel_id and reader.channel_id == venture.channel_id:
        return True
    if not venture.channel_id or not reader.user_id:
        return False
    owners = await directory.members(channel_approvers(venture.channel_id))
    if reader.user_id not in owners:
        return False
    if reader.channel_id is None or reader.channel_id.startswith("D"):  # a DM, App Home: the reader alone
        return True
    readers = await directory.members(channel_approvers(reader.channel_id))
    return bool(readers) and readers <= owners


async def hidden_from(session: AsyncSession, directory: Directory, reader: Reader) -> frozenset[str]:
    """The slugs of the private ventures this reader may not see."""
    ventures = await repository.active_ventures(session)
    return frozenset([v.slug for v in ventures if v.private and not await may_see(directory, v, reader)])


async def visible(directory: Directory, ventures: Iterable[Audience], reader: Reader) -> list[Audience]:
    return [v for v in ventures if await may_see(directory, v, reader)]


async def require(
    directory: Directory, config: LumenConfig, venture: Audience, name: str, channel: str, user_id: str, action: Action
) -> None:
    """Raise NotAllowed, saying who may, unless `user_id` may take `action` on this venture."""
    declared = config.venture(venture.slug)
    allowed = who_may(action, config.permissions, declared.permissions if declared else None)
    if not await _among(directory, config, venture, user_id, allowed):
        raise NotAllowed(refusal(action, allowed, name, channel))


async def _among(directory: Directory, config: LumenConfig, venture: Audience, user_id: str, allowed: tuple[str, ...]) -> bool:
    if "everyone" in allowed or user_id in allowed:
        return True
    if "admins" in allowed and user_id in config.permissions.admins:
        return True
    if "approvers" in allowed:
        declared = config.venture(venture.slug)
        rules = effective_rules(config.gates, dict(declared.gates) if declared else {})
        for rule in rules.values():
            if rule.gated and await directory.may_approve(rule.frozen(), user_id):
                return True
    if "members" in allowed and venture.channel_id:
        return user_id in await directory.members(channel_approvers(venture.channel_id))
    return False
