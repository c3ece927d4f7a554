"""Gates the proposer cannot dodge: a wake-up whose model mislabels what it proposes, through
litellm over HTTP to a stub whose strong tier proposes and whose fast tier reads."""

from __future__ import annotations

import pytest

from lumen.container import Container
from lumen.db.models import Approval, Decision, DecisionStatus, RunStatus, Spend
from lumen.domain.gate_check import CLASSIFY_DECISION
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.settings import Settings
from tests.engine.helpers import all_rows, block_text, eventually, get_run, steps_of
from tests.support.openai_stub import OpenAIStub, error, invalid_json_tool_call, tool_call

STRONG, FAST = "openai/gate-strong", "openai/gate-fast"


def proposal(*decisions: dict) -> dict:
    return {"decisions": list(decisions), "summary": "This week's moves."}


def move(category: str, title: str, amount: float | None = None, effect: str = "") -> dict:
    return {"category": category, "title": title, "rationale": "It should help.", "expected_effect": effect, "amount_usd": amount}


async def _wake_and_settle(stack, db, expected_approvals: int) -> list[Approval]:  # type: ignore[no-untyped-def]
    await stack.workspace.slash_command("U0ALICE", "venture-brightbox", "/lumen", "wake brightbox ceo")
    return await eventually(lambda: _approvals(db, expected_approvals), timeout=20)


async def _approvals(db, n: int) -> list[Approval] | None:  # type: ignore[no-untyped-def]
    rows = await all_rows(db, Approval)
    return rows if len(rows) >= n and all(r.message_ts for r in rows) else None


async def test_mislabelled_moves_meet_the_gate_their_words_call_for(
    container: Container, stub: OpenAIStub, stub_settings: Settings, open_stack
) -> None:
    db = container.db
    stub.set_default(
        tool_call(
            PROPOSE_DECISIONS,
            proposal(
                move("marketing", "Book a $2,400 booth at the regional SaaS expo"),
                move("resource_allocation", "Bring on a freelance copywriter for the launch pages"),
                move("growth_hack", "Rewrite the onboarding emails"),
                move("content", "Move the Pro tier from 29 to 39 a month"),
                move("research", "Interview eight agency owners about client handoffs"),
            ),
        ),
        model="gate-strong",
    )
    stub.set_default(tool_call(CLASSIFY_DECISION, {"kinds": ["pricing_change"], "amount_usd": 39}), model="gate-fast")
    async with open_stack(model_strong=STRONG, model_fast=FAST, model_api_base=stub.base_url) as stack:
        approvals = await _wake_and_settle(stack, db, 4)
        decisions = {d.ordinal: d for d in await all_rows(db, Decision)}
        gated = {a.decision_id for a in approvals}
        assert {o for o, d in decisions.items() if d.id in gated} == {0, 1, 2, 3}
        assert decisions[4].status == DecisionStatus.EXECUTED

        # Only the move the rules could not tell about went to the fast model, once.
        [read] = stub.requests_for("gate-fast")
        assert "Move the Pro tier" in read.messages[-1]["content"]
        run = await get_run(db, decisions[0].run_id)
        assert run.status == RunStatus.AWAITING_APPROVAL
        names = [s.name for s in await steps_of(db, run.id)]
        assert "gate_check:3" in names and "gate_check:0" not in names
        spends = await eventually(lambda: _settled(db), timeout=5)
        assert sorted(s.purpose for s in spends) == ["decide", "gate_check"]

        # Each card says why a human sees it when its label would have let it through.
        by_decision = {a.decision_id: a for a in approvals}
        cards = {
            o: block_text(_card(stack, by_decision[d.id].message_ts))
            for o, d in decisions.items() if d.id in by_decision
        }
        assert "Gated as resource_allocation" in cards[0] and "labelled marketing" in cards[0] and "$2,400" in cards[0]
        assert "without saying how much" in cards[1]
        assert "Gated as" not in cards[2]  # a category nobody judged is gated as itself: no surprise to explain
        assert "Gated as pricing_change" in cards[3] and "read by the fast model" in cards[3]


def _card(stack, ts: str | None) -> list:  # type: ignore[no-untyped-def]
    [message] = [m for m in stack.workspace.messages("venture-brightbox") if m.ts == ts]
    return message.blocks


async def _settled(db) -> list[Spend] | None:  # type: ignore[no-untyped-def]
    rows = await all_rows(db, Spend)
    return rows if len(rows) >= 2 and all(r.settled for r in rows) else None


@pytest.mark.parametrize("answer", ["garbage", "down"])
async def test_a_reading_that_fails_sends_the_move_to_a_human_and_the_run_goes_on(
    container: Container, stub: OpenAIStub, stub_settings: Settings, open_stack, answer: str
) -> None:
    db = container.db
    stub.set_default(tool_call(PROPOSE_DECISIONS, proposal(move("content", "Move the Pro tier from 29 to 39 a month"))), model="gate-strong")
    broken = invalid_json_tool_call(CLASSIFY_DECISION) if answer == "garbage" else error(503)
    stub.set_default(broken, model="gate-fast")
    async with open_stack(model_strong=STRONG, model_fast=FAST, model_api_base=stub.base_url) as stack:
        [approval] = await _wake_and_settle(stack, db, 1)
        card = block_text(_card(stack, approval.message_ts))
        assert "its kind could not be checked" in card
        run = await get_run(db, approval.run_id)
        assert run.status == RunStatus.AWAITING_APPROVAL
