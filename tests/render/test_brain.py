"""A venture's brain, the weekly brain summary, and platform insights, as people read them in Slack."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from lumen.domain.attribution import VersionScore
from lumen.render.brain import BrainView, WeeklySummary, brain_blocks, insights_blocks, weekly_summary_blocks, weekly_summary_text
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, assert_escaped, texts, valid_blocks

BUILT = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


def _brain(**overrides: object) -> BrainView:
    base: dict[str, object] = {
        "venture_name": "Acme Analytics",
        "venture_slug": "acme",
        "version": 3,
        "created_at": BUILT,
        "sections": {
            "principles": [{"text": "Talk to customers before building", "decision_ids": [4, 9]}],
            "worked": [{"text": "Podcast sponsorships", "decision_ids": [12]}],
        },
        "summary": "Acme learns that onboarding matters most.",
        "latest_version": 3,
    }
    return BrainView(**(base | overrides))  # type: ignore[arg-type]


def _score(version: int | None, *, outcomes: int, successes: int, gated: int = 0, approved: int = 0) -> VersionScore:
    return VersionScore(
        brain_version=version, decisions=10, with_outcome=outcomes, successes=successes,
        failures=outcomes - successes, gated=gated, approved=approved, cost_usd=Decimal("1.5"),
    )


def _weekly(**overrides: object) -> WeeklySummary:
    base: dict[str, object] = {
        "venture_name": "Acme Analytics",
        "venture_slug": "acme",
        "version": 4,
        "week": "2026-W10",
        "diff_lines": ["+ principles: Talk to customers first", "- worked: Cold email"],
        "stats": {
            "decisions": {"executed": 3, "awaiting_approval": 1},
            "approvals": {"approved": 1},
            "outcomes": {},
            "spend_usd": "12.5",
        },
        "scores": [_score(None, outcomes=2, successes=1), _score(3, outcomes=5, successes=4, gated=4, approved=3)],
        "summary": "A quieter week.",
    }
    return WeeklySummary(**(base | overrides))  # type: ignore[arg-type]


def test_brain_shows_every_section_with_its_citations() -> None:
    blocks = valid_blocks(brain_blocks(_brain()))
    assert blocks[0]["text"]["text"] == "🧠 Acme Analytics · brain v3"
    assert blocks[1]["elements"][0]["text"] == "Acme learns that onboarding matters most."
    shown = texts(blocks)
    assert "*🧭 Principles*\n• Talk to customers before building _(#4, #9)_" in shown
    assert "*✅ What worked*\n• Podcast sponsorships _(#12)_" in shown
    for title in ("❌ What failed", "🎲 Open bets", "❓ Questions"):
        assert f"*{title}*\n_nothing yet_" in shown
    assert "Built 2026-03-02 06:00 UTC" in shown and "`lumen brain diff acme N M`" in shown


def test_an_older_brain_version_points_at_the_latest() -> None:
    assert brain_blocks(_brain(version=2, latest_version=5))[0]["text"]["text"] == "🧠 Acme Analytics · brain v2 (latest is v5)"


def test_an_empty_brain_is_valid_and_says_nothing_yet() -> None:
    blocks = valid_blocks(brain_blocks(_brain(sections={}, summary="")))
    assert texts(blocks).count("_nothing yet_") == 5
    assert len(blocks) == 7  # header, five sections, footer: no empty summary line


def test_brain_escapes_statements_and_summary() -> None:
    blocks = brain_blocks(_brain(sections={"questions": [{"text": HOSTILE, "decision_ids": [1]}]}, summary=HOSTILE))
    assert f"• {HOSTILE_ESCAPED} _(#1)_" in texts(blocks)
    assert blocks[1]["elements"][0]["text"] == HOSTILE_ESCAPED
    assert_escaped(texts(blocks))


def test_a_huge_brain_is_clipped_within_limits() -> None:
    statement = {"text": "A long-winded lesson & more " * 30, "decision_ids": list(range(50))}
    sections = {key: [statement] * 100 for key in ("principles", "worked", "failed", "open_bets", "questions")}
    valid_blocks(brain_blocks(_brain(venture_name="V" * 300, sections=sections, summary="<&>" * 5_000)))


def test_weekly_summary_shows_the_week_the_changes_and_each_version() -> None:
    summary = _weekly()
    blocks = valid_blocks(weekly_summary_blocks(summary))
    assert blocks[0]["text"]["text"] == "🧠 Acme Analytics · weekly brain v4 · 2026-W10"
    shown = texts(blocks)
    assert "*Decisions*\n1 awaiting approval, 3 executed" in shown
    assert "*Approvals*\n1 approved" in shown and "*Outcomes*\nnone" in shown and "*Spend*\n$12.50" in shown
    assert "*What changed since v3*\n+ principles: Talk to customers first\n- worked: Cold email" in shown
    assert "• before any brain: too few outcomes to judge yet (2 so far; 5 needed)" in shown
    assert "• v3: 10 decisions · *80%* success (4 of 5) · 75% approved · $1.50" in shown
    assert "`/lumen brain acme` shows the whole brain." in shown
    assert weekly_summary_text(summary) == "Acme Analytics: weekly brain v4 (2026-W10)"


def test_thin_versions_are_pooled_until_they_can_be_judged() -> None:
    scores = [
        _score(None, outcomes=3, successes=1),
        _score(1, outcomes=2, successes=2, gated=2, approved=2),
        _score(2, outcomes=2, successes=1),
        _score(3, outcomes=3, successes=2),  # v1–v3 together: 7 outcomes
        _score(4, outcomes=6, successes=3),  # enough on its own
        _score(5, outcomes=1, successes=1),
        _score(6, outcomes=2, successes=0),  # v5–v6: still too few
    ]
    shown = texts(valid_blocks(weekly_summary_blocks(_weekly(scores=scores))))
    assert "• before any brain: too few outcomes to judge yet (3 so far; 5 needed)" in shown
    assert "• v1–v3: 30 decisions · *71%* success (5 of 7) · 100% approved · $4.50" in shown
    assert "• v4: 10 decisions · *50%* success (3 of 6) · $1.50" in shown
    assert "• v5–v6: too few outcomes to judge yet (3 so far; 5 needed)" in shown


def test_the_chart_is_an_image_of_the_uploaded_file_with_its_numbers_in_the_alt_text() -> None:
    alt = "Acme Analytics: success rate and spend per brain version: v3 80% of 5, $1.50"
    blocks = valid_blocks(weekly_summary_blocks(_weekly(chart_file="F0CHART", chart_alt=alt)))
    [image] = [b for b in blocks if b["type"] == "image"]
    assert image["slack_file"] == {"id": "F0CHART"} and image["alt_text"] == alt
    # The numbers are in the message's words too: the image is never the only place.
    assert "• v3: 10 decisions · *80%* success (4 of 5)" in texts(blocks)
    assert not [b for b in weekly_summary_blocks(_weekly()) if b["type"] == "image"]


def test_a_quiet_week_is_valid_and_says_so() -> None:
    shown = texts(valid_blocks(weekly_summary_blocks(_weekly(diff_lines=[], stats={}, scores=[], summary=""))))
    assert "_No change in the brain this week._" in shown
    assert "*Decisions*\nnone" in shown and "*Spend*\n$0.00" in shown
    assert "\n—" in shown  # an empty summary still gives the context block some text


def test_a_busy_week_lists_25_changes_and_points_at_the_rest() -> None:
    diff = [f"+ principles: lesson {i} " + "x" * 200 for i in range(200)]
    scores = [_score(v, outcomes=9, successes=5) for v in range(1, 101)]
    blocks = valid_blocks(weekly_summary_blocks(_weekly(diff_lines=diff, scores=scores, summary=HOSTILE * 200)))
    changes = blocks[2]["text"]["text"]
    assert "lesson 0 " in changes and "lesson 25 " not in changes
    assert_escaped(texts(valid_blocks(weekly_summary_blocks(_weekly(diff_lines=[HOSTILE], summary=HOSTILE)))))
    few = weekly_summary_blocks(_weekly(diff_lines=[f"+ line {i}" for i in range(30)]))[2]["text"]["text"]
    assert "+ line 24\n" in few and "+ line 25" not in few
    assert few.endswith("…and 5 more: `lumen brain diff acme 3 4`")


def test_insights_are_escaped_with_at_most_eight_citations() -> None:
    insights = [{"text": HOSTILE, "decision_ids": list(range(1, 20))}]
    blocks = valid_blocks(insights_blocks(2, "2026-W10", insights, "Across ventures."))
    assert blocks[0]["text"]["text"] == "🌐 Platform insights v2 · 2026-W10"
    assert f"• {HOSTILE_ESCAPED} _(#1, #2, #3, #4, #5, #6, #7, #8)_" in texts(blocks)
    assert_escaped(texts(blocks))


def test_no_insights_yet_and_too_many_insights() -> None:
    blocks = valid_blocks(insights_blocks(1, None, [], ""))
    assert blocks[0]["text"]["text"] == "🌐 Platform insights v1"
    assert "_No lesson holds across ventures yet._" in texts(blocks)
    many = [{"text": "A lesson that holds everywhere " * 10, "decision_ids": [1, 2]}] * 100
    valid_blocks(insights_blocks(9, "2026-W10", many, "S" * 10_000))
