"""Hard budgets in Slack: /lumen budget, and an agent paused when its envelope is spent."""

from __future__ import annotations

import asyncio
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


async def test_a_spent_venture_envelope_stops_its_agents_posts_once_and_pauses_nobody(stack: DevStack) -> None:
    ceo = await _agent(stack, "acme", "ceo")
    async with stack.container.db.transaction() as session:
        venture = await session.get(Venture, ceo.venture_id)
        venture.budget_usd_month = Decimal("5")  # what `budget_usd_month` under the venture syncs to
        session.add(Spend(agent_id=None, venture_id=ceo.venture_id, purpose="ask", model="openai/gpt-4o", cost_usd=Decimal("5.5"), created_at=utcnow()))
    ws = stack.workspace
    for role in ("ceo", "cmo"):
        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", f"wake acme {role}")

    for _ in range(200):  # both runs end (failed) within 20 s
        async with stack.container.db.sessions() as session:
            runs = (await session.scalars(select(Run).where(Run.venture_id == ceo.venture_id))).all()
        if len(runs) == 2 and all(r.status == RunStatus.FAILED for r in runs):
            break
        await asyncio.sleep(0.1)
    assert [r.status for r in runs] == [RunStatus.FAILED, RunStatus.FAILED]
    assert all("Venture" in r.error and "monthly budget" in r.error for r in runs)
    stops = await ws.wait_for(lambda: [m for m in ws.messages("venture-acme") if "Stopped" in m.text] or None, timeout=10)
    assert len(stops) == 1
    text = block_texts(stops[0].blocks)
    assert "monthly budget of acme ($5.00" in text and "$5.50 spent or reserved" in text
    assert "agent of acme's decide call (run " in text
    async with stack.container.db.sessions() as session:
        agents = (await session.scalars(select(Agent).where(Agent.venture_id == ceo.venture_id))).all()
    assert all(a.status == AgentStatus.ACTIVE for a in agents)
    assert all(a.consecutive_failures == 0 for a in agents)
    assert not [m for m in ws.messages("venture-acme") if "budget is spent" in m.text]
