"""The extractive brain: bounded, cited exactly, and a loop that closes.

Pure functions: the draft every synthesis starts from, and what the offline model writes.
"""

from __future__ import annotations

import json
import re

from lumen.domain.brain import (
    SECTIONS,
    WINDOW,
    DecisionFact,
    cited_ids,
    diff_brains,
    evidence_of,
    extractive_brain,
    followed,
    short_title,
)
from lumen.domain.brain_schema import WriteBrain
from lumen.llm.context_block import ContextBlock, VentureInfo
from lumen.llm.offline_playbook import OFFLINE_MARK, synthesize_brain

EMPTY: dict[str, list] = {name: [] for name in SECTIONS}


def fact(i: int, title: str, category: str, verdict: str | None, *, status: str = "executed", **kw: object) -> DecisionFact:
    return DecisionFact(id=i, title=title, category=category, status=status, verdict=verdict, **kw)  # type: ignore[arg-type]


def by_key(sections: dict, section: str) -> dict[str, dict]:
    return {s["key"]: s for s in sections[section]}


def assert_cites_what_it_names(sections: dict) -> None:
    """A statement names every decision title it cites, and cites every title it names."""
    for name in SECTIONS:
        for s in sections[name]:
            assert len(s["titles"]) == len(s["decision_ids"]) == len(s["verdicts"]), s
            named = set(re.findall(r"“([^”]+)”", s["text"]))
            if s["key"].startswith("principle:"):
                assert not named, s["text"]  # a principle is about its category, and names no move
                continue
            assert named == {short_title(t) for t in s["titles"]}, (s["text"], s["titles"])


def test_moves_are_grouped_by_category_and_record_and_cite_exactly_what_they_name() -> None:
    facts = [
        fact(1, "Offer annual plans", "pricing_change", "success", metric="MRR", before=41000, after=44500),
        fact(2, "Offer annual plans", "pricing_change", "success"),
        fact(3, "Add an overage tier", "pricing_change", "failure"),
        fact(4, "Host a webinar", "marketing", "success"),
        fact(5, "Cold outbound to CFOs", "marketing", "failure"),
        fact(6, "Host a webinar", "marketing", "mixed"),
        fact(7, "Interview churned customers", "research", None),  # executed, no outcome yet
        fact(8, "Promise a custom integration", "customer_commitment", None, status="rejected",
             reason="We can't support one-off integrations"),
        fact(9, "Interview churned customers", "research", None, status="awaiting_approval"),  # not in a brain yet
    ]
    brain = extractive_brain(EMPTY, facts)

    worked = by_key(brain, "worked")["worked:pricing_change"]
    assert worked["text"] == "pricing_change moves that worked: “Offer annual plans” 2 of 2 (MRR 41000 → 44500)"
    assert (worked["decision_ids"], worked["verdicts"]) == ([1, 2], ["success", "success"])
    assert worked["moves"] == [{"title": "Offer annual plans", "recent": "SS", "support": 2, "ids": [1, 2]}]
    failed = by_key(brain, "failed")
    assert failed["failed:pricing_change"]["decision_ids"] == [3]
    # The newsletter-style bug: a statement never names one move and cites another's decisions.
    assert failed["failed:marketing"]["text"] == "marketing moves that failed: “Cold outbound to CFOs” 1 of 1"
    assert failed["failed:marketing"]["decision_ids"] == [5]
    # A webinar that worked once and was mixed once (rate 0.75) worked; its mixed try is cited.
    assert by_key(brain, "worked")["worked:marketing"]["verdicts"] == ["success", "mixed"]
    assert by_key(brain, "open_bets")["bet:research"]["decision_ids"] == [7]
    rejected = by_key(brain, "questions")["rejected:customer_commitment"]
    assert rejected["decision_ids"] == [8] and "We can't support one-off integrations" in rejected["text"]
    assert by_key(brain, "principles")["principle:pricing_change"]["text"] == (
        "Lean into pricing_change: 2 of 3 recent tries worked, over 2 move(s)."
    )
    assert 9 not in cited_ids(brain)
    assert_cites_what_it_names(brain)
    assert all(s["change"] == "new" for name in SECTIONS for s in brain[name])
    WriteBrain.model_validate(brain)


