"""The provider path end to end: `LUMEN_MODEL_STRONG=openai/…` through litellm over HTTP.

The running stack (dev workspace + replica) with its tiers set to an OpenAI-compatible stub:
`/lumen wake` → the worker → litellm's OpenAI client → the stub's tool call → a stored
decision, its spend row, and its card in the channel.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.domain.ask_human import ASK_HUMAN
from lumen.settings import Settings
from lumen.db.models import Decision, DecisionStatus, RunStatus, Spend
from lumen.llm._litellm import litellm
from lumen.container import Container
from tests.engine.helpers import all_rows, block_text, decision_ids_posted, eventually, get_run, steps_of
from tests.support.openai_stub import OpenAIStub, tool_call

PRICED_MODEL = "openai/lumen-e2e-priced"  # $2 per million prompt tokens, $8 per million completion
PRICE_IN, PRICE_OUT = Decimal("0.000002"), Decimal("0.000008")

ARGUMENTS = {
    "decisions": [
        {
            "category": "research",
            "title": "Interview eight agency owners about client handoffs",
            "rationale": "We still guess which handoff step hurts most.",
            "expected_effect": "A ranked list of the three worst handoff steps",
            "amount_usd": None,
        }
    ],
    "summary": "Learn before building.",
}


@pytest.fixture
def priced_model() -> str:
    litellm().register_model(
        {
            PRICED_MODEL: {
                "input_cost_per_token": float(PRICE_IN),
                "output_cost_per_token": float(PRICE_OUT),
                "litellm_provider": "openai",
                "mode": "chat",
            }
        }
    )
    return PRICED_MODEL


async def test_a_wake_up_on_a_real_provider_stores_posts_and_pays_for_its_decision(
    container: Container, stub: OpenAIStub, stub_settings: Settings, open_stack, priced_model: str
) -> None:
    db = container.db
    stub.set_default(tool_call(PROPOSE_DECISIONS, ARGUMENTS))
    async with open_stack(model_strong=priced_model, model_fast=priced_model, model_api_base=stub.base_url) as stack:
        ws = stack.workspace
        await ws.slash_command("U0ALICE", "venture-brightbox", "/lumen", "wake brightbox ceo")
        [decision_id] = await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-brightbox")), timeout=15)
        [card] = [m for m in ws.messages("venture-brightbox") if not m.is_reply and m.bot_id]

        # What went over the wire: litellm's OpenAI request, made to call a tool: decide, or ask a human.
        [request] = stub.requests
        assert request.path == "/v1/chat/completions" and request.model == "lumen-e2e-priced"
        assert request.headers["Authorization"] == "Bearer sk-lumen-test-not-a-key"
        assert [t["function"]["name"] for t in request.body["tools"]] == [PROPOSE_DECISIONS, ASK_HUMAN]
        assert request.body["tool_choice"] == "required"
        assert request.messages[0]["role"] == "system" and "ceo agent of Brightbox Studio" in request.messages[0]["content"]
        assert "<lumen-context>" in request.messages[1]["content"]

        # The decision, as stored.
        [decision] = await all_rows(db, Decision)
        assert decision.id == decision_id
        assert (decision.title, decision.category, decision.status) == (
            "Interview eight agency owners about client handoffs",
            "research",
            DecisionStatus.EXECUTED,
        )
        assert decision.rationale == "We still guess which handoff step hurts most."
        # The spend row: real token counts from the provider's usage, priced by the registered rate.
        [spend] = await eventually(lambda: all_rows(db, Spend), timeout=5)
        assert spend.model == priced_model and spend.settled and spend.purpose == "decide"
        assert spend.prompt_tokens > 100 and spend.completion_tokens > 10
        assert spend.cost_usd == spend.prompt_tokens * PRICE_IN + spend.completion_tokens * PRICE_OUT
        assert (spend.run_id, spend.agent_id, spend.venture_id) == (decision.run_id, decision.agent_id, decision.venture_id)
        run = await get_run(db, decision.run_id)
        assert run.status == RunStatus.SUCCEEDED and run.cost_usd == spend.cost_usd
        llm = (await steps_of(db, run.id))[1].output
        assert llm["model"] == priced_model
        assert json.loads(llm["tool_arguments"]) == ARGUMENTS
        assert (llm["prompt_tokens"], llm["completion_tokens"]) == (spend.prompt_tokens, spend.completion_tokens)

        # The card in the channel names the model and what the decision cost.
        shown = block_text(card.blocks)
        assert decision.title in shown and "`research`" in shown and "ceo agent" in shown
        assert priced_model in shown
        assert f"cost ${spend.cost_usd:.4f}" in shown or f"cost ${spend.cost_usd:.2f}" in shown
