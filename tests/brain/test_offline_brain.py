"""The offline brain: extractive, but useful. Grouped by category and verdict, every statement
cited, principles that follow from the whole record, open bets that track what still awaits an
outcome. Pure functions; the offline model writes exactly this through `write_brain`."""

from __future__ import annotations

import json

from lumen.domain.brain_schema import WriteBrain
from lumen.domain.brain import CITATIONS_KEPT, SECTIONS, DecisionFact, cited_ids, diff_brains, extractive_brain
from lumen.llm.context_block import ContextBlock, VentureInfo
from lumen.llm.offline_playbook import OFFLINE_MARK, synthesize_brain


def fact(i: int, category: str, verdict: str | None, *, status: str = "executed", **kw: object) -> DecisionFact:
    return DecisionFact(id=i, title=f"Move {i}", category=category, status=status, verdict=verdict, **kw)  # type: ignore[arg-type]


def by_key(sections: dict, section: str) -> dict[str, dict]:
    return {s["key"]: s for s in sections[section]}


EMPTY: dict[str, list] = {name: [] for name in SECTIONS}


def test_groups_by_category_and_verdict_with_citations() -> None:
    facts = [
        fact(1, "pricing_change", "success", metric="MRR", before=41000, after=44500),
        fact(2, "pricing_change", "success"),
        fact(3, "marketing", "failure", metric="signups", before=120, after=118),
        fact(4, "marketing", "mixed"),
        fact(5, "research", None),  # executed, no outcome yet
        fact(6, "customer_commitment", None, status="rejected", reason="We can't support one-off integrations"),
        fact(7, "research", None, status="awaiting_approval"),  # still pending: not in the brain
    ]
    brain = extractive_brain(EMPTY, facts)

    worked = by_key(brain, "worked")["worked:pricing_change"]
    assert worked["decision_ids"] == [1, 2] and worked["titles"] == ["Move 1", "Move 2"]
    # The text names the count and the latest move; the citations carry every one.
    assert worked["text"] == "pricing_change: 2 moves, latest “Move 2” worked"
    failed = by_key(brain, "failed")["failed:marketing"]
    assert failed["decision_ids"] == [3] and "(signups 120 → 118)" in failed["text"]
    questions = by_key(brain, "questions")
    assert questions["mixed:marketing"]["decision_ids"] == [4]
    rejected = questions["rejected:customer_commitment"]
    assert rejected["decision_ids"] == [6] and "We can't support one-off integrations" in rejected["text"]
    assert by_key(brain, "open_bets")["bet:research"]["decision_ids"] == [5]
    assert by_key(brain, "principles")["principle:pricing_change"]["text"].startswith("Lean into pricing_change")
    assert by_key(brain, "principles")["principle:pricing_change"]["decision_ids"] == [1, 2]
    assert 7 not in cited_ids(brain)
    # Every statement cites at least one decision, and the whole thing is what write_brain accepts.
    assert all(s["decision_ids"] for name in SECTIONS for s in brain[name])
    WriteBrain.model_validate(brain)


def test_offline_model_writes_it_and_says_so() -> None:
    ctx = ContextBlock(
        task="synthesize",
        venture=VentureInfo(slug="acme", name="Acme Analytics", stage="growth"),
        brain_version=None,
        extra={"previous": EMPTY, "decisions": [fact(1, "pricing_change", "success").as_json()]},
    )
    written = WriteBrain.model_validate(json.loads(synthesize_brain(ctx)))
    assert written.summary.startswith(OFFLINE_MARK) and "Acme Analytics" in written.summary
    assert [s.decision_ids for s in written.worked] == [[1]]


def test_an_open_bet_stays_open_until_its_own_outcome_arrives() -> None:
    """Another decision of the category succeeding does not settle a bet still awaiting its outcome."""
    week1 = extractive_brain(EMPTY, [fact(1, "pricing_change", None)])
    assert by_key(week1, "open_bets")["bet:pricing_change"]["decision_ids"] == [1]

    # Week 2: a new pricing decision is made and also succeeds at once; #1 still has no outcome.
    week2 = extractive_brain(week1, [fact(2, "pricing_change", "success"), fact(3, "pricing_change", None)])
    bets = by_key(week2, "open_bets")
    assert "bet:pricing_change" in bets, "the bet on #1 and #3 was dropped because #2 succeeded"
    assert bets["bet:pricing_change"]["decision_ids"] == [1, 3]

    # Week 3: #1 gets its outcome; only #3 is still open.
    week3 = extractive_brain(week2, [fact(1, "pricing_change", "failure")])
    assert by_key(week3, "open_bets")["bet:pricing_change"]["decision_ids"] == [3]
    assert "Move 1" not in by_key(week3, "open_bets")["bet:pricing_change"]["text"]
    # Week 4: #3 too; nothing is open any more.
    week4 = extractive_brain(week3, [fact(3, "pricing_change", "mixed")])
    assert "bet:pricing_change" not in by_key(week4, "open_bets")


def test_principles_follow_the_whole_record_not_the_cited_few() -> None:
    """Five wins and two failures a week, every week: the principle must hold in week 10 as in week 1."""
    brain = EMPTY
    n = 0
    for week in range(1, 11):
        facts = []
        for verdict in ("success",) * 5 + ("failure",) * 2:
            n += 1
            facts.append(fact(n, "pricing_change", verdict))
        brain = extractive_brain(brain, facts)
        principle = by_key(brain, "principles").get("principle:pricing_change")
        assert principle is not None, f"week {week}: the principle vanished"
        assert principle["text"].startswith("Lean into pricing_change"), principle["text"]
        assert f"{5 * week} wins, {2 * week} failures" in principle["text"]
        # Bounded all the same: one statement per category and section, a few citations each.
        assert len(principle["decision_ids"]) <= CITATIONS_KEPT
        assert all(len(s["decision_ids"]) <= CITATIONS_KEPT for name in SECTIONS for s in brain[name])


def test_later_failures_turn_the_principle_around() -> None:
    brain = extractive_brain(EMPTY, [fact(i, "marketing", "success") for i in range(1, 4)])
    assert by_key(brain, "principles")["principle:marketing"]["text"].startswith("Lean into")
    brain = extractive_brain(brain, [fact(i, "marketing", "failure") for i in range(4, 10)])
    principle = by_key(brain, "principles")["principle:marketing"]
    assert principle["text"].startswith("Be wary of marketing: 6 failures, 3 wins")
    diff = diff_brains(EMPTY, brain)
    assert diff.added["principles"] == [principle["text"]]
