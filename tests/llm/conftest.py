"""Fixtures for the gateway tests: the OpenAI-compatible stub, a gateway on it, an agent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lumen.db.models import Agent, Run, RunTrigger, Venture
from lumen.db.session import Database
from lumen.llm import Attribution, Gateway, GatewayOptions, ModelTiers
from lumen.llm._litellm import litellm
from tests.support.openai_stub import OpenAIStub

# A price registered for a stub model: $1 per million prompt tokens, $2 per million completion.
PRICED = "openai/lumen-stub-priced"
PRICE_IN = Decimal("0.000001")
PRICE_OUT = Decimal("0.000002")


@pytest.fixture(autouse=True)
def _dummy_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-lumen-test-not-a-key")


@pytest.fixture(scope="session")
def priced_model() -> str:
    litellm().register_model(
        {
            PRICED: {
                "input_cost_per_token": float(PRICE_IN),
                "output_cost_per_token": float(PRICE_OUT),
                "litellm_provider": "openai",
                "mode": "chat",
            }
        }
    )
    return PRICED


class Sleeps(list[float]):
    """Records the backoff delays instead of waiting them out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_gateway(db: Database, stub: OpenAIStub, sleeps: Sleeps):  # type: ignore[no-untyped-def]
    """A gateway whose openai/ models talk to the stub; tiers and options overridable."""

    def make(
        strong: tuple[str, ...] = ("openai/stub-a", "openai/stub-b"),
        fast: tuple[str, ...] = ("openai/stub-fast",),
        real_sleep: bool = False,
        **options: object,
    ) -> Gateway:
        settings = {
            "api_base": stub.base_url,
            "timeout_s": 5.0,
            "backoff_base_s": 0.05,
            "max_attempts_per_model": 3,
            **options,
        }
        kwargs = {} if real_sleep else {"sleep": sleeps}
        return Gateway(
            db, ModelTiers(fast=fast, strong=strong), GatewayOptions(**settings), **kwargs
        )  # type: ignore[arg-type]

    return make


@pytest.fixture
async def attribution(db: Database) -> Attribution:
    """A venture, its ceo agent with a $10 monthly budget, and a run of that agent."""
    async with db.transaction() as session:
        venture = Venture(slug="acme", name="Acme", stage="idea", channel="venture-acme")
        session.add(venture)
        await session.flush()
        agent = Agent(
            venture_id=venture.id, role="ceo", schedule="0 9 * * 1", budget_usd_month=Decimal("10")
        )
        session.add(agent)
        await session.flush()
        run = Run(
            venture_id=venture.id,
            agent_id=agent.id,
            trigger=RunTrigger.MANUAL,
            idempotency_key=f"wake:{agent.id}:test",
        )
        session.add(run)
        await session.flush()
        return Attribution(
            purpose="decide", run_id=run.id, agent_id=agent.id, venture_id=venture.id
        )
