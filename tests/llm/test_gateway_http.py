"""The gateway against a real OpenAI-compatible server over HTTP, through real litellm."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions
from lumen.db.models import Spend
from lumen.db.session import Database
from lumen.llm import Attribution, InvalidModelOutput, LLMUnavailable
from tests.support.openai_stub import (
    OpenAIStub,
    error,
    invalid_json_tool_call,
    rate_limited,
    slow,
    text,
    tool_call,
)

from .conftest import PRICE_IN, PRICE_OUT

HELLO = [{"role": "user", "content": "Say hello."}]
VALID = {
    "decisions": [{"category": "marketing", "title": "Launch a landing page"}],
    "summary": "one step",
}


async def _spend(db: Database) -> list[Spend]:
    async with db.sessions() as session:
        return list((await session.execute(select(Spend).order_by(Spend.id))).scalars())


async def test_answer_cost_and_tokens_land_in_the_ledger(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution, priced_model: str
) -> None:
    stub.enqueue(text("Hello from the stub.", prompt_tokens=1000, completion_tokens=500))
    result = await make_gateway(strong=(priced_model,)).complete(
        "strong", HELLO, attribution=attribution
    )

    assert result.text == "Hello from the stub."
    assert result.model == priced_model
    assert (result.prompt_tokens, result.completion_tokens) == (1000, 500)
    expected = 1000 * PRICE_IN + 500 * PRICE_OUT
    assert result.cost_usd == expected
    [request] = stub.requests
    assert request.path == "/v1/chat/completions" and request.model == "lumen-stub-priced"
    assert request.messages == HELLO and result.messages == HELLO
    [row] = await _spend(db)
    assert row.settled and row.cost_usd == expected
    assert (row.prompt_tokens, row.completion_tokens) == (1000, 500)
    assert row.model == priced_model and row.purpose == "decide"
    assert (row.run_id, row.agent_id, row.venture_id) == (
        attribution.run_id,
        attribution.agent_id,
        attribution.venture_id,
    )
    assert row.latency_ms == result.latency_ms


async def test_429_waits_for_retry_after_then_succeeds(
    db: Database, stub: OpenAIStub, make_gateway, sleeps, attribution: Attribution
) -> None:
    stub.enqueue(rate_limited("2"), text("after the pause"))
    result = await make_gateway().complete("strong", HELLO, attribution=attribution)
    assert result.text == "after the pause" and result.model == "openai/stub-a"
    assert sleeps == [2.0]
    assert [a.ok for a in result.attempts] == [False, True]
    assert "429" in (result.attempts[0].error or "")
    rows = await _spend(db)
    assert [r.settled for r in rows] == [True, True] and rows[0].cost_usd == 0


async def test_429_really_sleeps_the_retry_after(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.enqueue(rate_limited("1"), text("ok"))
    started = time.monotonic()
    await make_gateway(real_sleep=True).complete("strong", HELLO, attribution=attribution)
    assert time.monotonic() - started >= 0.95
    assert stub.requests[1].at - stub.requests[0].at >= 0.95


async def test_5xx_backs_off_then_falls_back_to_the_next_model(
    db: Database, stub: OpenAIStub, make_gateway, sleeps, attribution: Attribution
) -> None:
    stub.set_default(error(500), model="stub-a")
    stub.set_default(text("the fallback answers"), model="stub-b")
    result = await make_gateway().complete("strong", HELLO, attribution=attribution)
    assert result.model == "openai/stub-b" and result.text == "the fallback answers"
    assert len(stub.requests_for("stub-a")) == 3 and len(stub.requests_for("stub-b")) == 1
    # Exponential backoff with jitter between the three tries of stub-a.
    assert len(sleeps) == 2
    assert 0.025 <= sleeps[0] <= 0.05 and 0.05 <= sleeps[1] <= 0.1
    assert len(await _spend(db)) == 4


async def test_a_non_transient_error_falls_back_without_retrying(
    stub: OpenAIStub, make_gateway, sleeps, attribution: Attribution
) -> None:
    stub.set_default(error(401), model="stub-a")
    result = await make_gateway().complete("strong", HELLO, attribution=attribution)
    assert result.model == "openai/stub-b"
    assert len(stub.requests_for("stub-a")) == 1 and sleeps == []


async def test_all_models_failing_raises_llm_unavailable_with_the_last_reason(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.set_default(error(503))
    with pytest.raises(LLMUnavailable) as caught:
        await make_gateway(max_attempts_per_model=2).complete(
            "strong", HELLO, attribution=attribution
        )
    error_ = caught.value
    assert error_.models == ("openai/stub-a", "openai/stub-b")
    assert "openai/stub-b" in error_.last_reason and "503" in error_.last_reason
    assert "openai/stub-a, openai/stub-b" in str(error_) and "4 calls" in str(error_)
    assert len(error_.attempts) == 4 and len(stub.requests) == 4
    assert all(r.settled and r.cost_usd == 0 for r in await _spend(db))


async def test_a_slow_model_times_out_and_is_retried(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.enqueue(slow(1.5, model="stub-a"), text("quick now", model="stub-a"))
    started = time.monotonic()
    result = await make_gateway(timeout_s=0.3).complete("strong", HELLO, attribution=attribution)
    assert time.monotonic() - started < 1.2
    assert result.text == "quick now" and result.model == "openai/stub-a"
    assert "timed out after 0.3s" in (result.attempts[0].error or "")


async def test_timeouts_everywhere_end_in_llm_unavailable(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.set_default(slow(1.0))
    with pytest.raises(LLMUnavailable, match="timed out after 0.2s"):
        await make_gateway(
            strong=("openai/stub-a",), timeout_s=0.2, max_attempts_per_model=2
        ).complete("strong", HELLO, attribution=attribution)
    assert len(stub.requests) == 2


async def test_concurrency_limit_per_model_is_respected(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.set_default(slow(0.15, "ok"))
    gateway = make_gateway(strong=("openai/stub-a",), max_concurrency_per_model=2)
    results = await asyncio.gather(
        *(gateway.complete("strong", HELLO, attribution=attribution) for _ in range(6))
    )
    assert [r.text for r in results] == ["ok"] * 6
    assert stub.max_in_flight == 2


async def test_tool_call_arguments_are_validated(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.enqueue(tool_call(PROPOSE_DECISIONS, VALID))
    result = await make_gateway().call_tool(
        "strong",
        HELLO,
        tool_model=ProposeDecisions,
        tool_name=PROPOSE_DECISIONS,
        attribution=attribution,
    )
    assert isinstance(result.value, ProposeDecisions)
    assert result.value.decisions[0].title == "Launch a landing page"
    assert result.tool_name == PROPOSE_DECISIONS and '"marketing"' in (result.tool_arguments or "")
    body = stub.requests[0].body
    assert body["tools"][0]["function"]["name"] == PROPOSE_DECISIONS
    assert body["tool_choice"] == {"type": "function", "function": {"name": PROPOSE_DECISIONS}}


async def test_invalid_tool_output_is_corrected_once_then_accepted(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    stub.enqueue(invalid_json_tool_call(PROPOSE_DECISIONS), tool_call(PROPOSE_DECISIONS, VALID))
    result = await make_gateway().call_tool(
        "strong",
        HELLO,
        tool_model=ProposeDecisions,
        tool_name=PROPOSE_DECISIONS,
        attribution=attribution,
    )
    assert result.value is not None and len(result.attempts) == 2
    assert len(result.invalid_outputs) == 1 and "not valid JSON" in result.invalid_outputs[0]
    # The second request showed the model its answer and what was wrong with it.
    second = stub.requests[1].messages
    assert second[:1] == HELLO
    assert second[1]["role"] == "assistant" and second[1]["tool_calls"]
    assert second[2]["role"] == "tool" and "not valid JSON" in second[2]["content"]
    assert [m["role"] for m in result.messages] == [m["role"] for m in second]
    assert result.messages[2]["tool_call_id"] == second[1]["tool_calls"][0]["id"]


async def test_invalid_tool_output_three_times_raises_with_the_reason(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution, priced_model: str
) -> None:
    stub.enqueue(
        invalid_json_tool_call(PROPOSE_DECISIONS),
        tool_call(PROPOSE_DECISIONS, {"decisions": [{"category": "Bad Cat", "title": "ok!"}]}),
        text("I would rather not call tools."),
        tool_call(PROPOSE_DECISIONS, VALID),  # never reached
    )
    with pytest.raises(InvalidModelOutput) as caught:
        await make_gateway(strong=(priced_model,)).call_tool(
            "strong",
            HELLO,
            tool_model=ProposeDecisions,
            tool_name=PROPOSE_DECISIONS,
            attribution=attribution,
            max_invalid_retries=2,
        )
    error_ = caught.value
    assert len(stub.requests) == 3
    assert "without calling `propose_decisions`" in error_.reason
    assert error_.model == priced_model and len(error_.attempts) == 3
    assert "after 3 calls" in str(error_)
    assert "decisions.0.category" in stub.requests[2].messages[-1]["content"]
    # The refused answers were paid for, and the ledger says so.
    rows = await _spend(db)
    assert len(rows) == 3 and all(r.settled and r.cost_usd > 0 for r in rows)
    assert error_.cost_usd == sum((r.cost_usd for r in rows), Decimal(0))


async def test_api_base_also_serves_the_path_without_v1(
    stub: OpenAIStub, make_gateway, attribution: Attribution
) -> None:
    gateway = make_gateway(api_base=stub.base_url.removesuffix("/v1"))
    result = await gateway.complete("fast", HELLO, attribution=attribution)
    assert result.text == "stub answer" and stub.requests[0].path == "/chat/completions"
