"""Attribution on a generated history: decisions made under brain versions 1..4 with known
verdicts give exact success rates, counts, approval rates and costs per version."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from lumen.brain.service import scores_for_venture
from lumen.brain.service import OutcomeReport, record_outcome
from lumen.db.models import Run, RunKind, RunStatus, RunTrigger
from lumen.domain.attribution import MIN_OUTCOMES, VersionScore, pool_thin
from lumen.container import Container
from tests.brain.conftest import START, venture_id
from tests.brain.history import Generated, write_history


def expected(version: int, items: list[Generated], cost: Decimal) -> VersionScore:
    with_outcome = [d for d in items if d.verdict]
    return VersionScore(
        brain_version=version,
        decisions=len(items),
        with_outcome=len(with_outcome),
        successes=sum(1 for d in with_outcome if d.verdict == "success"),
        failures=sum(1 for d in with_outcome if d.verdict == "failure"),
        gated=sum(1 for d in items if d.gated),
        approved=sum(1 for d in items if d.approved),
        cost_usd=cost,
    )


async def test_scores_per_brain_version(container: Container) -> None:
    db = container.db
    acme = await venture_id(db, "acme")
    # Weeks 1-3 under brains v1-v3, 50 decisions each; week 4 has three decisions under v4.
    history = await write_history(db, "acme", 3, 50, START, brain_version=lambda week: week)
    late = await write_history(db, "acme", 1, 3, START + timedelta(weeks=3), brain_version=lambda _: 4)
    history.decisions += late.decisions
    # Brightbox's decisions must not leak into Acme's scores.
    await write_history(db, "brightbox", 1, 30, START, brain_version=lambda _: 1)

    # A correction: a v1 failure later found to be a success; the latest outcome counts.
    corrected = next(d for d in history.under(1) if d.kind == "failure")
    async with db.transaction() as session:
        await record_outcome(
            session, OutcomeReport(decision_id=corrected.id, verdict="success", replace=True), source="api"
        )
        # A replay under v1 costs money but changes nothing: not the brain's cost.
        session.add(
            Run(kind=RunKind.WAKE, venture_id=acme, trigger=RunTrigger.REPLAY, idempotency_key="replay:test",
                status=RunStatus.SUCCEEDED, brain_version=1, cost_usd=Decimal("5"), side_effects=False)
        )
    history.decisions = [
        Generated(**{**d.__dict__, "kind": "success"}) if d.id == corrected.id else d for d in history.decisions
    ]

    async with db.sessions() as session:
        scores = {s.brain_version: s for s in await scores_for_venture(session, acme)}
    assert sorted(scores) == [1, 2, 3, 4]
    for version in (1, 2, 3, 4):
        items = history.under(version)
        cost = sum((d.cost_usd for d in items), Decimal(0))
        assert scores[version] == expected(version, items, cost), version

    v1 = scores[1]
    # By hand: 25 successes (+1 corrected), 10 failures (-1), 5 mixed, 5 pending, 5 rejected; 20 decisions
    # in gated categories plus 3 rejected elsewhere went to a human, and 18 of those 23 were approved.
    assert (v1.decisions, v1.with_outcome, v1.successes, v1.failures) == (50, 40, 26, 9)
    assert v1.success_rate == 26 / 40 and v1.enough_data
    assert (v1.gated, v1.approved, v1.approval_rate) == (23, 18, 18 / 23)
    assert v1.cost_usd == Decimal("0.625")  # 50 wake-ups at $0.0125; the $5 replay is left out
    assert v1.label == "v1"

    v4 = scores[4]
    assert v4.with_outcome < MIN_OUTCOMES and not v4.enough_data and v4.success_rate is None
    assert v4.label == "v4"


def _thin(version: int | None, outcomes: int, successes: int) -> VersionScore:
    return VersionScore(
        brain_version=version, decisions=outcomes, with_outcome=outcomes, successes=successes,
        failures=outcomes - successes, gated=0, approved=0, cost_usd=Decimal(1),
    )


def test_thin_versions_pool_with_their_neighbours_until_they_can_be_judged() -> None:
    scores = [_thin(None, 2, 1), _thin(1, 2, 1), _thin(2, 2, 2), _thin(3, 1, 1), _thin(4, 9, 3), _thin(5, 1, 0), _thin(6, 3, 3)]
    pooled = pool_thin(scores)
    assert [s.label for s in pooled] == ["before any brain", "v1–v3", "v4", "v5–v6"]
    before, first, fourth, last = pooled
    assert before.success_rate is None  # decisions before any brain are never pooled with a brain's
    assert (first.with_outcome, first.successes, first.success_rate, first.cost_usd) == (5, 4, 0.8, Decimal(3))
    assert fourth is scores[4]
    assert (last.with_outcome, last.success_rate) == (4, None)  # the latest run, still too thin
    assert pool_thin([]) == []
