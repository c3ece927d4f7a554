"""Messages about agents: paused by the circuit breaker or the budget, spend per agent, paused by hand."""

from __future__ import annotations

from decimal import Decimal

from lumen.render.agents import agents_changed_text, breaker_tripped_payload, budget_blocks, budget_paused_payload
from tests.render.support import HOSTILE, assert_escaped, texts, valid_blocks


def test_breaker_message_says_what_was_paused_why_and_how_to_resume() -> None:
    payload = breaker_tripped_payload("acme", "ceo", 3, f"Timeout calling the model {HOSTILE}")
    blocks = valid_blocks(payload["blocks"])
    assert payload["text"] == "⏸️ Paused the ceo agent of acme after 3 failed runs in a row."
    shown = texts(blocks)
    assert "Last failure: Timeout calling the model" in shown
    assert "`/lumen resume acme ceo`" in shown
    assert_escaped(shown)  # an error message can quote model output


def test_breaker_message_clips_a_huge_traceback() -> None:
    blocks = valid_blocks(breaker_tripped_payload("acme", "ceo", 5, "Traceback line\n" * 5_000)["blocks"])
    assert blocks[0]["text"]["text"].endswith("…")


def test_budget_paused_message_names_the_setting_and_escapes_the_reason() -> None:
    payload = budget_paused_payload("acme", "cmo", f"Spent $50.00 of $50.00 {HOSTILE}")
    blocks = valid_blocks(payload["blocks"])
    assert payload["text"] == "💸 Paused the cmo agent of acme: its monthly budget is spent."
    shown = texts(blocks)
    assert "`budget_usd_month`" in shown and "`/lumen resume acme cmo`" in shown
    assert_escaped(shown)
    valid_blocks(budget_paused_payload("acme", "cmo", "x" * 50_000)["blocks"])


def test_budget_blocks_colour_each_agent_by_how_much_is_spent() -> None:
    rows = [
        ("acme", "ceo", "active", Decimal("10"), Decimal("100")),
        ("acme", "cmo", "active", Decimal("85"), Decimal("100")),
        ("acme", "cfo", "paused", Decimal("100"), Decimal("100")),
        ("brightbox", "ceo", "active", Decimal("0.0042"), Decimal("0")),
    ]
    lines = texts(valid_blocks(budget_blocks(rows, "2026-03"))).splitlines()
    assert lines[0] == "*Spend this month (2026-03)*"
    assert lines[1] == "🟩 *acme/ceo* · $10.00 of $100.00 (10%) · active"
    assert lines[2] == "🟨 *acme/cmo* · $85.00 of $100.00 (85%) · active"
    assert lines[3] == "🟥 *acme/cfo* · $100.00 of $100.00 (100%) · paused"
    assert lines[4] == "🟩 *brightbox/ceo* · $0.0042 of $0.00 (no budget) · active"


def test_budget_blocks_without_agents_and_with_hostile_or_many_names() -> None:
    assert "_No agents._" in texts(valid_blocks(budget_blocks([], "2026-03")))
    assert_escaped(texts(budget_blocks([(HOSTILE, HOSTILE, "active", Decimal(1), Decimal(2))], "2026-03")))
    # 300 agents do not fit one section: clipped, not refused by Slack.
    many = [(f"venture{i}", "ceo", "active", Decimal(i), Decimal(100)) for i in range(300)]
    valid_blocks(budget_blocks(many, "2026-03"))


def test_agents_changed_text_names_who_did_what() -> None:
    assert agents_changed_text("paused", "Acme Analytics", ["ceo", "cmo"], "U0ALICE") == "<@U0ALICE> paused Acme Analytics: ceo, cmo."
    assert agents_changed_text("resumed", "Acme Analytics", [], "U0ALICE") == "<@U0ALICE> resumed Acme Analytics: no agents."


def test_a_stopped_loop_says_who_woke_whom_and_who_was_not_woken() -> None:
    from lumen.render.agents import chain_stopped_payload

    chain = ["acme/cmo#11", "acme/ceo#12", "acme/cmo#13"]
    payload = chain_stopped_payload("acme", chain, "acme/ceo", 3, 2)
    blocks = valid_blocks(payload["blocks"])
    assert payload["text"] == "🔁 Stopped a loop of wake-ups in acme: acme/ceo was not woken again."
    shown = texts(blocks)
    assert "acme/cmo#11 → acme/ceo#12 → acme/cmo#13 → ~acme/ceo~" in shown
    assert "No model was called" in shown and "LUMEN_CHAIN_DEPTH" in shown


def test_a_stopped_chain_that_is_no_loop_says_chain_and_clips_a_long_one() -> None:
    from lumen.render.agents import chain_stopped_payload

    chain = [f"acme/role{n}#{n}" for n in range(500)]
    payload = chain_stopped_payload("acme", chain, "acme/last", 501, 500)
    assert payload["text"].startswith("🔁 Stopped a chain of wake-ups in acme")
    valid_blocks(payload["blocks"])
