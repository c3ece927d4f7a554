"""A decision as posted to its venture's channel, and the run trail offered in its thread."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from lumen.render.decisions import (
    TRAIL_ACTION,
    DecisionCard,
    TrailStep,
    decision_blocks,
    decision_text,
    trail_blocks,
    trail_payload,
)
from lumen.render.limits import MAX_BLOCKS_MESSAGE
from lumen.render.outcomes import RECORD_ACTION
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, assert_escaped, texts, valid_blocks

CARD = DecisionCard(
    id=27,
    venture="acme",
    agent_role="ceo",
    category="marketing",
    title="Sponsor a podcast",
    rationale="Podcasts reached our buyers last time.",
    expected_effect="20 signups",
    amount_usd=Decimal("1200"),
    status="executed",
    brain_version=3,
    run_id=88,
    cost_usd=Decimal("0.0042"),
    model="claude-sonnet",
)


def _step(seq: int, **overrides: object) -> TrailStep:
    base = TrailStep(seq=seq, kind="tool", name="search_decisions", summary="3 results", cost_usd=Decimal("0"), latency_ms=120)
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_decision_shows_why_status_effect_amount_and_who_decided() -> None:
    blocks = valid_blocks(decision_blocks(CARD))
    assert blocks[0]["text"]["text"] == "Sponsor a podcast"
    shown = texts(blocks)
    assert "*Why:* Podcasts reached our buyers last time." in shown
    assert "*Category*\n`marketing`" in shown and "*Status*\n✅ Executed" in shown
    assert "*Expected effect*\n20 signups" in shown and "*Amount*\n$1,200.00" in shown
    assert "🤖 ceo agent · brain v3 · run #88 · decision #27 · cost $0.0042 · claude-sonnet" in shown
    assert "Follows platform insight" not in shown
    assert decision_text(CARD) == "ceo decided: Sponsor a podcast (marketing)"


def test_an_executed_decision_offers_record_outcome_and_the_trail() -> None:
    actions = decision_blocks(CARD)[-1]
    assert actions["block_id"] == "decision:27"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [(RECORD_ACTION, "27"), (TRAIL_ACTION, "27")]


@pytest.mark.parametrize("status", ["awaiting_approval", "rejected", "proposed"])
def test_an_unexecuted_decision_offers_only_the_trail(status: str) -> None:
    """Nothing happened yet, so there is no outcome to record."""
    actions = valid_blocks(decision_blocks(replace(CARD, status=status)))[-1]
    assert [e["action_id"] for e in actions["elements"]] == [TRAIL_ACTION]


def test_decision_escapes_what_the_model_wrote() -> None:
    card = replace(
        CARD, rationale=HOSTILE, expected_effect=HOSTILE, category=HOSTILE, agent_role=HOSTILE, model=HOSTILE,
        follows_insight=HOSTILE, brain_version=None, amount_usd=None,
    )
    shown = texts(valid_blocks(decision_blocks(card)))
    assert f"💡 Follows platform insight: {HOSTILE_ESCAPED}" in shown
    assert f"*Why:* {HOSTILE_ESCAPED}" in shown and "no brain yet" in shown and "*Amount*\n—" in shown
    assert_escaped(shown)


def test_an_oversized_decision_is_clipped_not_refused() -> None:
    card = replace(CARD, title="T" * 1_000, rationale="<&>" * 5_000, expected_effect="E" * 5_000, follows_insight="I" * 5_000)
    valid_blocks(decision_blocks(card))


def test_decision_text_escapes_the_title() -> None:
    """The `text` goes out with the blocks and is what notifications show."""
    assert_escaped(decision_text(replace(CARD, title=HOSTILE, category=HOSTILE)))


def test_trail_lists_each_step_with_latency_and_cost() -> None:
    steps = [_step(1), _step(2, kind="llm", name="strong", summary="", cost_usd=Decimal("0.0042"), latency_ms=2300)]
    payload = trail_payload(88, steps, "succeeded")
    assert payload["text"] == "Trail of run #88"
    blocks = valid_blocks(payload["blocks"])
    assert blocks[0]["text"]["text"] == "*Trail of run #88* · succeeded"
    assert blocks[1]["text"]["text"] == (
        "` 1` *tool* search_decisions · 120 ms · $0.00\n      3 results\n` 2` *llm* strong · 2300 ms · $0.0042"
    )
    assert blocks[-1]["elements"][0]["text"] == "Full detail: `lumen runs show 88`"
    assert len(valid_blocks(trail_blocks(88, [], "queued"))) == 2  # a run with no steps yet


def test_trail_escapes_step_names_and_summaries() -> None:
    assert_escaped(texts(trail_blocks(88, [_step(1, kind=HOSTILE, name=HOSTILE, summary=HOSTILE)], "failed")))


def test_two_hundred_steps_are_chunked_within_the_block_limit() -> None:
    """A long run is split over sections of under 3000 characters; past 50 blocks the rest is
    left to `lumen runs show`, and the footer still says so."""
    steps = [_step(i, summary=f"step {i} " + "&" * 400) for i in range(1, 201)]
    blocks = valid_blocks(trail_blocks(88, steps, "succeeded"))
    assert len(blocks) == MAX_BLOCKS_MESSAGE
    assert blocks[-1]["elements"][0]["text"] == "Full detail: `lumen runs show 88`"
    short = valid_blocks(trail_blocks(88, [_step(i) for i in range(1, 201)], "succeeded"))
    assert all(f"`{i:>2}` *tool*" in texts(short) for i in range(1, 201))  # short steps: every one shown


def test_a_huge_first_step_does_not_produce_an_empty_section() -> None:
    valid_blocks(trail_blocks(88, [_step(1, name="n" * 2_900), _step(2)], "failed"))
