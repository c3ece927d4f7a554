"""Envelopes that cannot be exceeded: the agent's, the venture's and the platform's, monthly
and daily, one reservation for all; the estimate in the model's tokens with the whole output
cap; a provider that bills more is paid for by the next reservation and calibrates the model;
a warning at 80 % and a stop at 100 %, each posted once."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lumen.costs.alerts import BudgetAnnouncer
from lumen.db.models import Agent, OutboxMessage, Spend, Venture
from lumen.db.session import Database
from lumen.domain.budgets import Limits
from lumen.llm import Attribution, BudgetExceeded, Gateway, GatewayOptions, ModelTiers, SpendLedger
from lumen.llm.tokens import FALLBACK_CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, prompt_tokens_for_budget
from tests.llm.conftest import PRICE_IN, PRICE_OUT
from tests.support.openai_stub import Billing, OpenAIStub, text

PROMPT = [{"role": "user", "content": "Decide the next move for Acme: pricing, churn, hiring. " * 4}]


async def _set(db: Database, model: type, row_id: int, **values: object) -> None:
    async with db.transaction() as session:
        await session.execute(update(model).where(model.id == row_id).values(**values))


async def _rows(db: Database, model: type) -> list:
    async with db.sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


def _gateway(db: Database, stub: OpenAIStub, model: str, **kwargs: object) -> Gateway:
    options = GatewayOptions(api_base=stub.base_url, timeout_s=5, max_output_tokens=200, max_attempts_per_model=1)
    return Gateway(db, ModelTiers(fast=(model,), strong=(model,)), options, **kwargs)  # type: ignore[arg-type]


def _cost(prompt: int, completion: int) -> Decimal:
    return PRICE_IN * prompt + PRICE_OUT * completion


# --- the estimate ------------------------------------------------------------------------------


def test_the_prompt_is_counted_with_the_models_tokenizer_else_three_characters_a_token() -> None:
    from lumen.llm._litellm import litellm

    known = prompt_tokens_for_budget("openai/gpt-4o-mini", PROMPT)
    assert known == litellm().token_counter(model="openai/gpt-4o-mini", messages=PROMPT)
    chars = len(PROMPT[0]["content"])
    assert prompt_tokens_for_budget("openai/lumen-unknown", PROMPT) == math.ceil(chars / FALLBACK_CHARS_PER_TOKEN) + 2 * MESSAGE_OVERHEAD_TOKENS
    # English runs near 4 characters a token: the fallback is the conservative side of it.
    assert prompt_tokens_for_budget("openai/lumen-unknown", PROMPT) > known


def test_counting_tokens_needs_no_network(tmp_path: Path) -> None:
    """In a fresh process whose sockets refuse to connect, the tokenizers still load and count."""
    script = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from lumen.llm.tokens import prompt_tokens_for_budget
messages = [{"role": "user", "content": "How many tokens is this long question, counted offline? " * 5}]
print([prompt_tokens_for_budget(m, messages) for m in ("openai/gpt-4o", "openai/gpt-4", "anthropic/claude-3-5-sonnet", "openai/lumen-x")])
"""
    # litellm points tiktoken at the tables it bundles; HOME is empty, so no other cache helps.
    env = {"PYTHONPATH": str(Path(__file__).parents[2] / "src"), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(count > 0 for count in counts)
    assert counts[0] < counts[3]  # gpt-4o's own tokenizer, against 3 characters a token


async def test_a_reservation_holds_the_counted_prompt_and_the_whole_output_cap(
    db: Database, stub: OpenAIStub, attribution: Attribution, priced_model: str
) -> None:
    gateway = _gateway(db, stub, priced_model)
    await gateway.complete("strong", PROMPT, attribution=attribution, max_tokens=300)
    [row] = await _rows(db, Spend)
    assert row.estimate_usd == _cost(prompt_tokens_for_budget(priced_model, PROMPT), 300)
    assert row.settled and row.cost_usd < row.estimate_usd  # the stub wrote less than the cap


# --- overage: carried, and calibrated ------------------------------------------------------------


async def test_an_overage_is_paid_by_the_next_reservation_and_calibrates_the_model(
    db: Database, stub: OpenAIStub, attribution: Attribution, priced_model: str
) -> None:
    # A provider counting 2 characters a token and billing twice the output cap.
    stub.billing = Billing(chars_per_token=2, output_over_ask=2.0)
    gateway = _gateway(db, stub, priced_model)
    first = await gateway.complete("strong", PROMPT, attribution=attribution)
    [row] = await _rows(db, Spend)
    billed = first.attempts[0].cost_usd
    assert billed == row.cost_usd and billed > row.estimate_usd  # settled at what was billed
    ratio = billed / row.estimate_usd

    # The envelope now holds exactly the overage plus one uncalibrated estimate, less a cent:
    # the next reservation pays for the overage first, calibrated, and does not fit.
    await _set(db, Agent, attribution.agent_id, budget_usd_month=billed + row.estimate_usd)  # type: ignore[arg-type]
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.complete("strong", PROMPT, attribution=attribution)
    assert caught.value.spent_usd == billed
    assert caught.value.estimate_usd == pytest.approx(row.estimate_usd * ratio * Decimal("1.1"), rel=Decimal("0.001"))
    assert len(stub.requests) == 1

    # With room for it, the calibrated reservation covers the same bill: no overage twice.
    await _set(db, Agent, attribution.agent_id, budget_usd_month=Decimal(10))  # type: ignore[arg-type]
    await gateway.complete("strong", PROMPT, attribution=attribution)
    second = (await _rows(db, Spend))[-1]
    assert second.cost_usd == billed and second.cost_usd <= row.estimate_usd * ratio * Decimal("1.1")


async def test_a_model_that_never_billed_has_one_call_in_flight_until_its_first_bill(
    db: Database, stub: OpenAIStub, attribution: Attribution, priced_model: str
) -> None:
    stub.set_default(text("ok", delay_s=0.3))
    gateway = _gateway(db, stub, "openai/lumen-stub-fresh")
    from lumen.llm._litellm import litellm

    litellm().register_model(
        {"openai/lumen-stub-fresh": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openai", "mode": "chat"}}
    )
    await asyncio.gather(*(gateway.complete("strong", PROMPT, attribution=attribution) for _ in range(4)))
    starts = sorted(r.at for r in stub.requests)
    assert starts[1] - starts[0] >= 0.25  # the others waited for the first bill ...
    assert stub.max_in_flight >= 2  # ... then ran side by side


# --- every envelope ------------------------------------------------------------------------------


async def _second_agent(db: Database, attribution: Attribution) -> Attribution:
    async with db.transaction() as session:
        cmo = Agent(venture_id=attribution.venture_id, role="cmo", schedule="0 9 * * 1", budget_usd_month=Decimal(10))
        session.add(cmo)
        await session.flush()
        return replace(attribution, agent_id=cmo.id, run_id=None)


async def test_the_venture_envelope_holds_across_its_agents(db: Database, attribution: Attribution) -> None:
    await _set(db, Venture, attribution.venture_id, budget_usd_month=Decimal("1.00"))  # type: ignore[arg-type]
    cmo = await _second_agent(db, attribution)
    ledger = SpendLedger(db)
    await ledger.reserve(attribution, "openai/x", Decimal("0.6"))
    with pytest.raises(BudgetExceeded) as caught:
        await ledger.reserve(cmo, "openai/x", Decimal("0.5"))  # the cmo's own $10 has room
    assert caught.value.envelope.scope == "venture" and "Venture" in str(caught.value)
    await ledger.reserve(cmo, "openai/x", Decimal("0.4"))


async def test_the_platform_envelope_holds_every_call_even_without_an_agent(db: Database, attribution: Attribution) -> None:
    ledger = SpendLedger(db, platform=Limits(month_usd=Decimal("1.00")))
    await ledger.reserve(Attribution(purpose="platform_synthesis"), "openai/x", Decimal("0.7"))
    with pytest.raises(BudgetExceeded) as caught:
        await ledger.reserve(attribution, "openai/x", Decimal("0.31"))
    assert caught.value.envelope.key == "platform:month" and "The platform" in str(caught.value)
    assert "workspace.budget_usd_month" in str(caught.value)


async def test_a_daily_envelope_stops_a_day_and_not_the_month(db: Database, attribution: Attribution) -> None:
    from datetime import UTC, datetime

    await _set(db, Agent, attribution.agent_id, budget_usd_day=Decimal("1"))  # type: ignore[arg-type]
    ledger = SpendLedger(db)
    monday, tuesday = datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, 10, tzinfo=UTC)
    await ledger.reserve(attribution, "openai/x", Decimal("0.9"), now=monday)
    with pytest.raises(BudgetExceeded) as caught:
        await ledger.reserve(attribution, "openai/x", Decimal("0.2"), now=monday)
    assert caught.value.envelope.key.endswith(":day") and not caught.value.pauses_agent
    await ledger.reserve(attribution, "openai/x", Decimal("0.9"), now=tuesday)


async def test_concurrent_calls_through_all_envelopes_never_overspend_any(db: Database, attribution: Attribution) -> None:
    await _set(db, Venture, attribution.venture_id, budget_usd_month=Decimal("2.00"))  # type: ignore[arg-type]
    cmo = await _second_agent(db, attribution)
    ledger = SpendLedger(db, platform=Limits(month_usd=Decimal("5")))

    async def reserve(who: Attribution) -> bool:
        try:
            await ledger.reserve(who, "openai/x", Decimal("0.30"))
            return True
        except BudgetExceeded:
            return False

    outcomes = await asyncio.gather(*(reserve(attribution if i % 2 else cmo) for i in range(20)))
    assert outcomes.count(True) == 6  # $2.00 / $0.30
    async with db.sessions() as session:
        total = sum(r.cost_usd for r in (await session.scalars(select(Spend))).all())
    assert total == Decimal("1.80")


# --- alerts ------------------------------------------------------------------------------------------


async def test_a_warning_at_80_percent_and_a_stop_are_each_posted_once(db: Database, attribution: Attribution) -> None:
    await _set(db, Venture, attribution.venture_id, budget_usd_month=Decimal("1.00"))  # type: ignore[arg-type]
    ledger = SpendLedger(db, alerts=BudgetAnnouncer("lumen-platform"))
    outside_a_run = replace(attribution, run_id=None, purpose="ask")
    for _ in range(3):
        await ledger.reserve(outside_a_run, "openai/x", Decimal("0.3"))  # 30 %, 60 %, 90 %
    for _ in range(2):
        with pytest.raises(BudgetExceeded):
            await ledger.reserve(outside_a_run, "openai/x", Decimal("0.3"))
    posts = {row.dedupe_key: row.payload for row in await _rows(db, OutboxMessage)}
    assert sorted(k.rsplit(":", 1)[0] for k in posts) == [
        f"budget-stop:venture:{attribution.venture_id}:month",
        f"budget-warning:venture:{attribution.venture_id}:month",
    ]
    warning = next(p for k, p in posts.items() if k.startswith("budget-warning"))
    stop = next(p for k, p in posts.items() if k.startswith("budget-stop"))
    assert warning["channel"] == "#venture-acme" and "90%" in warning["text"] and "monthly budget of acme" in warning["text"]
    stopped = json.dumps(stop["blocks"])
    assert "the ceo agent of acme's ask call on openai/x" in stopped and "$0.90 spent or reserved" in stopped


async def test_an_agents_monthly_stop_in_a_run_is_left_to_the_pause_post(db: Database, attribution: Attribution) -> None:
    await _set(db, Agent, attribution.agent_id, budget_usd_month=Decimal("0.1"))  # type: ignore[arg-type]
    ledger = SpendLedger(db, alerts=BudgetAnnouncer("lumen-platform"))
    with pytest.raises(BudgetExceeded) as caught:
        await ledger.reserve(attribution, "openai/x", Decimal("0.3"))
    assert caught.value.pauses_agent
    assert await _rows(db, OutboxMessage) == []


async def test_a_daily_envelopes_warning_is_posted_once_a_month_its_stop_once_a_day(db: Database, attribution: Attribution) -> None:
    from datetime import UTC, datetime

    await _set(db, Agent, attribution.agent_id, budget_usd_day=Decimal("1"))  # type: ignore[arg-type]
    ledger = SpendLedger(db, alerts=BudgetAnnouncer("lumen-platform"))
    for day in (2, 3):
        now = datetime(2026, 3, day, 10, tzinfo=UTC)
        await ledger.reserve(attribution, "openai/x", Decimal("0.9"), now=now)  # 90 % of the day
        with pytest.raises(BudgetExceeded):
            await ledger.reserve(attribution, "openai/x", Decimal("0.2"), now=now)
    keys = sorted(row.dedupe_key for row in await _rows(db, OutboxMessage))
    envelope = f"agent:{attribution.agent_id}:day"
    assert keys == [f"budget-stop:{envelope}:2026-03-02", f"budget-stop:{envelope}:2026-03-03", f"budget-warning:{envelope}:2026-03"]
