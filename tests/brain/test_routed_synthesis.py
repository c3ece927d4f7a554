"""A quiet week's brain by the cheap model, a busy or first one by the dear model, with
`workspace.routing: {mode: auto}`: through litellm at the OpenAI-compatible stub over HTTP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from lumen.container import Container
from lumen.db.models import BrainVersion, Spend
from lumen.domain.brain import SECTIONS
from lumen.domain.brain_schema import WRITE_BRAIN
from lumen.domain.routing import RoutingPolicy
from lumen.llm import Gateway, GatewayOptions, ModelTiers
from lumen.llm._litellm import litellm
from tests.brain.conftest import START, venture_id
from tests.brain.history import synthesise, week_end, write_history
from tests.engine.helpers import steps_of
from tests.support.openai_stub import OpenAIStub, tool_call

CHEAP, DEAR = "openai/brain-fast", "openai/brain-strong"


@pytest.fixture(autouse=True)
def prices() -> None:
    litellm().register_model(
        {
            CHEAP: {"input_cost_per_token": 1e-7, "output_cost_per_token": 4e-7, "litellm_provider": "openai", "mode": "chat"},
            DEAR: {"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5, "litellm_provider": "openai", "mode": "chat"},
        }
    )


def routed(container: Container) -> Container:
    workspace = container.config.workspace.model_copy(update={"routing": RoutingPolicy(mode="auto")})
    return dataclasses.replace(container, config=container.config.model_copy(update={"workspace": workspace}))


def brain(summary: str, confidence: float, *, model: str) -> object:
    return tool_call(WRITE_BRAIN, {"summary": summary, "confidence": confidence}, model=model)


async def a_brain_before_the_week(container: Container, acme: int) -> None:
    async with container.db.transaction() as session:
        session.add(
            BrainVersion(venture_id=acme, version=1, summary="v1", created_at=START - timedelta(days=1), **{s: [] for s in SECTIONS})
        )


async def brain_of(container: Container, run_id: int) -> BrainVersion:
    async with container.db.sessions() as session:
        found = await session.scalar(select(BrainVersion).where(BrainVersion.run_id == run_id))
    assert found is not None
    return found


async def spends(container: Container, run_id: int) -> list[tuple[str, str]]:
    async with container.db.sessions() as session:
        rows = (await session.scalars(select(Spend).where(Spend.run_id == run_id).order_by(Spend.id))).all()
    return [(s.model, s.purpose) for s in rows]


async def test_a_quiet_week_is_written_by_the_cheap_model(container: Container, stub: OpenAIStub) -> None:
    acme = await venture_id(container.db, "acme")
    await a_brain_before_the_week(container, acme)
    await write_history(container.db, "acme", 1, 3, START)  # three moves, none failed yet
    stub.enqueue(brain("A calm week.", 0.9, model="brain-fast"))
    gateway = Gateway(container.db, ModelTiers(fast=(CHEAP,), strong=(DEAR,)), GatewayOptions(api_base=stub.base_url, timeout_s=5))
    run_id = await synthesise(routed(container), gateway, acme, week_end(START, 1))

    written = await brain_of(container, run_id)
    assert (written.version, written.model, written.summary) == (2, CHEAP, "A calm week.")
    assert await spends(container, run_id) == [(CHEAP, "synthesize")]
    route = next(s for s in await steps_of(container.db, run_id) if s.name == "route:write_brain")
    assert route.output["tier"] == "fast" and "quiet week" in route.output["why"]


async def test_an_unsure_cheap_brain_is_rewritten_by_the_dear_model(container: Container, stub: OpenAIStub) -> None:
    acme = await venture_id(container.db, "acme")
    await a_brain_before_the_week(container, acme)
    await write_history(container.db, "acme", 1, 3, START)
    stub.enqueue(brain("Not sure of any of it.", 0.2, model="brain-fast"), brain("What the week showed.", 0.9, model="brain-strong"))
    gateway = Gateway(container.db, ModelTiers(fast=(CHEAP,), strong=(DEAR,)), GatewayOptions(api_base=stub.base_url, timeout_s=5))
    run_id = await synthesise(routed(container), gateway, acme, week_end(START, 1))

    written = await brain_of(container, run_id)
    assert (written.model, written.summary) == (DEAR, "What the week showed.")
    assert await spends(container, run_id) == [(CHEAP, "synthesize"), (DEAR, "synthesize")]


async def test_the_first_brain_goes_to_the_dear_model_without_asking(container: Container, stub: OpenAIStub) -> None:
    acme = await venture_id(container.db, "acme")
    await write_history(container.db, "acme", 1, 3, START)
    stub.enqueue(brain("The first brain.", 0.9, model="brain-strong"))
    gateway = Gateway(container.db, ModelTiers(fast=(CHEAP,), strong=(DEAR,)), GatewayOptions(api_base=stub.base_url, timeout_s=5))
    run_id = await synthesise(routed(container), gateway, acme, week_end(START, 1))

    assert (await brain_of(container, run_id)).model == DEAR
    assert [r.model for r in stub.requests] == ["brain-strong"]
