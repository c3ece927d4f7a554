"""Recording an outcome: the modal that asks for it, and the note left in the decision's thread."""

from __future__ import annotations

from typing import Any


from lumen.render.outcomes import OUTCOME_MODAL, outcome_modal, outcome_recorded_text
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, assert_escaped, texts, valid_view


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_outcome_modal_asks_for_a_verdict_and_carries_the_decision() -> None:
    view = valid_view(outcome_modal(42, "Sponsor a podcast", None, "C0ACME"))
    assert view["callback_id"] == OUTCOME_MODAL
    assert view["private_metadata"] == "42|0|C0ACME"  # decision id | replacing? | channel
    assert view["blocks"][0]["text"]["text"] == "*#42 Sponsor a podcast*"
    inputs = _inputs(view)
    verdict = inputs["verdict"]
    assert not verdict.get("optional") and verdict["element"]["type"] == "static_select"
    assert verdict["element"]["action_id"] == "verdict"
    assert [o["value"] for o in verdict["element"]["options"]] == ["success", "failure", "mixed"]
    assert [o["text"]["text"] for o in verdict["element"]["options"]] == ["✅ success", "❌ failure", "➗ mixed"]
    for name in ("metric", "before", "after", "note"):
        assert inputs[name]["optional"] is True and inputs[name]["element"]["action_id"] == name
    assert inputs["note"]["element"]["multiline"] is True


def test_outcome_modal_warns_about_an_existing_outcome() -> None:
    view = valid_view(outcome_modal(42, HOSTILE, f"Already recorded: success by {HOSTILE}.", None))
    assert view["private_metadata"] == "42|1|"
    shown = texts(view["blocks"])
    assert "Saving adds a new outcome that supersedes it; the old one is kept." in shown
    assert shown.count(HOSTILE_ESCAPED) == 2
    assert_escaped(shown)


def test_outcome_modal_clips_a_huge_title() -> None:
    view = valid_view(outcome_modal(42, "T" * 10_000, "E" * 10_000, "C0ACME"))
    assert len(view["blocks"][0]["text"]["text"]) < 300


def test_outcome_note_in_thread_says_who_what_and_by_how_much() -> None:
    said = outcome_recorded_text("success", "U0ALICE", "MRR", 40000.0, 44500.0, f"Up {HOSTILE}", superseded=3)
    assert said == (
        f"✅ Outcome recorded by <@U0ALICE>: *success* · MRR 40000 → 44500\n>Up {HOSTILE_ESCAPED}\n"
        "_Supersedes outcome #3, which is kept._"
    )


def test_outcome_note_from_outside_slack_and_without_numbers() -> None:
    assert outcome_recorded_text("mixed", "billing", "churn", None, 3.5, None) == "➗ Outcome recorded by billing: *mixed* · churn"
    assert outcome_recorded_text("failure", None, None, None, None, None) == "❌ Outcome recorded: *failure*"
    assert len(outcome_recorded_text("success", None, None, None, None, "n" * 10_000)) < 1600  # long note clipped


def test_outcome_note_escapes_metric_and_note() -> None:
    said = outcome_recorded_text("success", "U0ALICE", HOSTILE, 1, 2, HOSTILE)
    assert f"· {HOSTILE_ESCAPED} 1 → 2\n>{HOSTILE_ESCAPED}" in said
    assert_escaped(said)


def test_outcome_note_escapes_a_reporter_name() -> None:
    assert_escaped(outcome_recorded_text("success", HOSTILE, None, None, None, None))
