"""A call that offers the model several tools: it must call one, and Lumen reads which, through
real litellm over HTTP to the OpenAI-compatible stub."""

from __future__ import annotations

from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions
from lumen.domain.ask_human import ASK_HUMAN, AskHuman
from lumen.llm import Attribution
from tests.support.openai_stub import OpenAIStub, tool_call

CONTEXT = [{"role": "user", "content": "Decide what the venture does next, or ask."}]
QUESTION = {"question": "Is the March launch date fixed?", "options": ["Fixed", "Can move"]}


async def test_the_model_picks_one_of_the_tools_and_its_own_schema_validates_it(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.enqueue(
        tool_call("delete_everything", {"now": True}),  # not offered: refused, named choices given
        tool_call(ASK_HUMAN, {"question": "Is the March launch date fixed?", "options": ["Fixed", "fixed"]}),
        tool_call(ASK_HUMAN, QUESTION),
    )
    result = await make_gateway().call_tool(
        "strong",
        CONTEXT,
        tool_model=ProposeDecisions,
        tool_name=PROPOSE_DECISIONS,
        attribution=attribution,
        alternatives={ASK_HUMAN: AskHuman},
    )
    assert result.tool_name == ASK_HUMAN and isinstance(result.value, AskHuman)
    assert result.value.options == ["Fixed", "Can move"]
    assert [r.split(":")[0] for r in result.invalid_outputs] == [
        "the model answered without calling `propose_decisions` or `ask_human`",
        "the arguments do not match the schema",
    ]
    assert "two options are the same" in result.invalid_outputs[1]
    first = stub.requests[0].body
    assert [t["function"]["name"] for t in first["tools"]] == [PROPOSE_DECISIONS, ASK_HUMAN]
    assert first["tool_choice"] == "required"
    assert "Call `propose_decisions` or `ask_human` again" in stub.requests[1].messages[-1]["content"]


async def test_offered_one_tool_the_call_is_forced_as_before(stub: OpenAIStub, make_gateway, attribution: Attribution) -> None:
    stub.enqueue(tool_call(ASK_HUMAN, QUESTION), tool_call(PROPOSE_DECISIONS, {"decisions": []}))
    result = await make_gateway().call_tool(
        "strong", CONTEXT, tool_model=ProposeDecisions, tool_name=PROPOSE_DECISIONS, attribution=attribution
    )
    assert result.tool_name == PROPOSE_DECISIONS and isinstance(result.value, ProposeDecisions)
    assert result.invalid_outputs == ("the model answered without calling `propose_decisions`",)
    assert stub.requests[0].body["tool_choice"] == {"type": "function", "function": {"name": PROPOSE_DECISIONS}}
