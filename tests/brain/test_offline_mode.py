"""Offline mode: `lumen dev` on an empty database simulates two quarters of the configured
ventures through the real engine and the offline model, so the channels show a real weekly
summary with its chart, scored brain versions and platform insights on first start; a second
start on the same database seeds nothing again."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import func, select

from devslack import Workspace
from lumen.brain import service as brain
from lumen.clock import utcnow
from lumen.container import Container
from lumen.db.models import Approval, ApprovalStatus, BrainVersion, Decision, OutboxMessage, PlatformInsight, Run, Venture
from lumen.demo import OPEN_WEEKS
from lumen.devmode import dev_stack
from lumen.domain.attribution import pool_thin
from tests.brain.conftest import FAST_RETRIES, texts, wait_for_message
from tests.slack.support import checked_blocks

SUMMARY = re.compile(r"weekly brain v\d+ · \d{4}-W\d\d")
SCORED = re.compile(r"• v\d+(–v\d+)?: \d+ decisions? · \*(\d+)%\* success")


async def counts(container: Container) -> tuple[int, int, int]:
    """Demo runs (the simulated history and its syntheses), brain versions, insight versions."""
    async with container.db.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Run).where(Run.idempotency_key.like("demo:%"))) or 0,
            await session.scalar(select(func.count()).select_from(BrainVersion)) or 0,
            await session.scalar(select(func.count()).select_from(PlatformInsight)) or 0,
        )


async def test_demo_seeds_two_quarters_once(container: Container) -> None:
    first = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(container.settings, container.config, workspace=first, demo=True):
        acme = await wait_for_message(first, "venture-acme", lambda m: bool(SUMMARY.search(texts(m))))
        brightbox = await wait_for_message(first, "venture-brightbox", lambda m: bool(SUMMARY.search(texts(m))))
        platform = await wait_for_message(first, "lumen-platform", lambda m: "Platform insights v" in texts(m))
        for post in (acme, brightbox, platform):
            checked_blocks({"blocks": post.blocks})
        # Only the latest week is posted: one summary per venture, one insights post, none of
        # the simulated weeks' decision posts.
        assert [bool(SUMMARY.search(texts(m))) for m in first.messages("venture-acme")].count(True) == 1
        assert len([m for m in first.messages("lumen-platform") if "Platform insights" in texts(m)]) == 1
        # Only the last weeks are in Slack: their decision posts, and their gates left open for a person.
        async with container.db.sessions() as session:
            posts = (await session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("decision:%")))).all()
            posted = [int(key.split(":")[1]) for key in posts]
            made = (await session.scalars(select(Decision.created_at).where(Decision.id.in_(posted)))).all()
            waiting = (await session.scalars(select(Approval).where(Approval.status == ApprovalStatus.PENDING))).all()
        oldest = min(m.replace(tzinfo=utcnow().tzinfo) for m in made)
        assert posted and utcnow() - oldest < timedelta(weeks=OPEN_WEEKS + 1)
        assert {a.venture_id for a in waiting} == set(await _venture_ids(container))
        cards = [m for m in first.messages("venture-acme") if "Approval needed" in texts(m)]
        assert cards and len(cards) == len([a for a in waiting if a.venture_id == (await _venture_ids(container))[0]])

        # The summary shows the flywheel: a chart uploaded to the workspace, and versions with
        # enough outcomes to score, whose rate moves.
        [image] = [b for b in acme.blocks if b["type"] == "image"]
        stored = first.files.image(image["slack_file"]["id"])
        assert stored is not None and stored.content and stored.content.startswith(b"\x89PNG")
        assert "success rate and spend per brain version" in image["alt_text"]
        rates = [int(m.group(2)) for m in SCORED.finditer(texts(acme))]
        assert len(rates) >= 3 and len(set(rates)) > 1, texts(acme)

        async with container.db.sessions() as session:
            acme_id = await session.scalar(select(Venture.id).where(Venture.slug == "acme"))
            latest = await session.scalar(
                select(BrainVersion).where(BrainVersion.venture_id == acme_id).order_by(BrainVersion.version.desc()).limit(1)
            )
            scores = await brain.scores_for_venture(session, acme_id)
            first_day = await session.scalar(select(func.min(Decision.created_at)).where(Decision.venture_id == acme_id))
        assert latest is not None and latest.model == "lumen-offline/playbook" and latest.version >= 20
        assert latest.chart_file_id == image["slack_file"]["id"]
        # A week's version guides a decision or two: pooled, the versions are judged.
        assert len([s for s in pool_thin(scores) if s.success_rate is not None]) >= 3
        # Two quarters back, so "last quarter" has an answer.
        assert first_day is not None and utcnow() - first_day.replace(tzinfo=utcnow().tzinfo) > timedelta(weeks=24)
        seeded = await counts(container)
        assert seeded[0] > 100

        # App Home shows each venture's latest chart, the same uploaded file.
        await first.open_home("U0ALICE")
        home = await first.wait_for(lambda: first.home_views.get("U0ALICE"), timeout=10)
        charts = [b for b in home.definition["blocks"] if b["type"] == "image"]
        assert image["slack_file"] in [c["slack_file"] for c in charts] and len(charts) == 2

    second = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(container.settings, container.config, workspace=second, demo=True):
        await asyncio.sleep(0.5)  # time for anything queued to reach the workspace
        assert await counts(container) == seeded
        for channel in ("venture-acme", "venture-brightbox", "lumen-platform"):
            assert not [m for m in second.messages(channel) if SUMMARY.search(texts(m)) or "Platform insights" in texts(m)]


async def _venture_ids(container: Container) -> list[int]:
    async with container.db.sessions() as session:
        return list((await session.scalars(select(Venture.id).order_by(Venture.slug))).all())
