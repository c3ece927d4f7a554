"""Hard budgets in Slack: /lumen budget, and an agent paused when its envelope is spent."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, Run, RunStatus, Spend, Venture
from lumen.devmode import DevStack
from tests.slack.support import block_texts, response_url_payloads


async def _agent(stack: DevStack, slug: str, role: str) -> Agent:
    async with stack.container.db.sessions() as session:
        return await session.scalar(
            select(Agent).join(Venture).where(Venture.slug == slug, Agent.role == role)
        )


async def test_budget_lists_spend_against_each_agents_envelope(stack: DevStack) -> None:
    ceo = await _agent(stack, "acme", "ceo")
    async with stack.container.db.transaction() as session:
        session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, model="openai/gpt-4o", cost_usd=Decimal("21.5"), created_at=utcnow()))
    ws = stack.workspace
    delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "budget acme")
    payloads = await ws.wait_for(lambda: response_url_payloads(ws, delivery), timeout=5)
    text = block_texts(payloads[0]["blocks"])
    assert "acme/ceo" in text and "$21.50 of $25.00 (86%)" in text
    assert "acme/cmo" in text and "brightbox" not in text


async def test_a_spent_envelope_pauses_the_agent_and_says_why(stack: DevStack) -> None:
    ceo = await _agent(stack, "acme", "ceo")
    async with stack.container.db.transaction() as session:
        session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, model="openai/gpt-4o", cost_usd=Decimal("30"), created_at=utcnow()))
    ws = stack.workspace
    await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme ceo")
    posts = await ws.wait_for(
        lambda: [m for m in ws.messages("venture-acme") if "budget is spent" in m.text] or None, timeout=20
    )
    assert len(posts) == 1
    async with stack.container.db.sessions() as session:
        agent = await session.get(Agent, ceo.id)
        run = await session.scalar(select(Run).where(Run.agent_id == ceo.id))
    assert agent.status == AgentStatus.PAUSED and "budget" in agent.status_reason
    assert agent.consecutive_failures == 0  # a spent budget is not a fault for the breaker
    assert run.status == RunStatus.FAILED and "budget" in run.error.lower()
