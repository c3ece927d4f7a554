"""`/lumen costs [venture]` in Slack, through the dev workspace: spend by agent, purpose and
model, unit costs, and a warning when an envelope is heading over its budget."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from lumen.db.base import utcnow
from lumen.db.models import Agent, Decision, DecisionStatus, Outcome, Run, RunStatus, RunTrigger, Spend, Venture, Verdict
from lumen.devmode import DevStack
from tests.slack.support import answer_to, block_texts, checked_blocks


async def _seed(stack: DevStack) -> None:
    """Acme's ceo spent $3 a day for the last week (today included); its budget is set to $5
    (whatever the day of the month, its projection is over it).
    One decision this month, with a success; a synthesis call and the cmo on another model."""
    now = utcnow()
    async with stack.container.db.transaction() as session:
        ceo = await session.scalar(select(Agent).join(Venture).where(Venture.slug == "acme", Agent.role == "ceo"))
        cmo = await session.scalar(select(Agent).join(Venture).where(Venture.slug == "acme", Agent.role == "cmo"))
        ceo.budget_usd_month = Decimal(5)
        for days_ago in range(8):
            session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, purpose="decide", model="openai/gpt-4o", cost_usd=Decimal(3), created_at=now - timedelta(days=days_ago)))
        session.add(Spend(agent_id=cmo.id, venture_id=cmo.venture_id, purpose="decide", model="openai/gpt-4o-mini", cost_usd=Decimal("0.5"), created_at=now))
        session.add(Spend(venture_id=ceo.venture_id, purpose="synthesis", model="openai/gpt-4o", cost_usd=Decimal("1.5"), created_at=now))
        run = Run(venture_id=ceo.venture_id, agent_id=ceo.id, trigger=RunTrigger.MANUAL, idempotency_key="wake:costs:test", status=RunStatus.SUCCEEDED)
        session.add(run)
        await session.flush()
        decision = Decision(run_id=run.id, venture_id=ceo.venture_id, agent_id=ceo.id, category="marketing", title="Publish a report", status=DecisionStatus.EXECUTED, created_at=now)
        session.add(decision)
        await session.flush()
        session.add(Outcome(decision_id=decision.id, verdict=Verdict.SUCCESS, created_at=now))


async def test_costs_for_a_venture_attribute_spend_and_warn_before_the_budget_runs_out(stack: DevStack) -> None:
    await _seed(stack)
    _, message, payload = await answer_to(stack.workspace, "U0ALICE", "venture-acme", "costs acme")
    shown = block_texts(checked_blocks(payload))
    assert "Costs · acme ·" in shown
    assert "acme/ceo" in shown and "acme/cmo" in shown and "acme/—" in shown  # the synthesis had no agent
    assert "decide" in shown and "synthesis" in shown and "openai/gpt-4o-mini" in shown
    assert "a decision (1)" in shown and "a success (1)" in shown
    # $3 a day runs to about $90 a month: over the ceo's $5.
    assert "⚠️ *acme/ceo* is heading over its budget" in shown and "against $5.00" in shown
    assert "brightbox" not in shown
    assert "heading over budget" in message.text
    # No run of theirs called a model yet: the next wake-up's estimate is its ceiling (free offline model here).
    assert "*Next wake-up, expected*" in shown and "*acme/ceo* · no run yet: at most $0.00 on lumen-offline/playbook" in shown


async def test_costs_for_an_unknown_venture_says_so(stack: DevStack) -> None:
    _, message, _ = await answer_to(stack.workspace, "U0ALICE", "venture-acme", "costs nosuch")
    assert "No venture called" in message.text


async def test_costs_for_all_ventures_lists_each(stack: DevStack) -> None:
    await _seed(stack)
    _, _, payload = await answer_to(stack.workspace, "U0ALICE", "venture-acme", "costs")
    shown = block_texts(checked_blocks(payload))
    assert "Costs · all ventures ·" in shown and "*By venture*" in shown and "brightbox" in shown


async def test_in_lumen_dev_the_offline_model_charges_its_simulated_prices_and_says_so(container) -> None:  # type: ignore[no-untyped-def]
    """`lumen dev` turns LUMEN_OFFLINE_SIMULATED_PRICES on: a wake-up costs something, is
    reserved and settled like any priced call, and /lumen costs marks it as simulated."""
    from devslack import Workspace
    from lumen.devmode import dev_stack
    from lumen.llm.offline_prices import SIMULATED_INPUT_USD, SIMULATED_OUTPUT_USD
    from tests.slack.conftest import FAST_RETRIES

    settings = container.settings.model_copy(update={"offline_simulated_prices": True})
    async with dev_stack(settings, container.config, workspace=Workspace.demo(retry_delays=FAST_RETRIES)) as stack:
        ws = stack.workspace
        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme ceo")
        await ws.wait_for(lambda: [m for m in ws.messages("venture-acme") if m.blocks] or None, timeout=20)
        async with stack.container.db.sessions() as session:
            rows = (await session.scalars(select(Spend))).all()
        assert rows and all(r.model.startswith("lumen-offline/") and r.settled for r in rows)
        for r in rows:
            assert r.cost_usd == SIMULATED_INPUT_USD * r.prompt_tokens + SIMULATED_OUTPUT_USD * r.completion_tokens > 0
            assert r.estimate_usd >= r.cost_usd  # reserved first, like any priced call
        _, _, payload = await answer_to(ws, "U0ALICE", "venture-acme", "costs acme")
        shown = block_texts(checked_blocks(payload))
        assert "simulated price table" in shown and "lumen-offline/playbook" in shown
        # The wake-up above is the ceo's history now: its next one is priced from it.
        assert "*acme/ceo* · $0.0" in shown and "from its last 1 runs" in shown
