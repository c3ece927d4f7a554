"""Hard budgets: reserve before the call, settle after, refuse before the model is hit."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from lumen.db.models import Agent, Spend
from lumen.db.session import Database
from lumen.llm import Attribution, BudgetExceeded, SpendLedger
from tests.support.openai_stub import OpenAIStub

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


async def _set_budget(db: Database, agent_id: int, budget: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Agent).where(Agent.id == agent_id).values(budget_usd_month=Decimal(budget))
        )


async def _add_spend(db: Database, attribution: Attribution, cost: str, at: datetime) -> None:
    async with db.transaction() as session:
        session.add(
            Spend(
                agent_id=attribution.agent_id,
                venture_id=attribution.venture_id,
                model="openai/x",
                cost_usd=Decimal(cost),
                settled=True,
                created_at=at,
            )
        )


async def test_budget_exceeded_stops_the_call_before_the_model(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution, priced_model: str
) -> None:
    await _set_budget(db, attribution.agent_id, "0.001")  # type: ignore[arg-type]
    gateway = make_gateway(strong=(priced_model,), max_output_tokens=1000)  # reserves $0.002+
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.complete(
            "strong", [{"role": "user", "content": "hi"}], attribution=attribution
        )
    assert stub.requests == []
    message = str(caught.value)
    assert "monthly budget" in message and "$0.00" in message and "not called" in message
    assert caught.value.estimate_usd > Decimal("0.002")
    async with db.sessions() as session:
        assert (await session.execute(select(Spend))).scalars().all() == []


async def test_month_to_date_counts_settled_and_reserved_spend_of_this_month_only(
    db: Database, attribution: Attribution
) -> None:
    ledger = SpendLedger(db)
    await _add_spend(db, attribution, "100", datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    await _add_spend(db, attribution, "9.5", datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    assert await ledger.month_to_date(attribution.agent_id, NOW) == Decimal("9.5")  # type: ignore[arg-type]

    spend_id = await ledger.reserve(attribution, "openai/x", Decimal("0.4"), now=NOW)
    assert await ledger.month_to_date(attribution.agent_id, NOW) == Decimal("9.9")  # type: ignore[arg-type]
    with pytest.raises(BudgetExceeded):
        await ledger.reserve(attribution, "openai/x", Decimal("0.2"), now=NOW)

    # Settling at the real (lower) cost frees the rest of the envelope.
    await ledger.settle(
        spend_id, prompt_tokens=10, completion_tokens=5, cost_usd=Decimal("0.1"), latency_ms=12
    )
    await ledger.reserve(attribution, "openai/x", Decimal("0.2"), now=NOW)
    # Exactly reaching the budget is allowed; going over is not.
    await ledger.reserve(attribution, "openai/x", Decimal("0.2"), now=NOW)
    with pytest.raises(BudgetExceeded):
        await ledger.reserve(attribution, "openai/x", Decimal("0.00000001"), now=NOW)


async def test_attribution_budget_overrides_the_agent_row(
    db: Database, attribution: Attribution
) -> None:
    ledger = SpendLedger(db)
    tight = replace(attribution, budget_usd_month=Decimal("1"))
    await ledger.reserve(tight, "openai/x", Decimal("1"), now=NOW)
    with pytest.raises(BudgetExceeded):
        await ledger.reserve(tight, "openai/x", Decimal("0.01"), now=NOW)
    await ledger.reserve(attribution, "openai/x", Decimal("5"), now=NOW)  # the row says $10


async def test_calls_without_an_agent_are_recorded_but_not_budgeted(db: Database) -> None:
    ledger = SpendLedger(db)
    await ledger.reserve(Attribution(purpose="platform_synthesis"), "openai/x", Decimal("999"))
    async with db.sessions() as session:
        [row] = (await session.execute(select(Spend))).scalars().all()
    assert row.agent_id is None and row.purpose == "platform_synthesis" and not row.settled


async def test_concurrent_reservations_never_overspend(
    db: Database, attribution: Attribution
) -> None:
    ledger = SpendLedger(db)
    await _set_budget(db, attribution.agent_id, "1.00")  # type: ignore[arg-type]

    async def reserve() -> bool:
        try:
            await ledger.reserve(attribution, "openai/x", Decimal("0.30"), now=NOW)
            return True
        except BudgetExceeded:
            return False

    outcomes = await asyncio.gather(*(reserve() for _ in range(10)))
    assert outcomes.count(True) == 3
    assert await ledger.month_to_date(attribution.agent_id, NOW) == Decimal("0.90")  # type: ignore[arg-type]


async def test_a_failed_call_settles_at_zero(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution, priced_model: str
) -> None:
    from lumen.llm import LLMUnavailable
    from tests.support.openai_stub import error

    stub.set_default(error(400))
    with pytest.raises(LLMUnavailable):
        await make_gateway(strong=(priced_model,)).complete(
            "strong", [{"role": "user", "content": "hi"}], attribution=attribution
        )
    async with db.sessions() as session:
        [row] = (await session.execute(select(Spend))).scalars().all()
    assert row.settled and row.cost_usd == 0 and row.model == priced_model
