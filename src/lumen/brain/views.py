"""Reading brains back: a version of a venture's brain, and the diff between two versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents.control import find_venture
from lumen.brain.facts import latest_brain, sections_of
from lumen.db.models import BrainVersion
from lumen.domain.brain import BrainDiff, diff_brains
from lumen.errors import NotFound
from lumen.slack.blocks.brain import BrainView


async def brain_view(session: AsyncSession, venture_ref: str, version: int | None = None) -> BrainView:
    venture = await find_venture(session, venture_ref)
    latest = await session.scalar(select(func.max(BrainVersion.version)).where(BrainVersion.venture_id == venture.id))
    if latest is None:
        raise NotFound(
            f"{venture.name} has no brain yet: the first one is built by the weekly synthesis "
            f"(or run `lumen brain synthesize {venture.slug}`)."
        )
    brain = await latest_brain(session, venture.id, version)
    if brain is None:
        raise NotFound(f"{venture.name} has brain versions 1 to {latest}; there is no v{version}.")
    return BrainView(
        venture_name=venture.name,
        venture_slug=venture.slug,
        version=brain.version,
        created_at=brain.created_at,
        sections=sections_of(brain),
        summary=brain.summary,
        latest_version=latest,
    )


async def brain_diff(session: AsyncSession, venture_ref: str, a: int, b: int) -> BrainDiff:
    venture = await find_venture(session, venture_ref)
    older = await latest_brain(session, venture.id, a)
    newer = await latest_brain(session, venture.id, b)
    for n, brain in ((a, older), (b, newer)):
        if brain is None:
            raise NotFound(f"{venture.name} has no brain v{n}.")
    return diff_brains(sections_of(older), sections_of(newer))
