"""Offline mode: `lumen dev` on an empty database seeds the demo history and synthesises it with
the offline model, so the channels show real weekly summaries and platform insights on first
start; a second start on the same database seeds nothing again."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import func, select

from lumen.db.models import BrainVersion, PlatformInsight, Run, Venture
from lumen.devmode import dev_stack
from devslack import Workspace
from lumen.container import Container
from tests.brain.conftest import FAST_RETRIES, texts, wait_for_message
from tests.slack.support import checked_blocks

SUMMARY = re.compile(r"weekly brain v\d+ · \d{4}-W\d\d")


async def counts(container: Container) -> tuple[int, int, int]:
    """Demo runs (the seeded history and its syntheses), brain versions, insight versions.

    Not all decisions: a start may also catch up a scheduled wake-up that fell in the last 24 h.
    """
    async with container.db.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Run).where(Run.idempotency_key.like("demo:%"))) or 0,
            await session.scalar(select(func.count()).select_from(BrainVersion)) or 0,
            await session.scalar(select(func.count()).select_from(PlatformInsight)) or 0,
        )


async def test_demo_seeds_real_summaries_once(container: Container) -> None:
    first = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(container.settings, container.config, workspace=first, demo=True):
        acme = await wait_for_message(first, "venture-acme", lambda m: bool(SUMMARY.search(texts(m))))
        brightbox = await wait_for_message(first, "venture-brightbox", lambda m: bool(SUMMARY.search(texts(m))))
        platform = await wait_for_message(first, "lumen-platform", lambda m: "Platform insights v" in texts(m))
        for post in (acme, brightbox, platform):
            checked_blocks({"blocks": post.blocks})
        # Only the latest week is posted: one summary per venture, one insights post.
        assert [bool(SUMMARY.search(texts(m))) for m in first.messages("venture-acme")].count(True) == 1
        assert len([m for m in first.messages("lumen-platform") if "Platform insights" in texts(m)]) == 1
        assert "How each brain version performed" in texts(acme) and "What changed since" in texts(acme)
        assert "pricing_change worked in 2 ventures (acme, brightbox)" in texts(platform)
        # Extractive, but useful: grouped by category and verdict, with the metric and citations.
        async with container.db.sessions() as session:
            acme_id = await session.scalar(select(Venture.id).where(Venture.slug == "acme"))
            brain = await session.scalar(
                select(BrainVersion).where(BrainVersion.venture_id == acme_id).order_by(BrainVersion.version.desc()).limit(1)
            )
        assert brain is not None and brain.model == "lumen-offline/playbook"
        worked = {s["key"]: s for s in brain.worked}
        assert "“Raise the Pro plan from $49 to $59” (MRR 38000 → 41500)" in worked["worked:pricing_change"]["text"]
        assert any(s["key"] == "principle:pricing_change" and s["text"].startswith("Lean into") for s in brain.principles)
        assert any("Cold outbound to 500 SaaS CFOs" in s["text"] for s in brain.failed)
        seeded = await counts(container)
        assert seeded[0] > 13 and seeded[1:] == (brain.version + 5, 6)  # acme v6 + brightbox v5; insights v1-v6

    second = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(container.settings, container.config, workspace=second, demo=True):
        await asyncio.sleep(0.5)  # time for anything queued to reach the workspace
        assert await counts(container) == seeded
        for channel in ("venture-acme", "venture-brightbox", "lumen-platform"):
            assert not [m for m in second.messages(channel) if SUMMARY.search(texts(m)) or "Platform insights" in texts(m)]
