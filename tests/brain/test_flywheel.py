"""The flywheel at a small size, through the real engine: a simulated world of three ventures
(one private) whose moves work by hidden odds that shift halfway. Agents that read their brain
and the platform insights beat agents that remember nothing; every brain statement cites the
decisions it is about; and the private venture's records shape the insights only as counts.

`benchmarks/flywheel.py` runs the full-size version (a year, eight ventures, three arms).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from lumen.agents.context import FULL, Memory
from lumen.container import Container
from lumen.db.migrate import upgrade
from lumen.db.models import BrainVersion, Decision, Outcome, PlatformInsight, Step, Venture
from lumen.db.session import Database
from lumen.domain.brain import SECTIONS, move_key
from lumen.render.brain import insights_blocks
from lumen.runtime import build_container
from lumen.settings import Settings
from lumen.simulator import ArmResult, SimVenture, Simulation, World
from lumen.ventures.sync import sync_config
from tests.render.support import texts
from tests.support.databases import fresh_database, postgres_admin_url

WEEKS = 14
PRIVATE = SimVenture("cedar", "Cedar Care", private=True)
WORLD = World(
    seed=21,
    weeks=WEEKS,
    drift_week=WEEKS // 2,
    ventures=(SimVenture("alder", "Alder Analytics"), SimVenture("birch", "Birch Books"), PRIVATE),
)


async def _arm(db: Database, tmp_path: Path, memory: Memory, name: str) -> tuple[Container, ArmResult]:
    config = WORLD.config()
    async with db.transaction() as session:
        await sync_config(session, config)
    settings = Settings(LUMEN_DATABASE_URL=db.url, LUMEN_CONFIG=str(tmp_path / "lumen.yml"))
    container = build_container(settings, config, db)
    return container, await Simulation(container, WORLD, memory, name).run()


async def test_a_brain_beats_no_memory_and_cites_what_it_is_about(db: Database, tmp_path: Path) -> None:
    container, full = await _arm(db, tmp_path, FULL, "full")
    assert full.runs == WEEKS * len(WORLD.days) * len(WORLD.ventures) and full.failed_runs == 0

    await _every_citation_is_about_its_statement(db)
    await _the_private_venture_is_only_a_count(db)

    # The same world again, in a fresh database, with agents that see nothing of the past.
    blank = await _fresh_arm(db, tmp_path)
    half = WEEKS // 2
    full_late = full.rate([m for m in full.decisions if m.week >= half])
    blank_late = blank.rate([m for m in blank.decisions if m.week >= half])
    assert full_late is not None and blank_late is not None
    assert full_late > blank_late + 0.1, (full_late, blank_late)
    # And the brain's agents got better as their brains grew.
    early = full.rate([m for m in full.decisions if m.week < half])
    assert early is not None and full_late > early, (early, full_late)


async def _fresh_arm(db: Database, tmp_path: Path) -> ArmResult:
    """The no-memory arm in a database of its own, of the same kind."""
    kind = "postgres" if db.url.startswith("postgresql") else "sqlite"
    async with fresh_database(kind, postgres_admin_url(), prefix="lumen_test_blank") as url:
        blank = Database(url)
        await upgrade(blank.engine)
        try:
            _, result = await _arm(blank, tmp_path, Memory(brain=False, insights=False, history=False), "no_brain")
        finally:
            await blank.dispose()
    return result


async def _every_citation_is_about_its_statement(db: Database) -> None:
    """Each statement cites decisions of its own venture whose titles are the moves it names
    (its category's, for a principle), with the verdicts the records hold."""
    async with db.sessions() as session:
        brains = (await session.scalars(select(BrainVersion))).all()
        decisions = {d.id: d for d in (await session.scalars(select(Decision))).all()}
        verdicts = {o.decision_id: o.verdict.value for o in (await session.scalars(select(Outcome).order_by(Outcome.id))).all()}
    checked = 0
    for brain in brains:
        for name in SECTIONS:
            for statement in getattr(brain, name):
                moves = {move_key(m["title"]) for m in statement.get("moves", [])}
                for k, decision_id in enumerate(statement["decision_ids"]):
                    decision = decisions[decision_id]
                    assert decision.venture_id == brain.venture_id, (brain.version, statement["key"], decision_id)
                    if statement["key"].startswith("principle:"):
                        assert decision.category == statement["category"], (statement["key"], decision_id)
                    else:
                        assert move_key(decision.title) in moves, (statement["key"], decision.title, moves)
                        assert statement["titles"][k] == decision.title
                        # The move is named in the words too, not only in the citation.
                        assert decision.title[:40] in statement["text"], (decision.title, statement["text"])
                    verdict = statement.get("verdicts", [])[k] if k < len(statement.get("verdicts", [])) else None
                    if verdict in ("success", "failure", "mixed"):
                        assert verdicts.get(decision_id) == verdict, (decision_id, verdict)
                    checked += 1
    assert checked > 100


async def _the_private_venture_is_only_a_count(db: Database) -> None:
    async with db.sessions() as session:
        cedar = await session.scalar(select(Venture).where(Venture.slug == PRIVATE.slug))
        assert cedar is not None and cedar.private
        private_ids = set((await session.scalars(select(Decision.id).where(Decision.venture_id == cedar.id))).all())
        insights = (await session.scalars(select(PlatformInsight).order_by(PlatformInsight.version))).all()
        others = (await session.scalars(select(Venture.id).where(Venture.id != cedar.id))).all()
        prompts = (
            await session.scalars(
                select(Step.input).join(Decision, Decision.run_id == Step.run_id)
                .where(Step.name == "propose_decisions", Decision.venture_id.in_(others))
            )
        ).all()
    assert insights and private_ids
    counted = 0
    for insight in insights:
        assert not set(insight.built_from) & private_ids
        assert insight.covers
        for item in insight.insights:
            assert not set(item["decision_ids"]) & private_ids
            assert PRIVATE.name not in item["text"] and PRIVATE.name not in item["ventures"]
            counted += "1 private venture" in item["text"]
        # What #lumen-platform shows.
        shown = texts(insights_blocks(insight.version, insight.covers, insight.insights, insight.summary))
        assert PRIVATE.name not in shown and not any(re.search(rf"#{i}\b", shown) for i in private_ids)
    assert counted, "the private venture's record never counted"
    # Other ventures' agents read the insights, never the private venture's name.
    assert prompts and not any(PRIVATE.name in str(p) or PRIVATE.slug in str(p) for p in prompts)