def test_a_move_is_judged_by_its_latest_tries_and_moves_when_its_record_turns() -> None:
    """The loop closes: outcomes of the decisions made since brain N change what N+1 says, and why."""
    week1 = extractive_brain(EMPTY, [fact(i, "Run LinkedIn ads", "marketing", "success") for i in range(1, 4)])
    assert by_key(week1, "worked")["worked:marketing"]["moves"][0]["recent"] == "SSS"

    # The market moved: six failures in a row. The window holds the last WINDOW tries only.
    later = [fact(i, "Run LinkedIn ads", "marketing", "failure", brain_version=1) for i in range(10, 16)]
    week2 = extractive_brain(week1, later)
    assert "worked:marketing" not in by_key(week2, "worked")
    turned = by_key(week2, "failed")["failed:marketing"]
    assert turned["moves"][0]["recent"] == "SSFFFFFF"[-WINDOW:] and len(turned["moves"][0]["recent"]) == WINDOW
    assert turned["moves"][0]["support"] == 9  # every try counts toward its support, the window judges
    assert turned["change"] == "new" and "moved here from worked" in turned["because"]
    assert "#15 failed" in turned["because"]
    assert evidence_of(turned).failed == 6
    lines = diff_brains(week1, week2).lines()
    assert any(line.startswith("- [worked]") for line in lines)
    assert any(line.startswith("+ [failed]") and "Run LinkedIn ads" in line for line in lines)
    assert_cites_what_it_names(week2)

    # Two more failures push the last successes out of the window: strengthened, with the reason.
    week3 = extractive_brain(week2, [fact(20, "Run LinkedIn ads", "marketing", "failure"), fact(21, "Run LinkedIn ads", "marketing", "failure")])
    again = by_key(week3, "failed")["failed:marketing"]
    assert again["moves"][0]["recent"] == "F" * WINDOW
    assert again["change"] == "strengthened" and "#20 failed, #21 failed" in again["because"]
    assert any("marketing strengthened: “Run LinkedIn ads”: #20 failed, #21 failed" in line for line in diff_brains(week2, week3).lines())


def test_a_corrected_outcome_replaces_the_first_and_counts_once() -> None:
    week1 = extractive_brain(EMPTY, [fact(1, "Offer annual plans", "pricing_change", "success")])
    week2 = extractive_brain(week1, [fact(1, "Offer annual plans", "pricing_change", "failure")])
    move = by_key(week2, "failed")["failed:pricing_change"]["moves"][0]
    assert (move["recent"], move["support"]) == ("F", 1)
    assert "worked:pricing_change" not in by_key(week2, "worked")


def test_an_open_bet_stays_open_until_its_own_outcome_arrives() -> None:
    week1 = extractive_brain(EMPTY, [fact(1, "Offer annual plans", "pricing_change", None)])
    assert by_key(week1, "open_bets")["bet:pricing_change"]["decision_ids"] == [1]
    # Another decision of the same move succeeds; #1 still waits.
    week2 = extractive_brain(week1, [fact(2, "Offer annual plans", "pricing_change", "success")])
    assert by_key(week2, "open_bets")["bet:pricing_change"]["decision_ids"] == [1]
    week3 = extractive_brain(week2, [fact(1, "Offer annual plans", "pricing_change", "failure")])
    assert "bet:pricing_change" not in by_key(week3, "open_bets")
    assert by_key(week3, "questions")["mixed:pricing_change"]["moves"][0]["recent"] == "FS"


def test_the_brain_stays_the_same_size_however_long_the_history() -> None:
    """Bounded by categories and moves shown, not by decisions: a year of unique titles fits."""
    categories = ("pricing_change", "marketing", "research", "product", "partnerships")

    def history(n: int) -> list[DecisionFact]:
        return [
            fact(i, f"Move {i} of a long year", categories[i % 5], ("success", "failure", "mixed", None)[i % 4])
            for i in range(1, n + 1)
        ]

    # Past a few weeks a category shows its six latest moves of each kind; more history adds nothing.
    small = extractive_brain(EMPTY, history(300))
    large = extractive_brain(EMPTY, history(3000))
    for brain in (small, large):
        assert all(len(brain[name]) <= 12 for name in SECTIONS)
        assert all(len(s["moves"]) <= 6 and len(s["decision_ids"]) <= 12 for name in SECTIONS for s in brain[name])
        assert_cites_what_it_names(brain)
    assert len(json.dumps(large)) < 1.1 * len(json.dumps(small))


def test_followed_maps_each_statement_to_the_decisions_made_under_it() -> None:
    brain = extractive_brain(EMPTY, [fact(1, "Host a webinar", "marketing", "success"), fact(2, "Offer annual plans", "pricing_change", "failure")])
    since = [
        fact(5, "Host a webinar", "marketing", "success", brain_version=3),
        fact(6, "Host a webinar", "marketing", None, brain_version=2),  # under an older brain
        fact(7, "Add an overage tier", "pricing_change", "success", brain_version=3),
    ]
    mapping = followed(brain, since, 3)
    assert mapping["worked:marketing"] == [5]
    assert "failed:pricing_change" not in mapping  # #7 is another move: it does not judge this one


def test_offline_model_writes_the_draft_and_says_so() -> None:
    draft = extractive_brain(EMPTY, [fact(1, "Offer annual plans", "pricing_change", "success")])
    ctx = ContextBlock(
        task="synthesize",
        venture=VentureInfo(slug="acme", name="Acme Analytics", stage="growth"),
        extra={"draft": draft, "decisions": [fact(1, "Offer annual plans", "pricing_change", "success").as_json()]},
    )
    written = WriteBrain.model_validate(json.loads(synthesize_brain(ctx)))
    assert written.summary.startswith(OFFLINE_MARK) and "Acme Analytics" in written.summary
    assert [s.decision_ids for s in written.worked] == [[1]]
