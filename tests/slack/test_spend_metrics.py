"""Spend, tokens and calls on /metrics, by venture, agent, model and purpose."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest
from sqlalchemy import select, update

from lumen.db.models import Agent, Venture
from lumen.devmode import DevStack
from lumen.llm import Attribution, BudgetExceeded, Gateway, GatewayOptions, ModelTiers
from lumen.llm._litellm import litellm
from tests.slack.support import metric_value
from tests.support.openai_stub import OpenAIStub, text

MODEL = "openai/lumen-stub-metrics"


async def _metrics(stack: DevStack) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.app_url}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


async def test_spend_tokens_and_calls_are_counted_by_venture_agent_model_and_purpose(stack: DevStack, stub: OpenAIStub) -> None:
    litellm().register_model(
        {MODEL: {"input_cost_per_token": 1e-5, "output_cost_per_token": 3e-5, "litellm_provider": "openai", "mode": "chat"}}
    )
    stub.set_default(text("an answer", prompt_tokens=1000, completion_tokens=200))
    db = stack.container.db
    async with db.sessions() as session:
        ceo = await session.scalar(select(Agent).join(Venture).where(Venture.slug == "acme", Agent.role == "ceo"))
    who = Attribution(purpose="decide", agent_id=ceo.id, venture_id=ceo.venture_id)
    labels = {"venture": "acme", "agent": "ceo", "model": MODEL, "purpose": "decide"}
    gateway = Gateway(db, ModelTiers(strong=(MODEL,)), GatewayOptions(api_base=stub.base_url, timeout_s=5, max_output_tokens=300))

    before = await _metrics(stack)
    for _ in range(2):
        await gateway.complete("strong", [{"role": "user", "content": "hi"}], attribution=who)
    async with db.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == ceo.id).values(budget_usd_month=Decimal("0.0001")))
    with pytest.raises(BudgetExceeded):
        await gateway.complete("strong", [{"role": "user", "content": "hi"}], attribution=who)
    after = await _metrics(stack)

    def delta(name: str, **extra: str) -> float:
        return metric_value(after, name, labels | extra) - metric_value(before, name, labels | extra)

    assert delta("lumen_llm_spend_usd_total") == pytest.approx(2 * (1000 * 1e-5 + 200 * 3e-5))
    assert delta("lumen_llm_tokens_total", kind="prompt") == 2000
    assert delta("lumen_llm_tokens_total", kind="completion") == 400
    assert delta("lumen_llm_calls_total", outcome="answered") == 2
    assert delta("lumen_llm_calls_total", outcome="stopped") == 1
    assert "# TYPE lumen_llm_spend_usd_total counter" in after
