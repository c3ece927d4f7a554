"""Routing a wake-up's decision between a cheap and a dear model, through litellm over HTTP.

Two priced models at the OpenAI-compatible stub: `route-fast` (cents) and `route-strong`
(dollars). An agent with `routing: {mode: auto}` has its routine decisions made by the cheap
one; a cheap answer that is malformed or unsure is made again by the dear one; what the rules
cannot judge, the cheap model is asked about (purpose "route"). An agent without the key keeps
its own tier, as before.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from lumen.audit.service import show_run
from lumen.config import LumenConfig, parse_config
from lumen.container import Container
from lumen.approvals import service as approvals
from lumen.db.models import Approval, BrainVersion, Decision, RunStatus, Spend, Venture
from lumen.agents.routing import decision_task
from lumen.agents.steps import WakeContext
from lumen.domain.brain import SECTIONS
from lumen.domain.gates import effective_rules
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.domain.routing import ROUTE_TASK, RoutingPolicy
from lumen.engine import runs
from lumen.llm.context_block import ContextBlock, PlaybookItem
from lumen.llm import Gateway
from lumen.llm._litellm import litellm
from lumen.runtime import make_worker
from lumen.settings import Settings
from tests.engine.helpers import all_rows, enqueue_wake, get_run, steps_of
from tests.support.openai_stub import OpenAIStub, invalid_json_tool_call, tool_call

CHEAP, DEAR = "openai/route-fast", "openai/route-strong"
NEARLY_AS_DEAR = "openai/route-midprice"  # a "fast" tier priced close to the strong one

CONFIG = """
version: 1
workspace: {timezone: UTC}
gates:
  approvers: [U0ALICE]
ventures:
  - slug: quietco
    name: Quiet Co
    channel: venture-quietco
    playbook:
      - {title: Interview five churned customers, category: research, repeatable: true}
      - {title: Write a changelog post, category: marketing, repeatable: true}
    agents:
      - {role: ceo, schedule: "0 9 * * 1", model_tier: strong, routing: {mode: auto, min_confidence: 0.6}}
      - {role: coo, schedule: "0 9 * * 2", model_tier: strong}
"""

DECISION = {"category": "research", "title": "Interview five churned customers", "rationale": "Learn why they left."}


@pytest.fixture
def example_config() -> LumenConfig:
    return parse_config(CONFIG, source="test lumen.yml")


@pytest.fixture(autouse=True)
def prices() -> None:
    litellm().register_model(
        {
            CHEAP: {"input_cost_per_token": 1e-7, "output_cost_per_token": 4e-7, "litellm_provider": "openai", "mode": "chat"},
            DEAR: {"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5, "litellm_provider": "openai", "mode": "chat"},
            NEARLY_AS_DEAR: {"input_cost_per_token": 2e-6, "output_cost_per_token": 1.2e-5, "litellm_provider": "openai", "mode": "chat"},
        }
    )


@pytest.fixture
def two_tiers(container: Container, stub: OpenAIStub) -> Settings:
    return container.settings.model_copy(update={"model_fast": CHEAP, "model_strong": DEAR, "model_api_base": stub.base_url})


def answer(confidence: float | None, *, model: str) -> object:
    args = {"decisions": [DECISION], "summary": "one interview round"}
    if confidence is not None:
        args["confidence"] = confidence
    return tool_call(PROPOSE_DECISIONS, args, model=model)


async def run_once(container: Container, settings: Settings, role: str = "ceo") -> int:
    run_id = await enqueue_wake(container.db, "quietco", role)
    worker = make_worker(container, gateway=Gateway.from_settings(settings, container.db), concurrency=1, poll_interval=0.05)
    claim = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert claim is not None and claim.run_id == run_id
    assert await worker.process(claim) == RunStatus.SUCCEEDED
    return run_id


async def with_brain(container: Container) -> None:
    async with container.db.transaction() as session:
        venture = await session.scalar(select(Venture).where(Venture.slug == "quietco"))
        session.add(BrainVersion(venture_id=venture.id, version=1, summary="v1", **{s: [] for s in SECTIONS}))


async def test_a_routine_decision_is_made_by_the_cheap_model_alone(container: Container, stub: OpenAIStub, two_tiers: Settings) -> None:
    await with_brain(container)
    stub.enqueue(answer(0.9, model="route-fast"))
    run_id = await run_once(container, two_tiers)

    assert [r.model for r in stub.requests] == ["route-fast"]
    [decision] = await all_rows(container.db, Decision)
    assert decision.title == DECISION["title"]
    [spend] = await all_rows(container.db, Spend)
    assert (spend.model, spend.purpose, spend.run_id) == (CHEAP, "decide", run_id)
    names = [s.name for s in await steps_of(container.db, run_id)]
    assert "route:propose_decisions" in names and "propose_decisions:fast" in names
    assert "propose_decisions" not in names and not any(n.startswith("escalate:") for n in names)
    async with container.db.sessions() as session:
        trail = await show_run(session, run_id)
    assert "routed to the fast tier by rule" in trail and "routine" in trail


async def test_a_fast_tier_priced_near_the_strong_one_is_not_tried(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    # A routine decision, but a fast try that failed would cost nearly as much again as it saves.
    await with_brain(container)
    settings = two_tiers.model_copy(update={"model_fast": NEARLY_AS_DEAR})
    stub.enqueue(answer(0.9, model="route-strong"))
    run_id = await run_once(container, settings)

    assert [r.model for r in stub.requests] == ["route-strong"]
    [spend] = await all_rows(container.db, Spend)
    assert (spend.model, spend.purpose) == (DEAR, "decide")
    async with container.db.sessions() as session:
        trail = await show_run(session, run_id)
    assert "routed to the strong tier by price" in trail


async def test_garbage_from_the_cheap_model_goes_to_the_dear_one_and_the_decision_stands(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    await with_brain(container)
    stub.enqueue(invalid_json_tool_call(PROPOSE_DECISIONS, model="route-fast"), answer(None, model="route-strong"))
    run_id = await run_once(container, two_tiers)

    assert [r.model for r in stub.requests] == ["route-fast", "route-strong"]
    [decision] = await all_rows(container.db, Decision)
    assert decision.title == DECISION["title"]
    spends = await all_rows(container.db, Spend, order_by=Spend.id)
    assert [(s.model, s.purpose) for s in spends] == [(CHEAP, "decide"), (DEAR, "decide")]
    run = await get_run(container.db, run_id)
    # Both calls are the run's cost: the failed try was paid too.
    assert run.cost_usd == sum(s.cost_usd for s in spends)
    assert spends[0].cost_usd > 0
    async with container.db.sessions() as session:
        trail = await show_run(session, run_id)
    assert "escalated to the strong tier: the fast tier failed" in trail


async def test_an_unsure_rule_asks_the_cheap_model_and_low_confidence_escalates(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    # No brain yet: the rules cannot tell, so the cheap model is asked which tier to use.
    stub.enqueue(
        tool_call(ROUTE_TASK, {"tier": "fast", "reason": "two ordinary moves"}, model="route-fast"),
        answer(0.3, model="route-fast"),  # below the agent's floor of 0.6
        answer(0.95, model="route-strong"),
    )
    run_id = await run_once(container, two_tiers)

    route_request = stub.requests[0]
    assert route_request.body["tools"][0]["function"]["name"] == ROUTE_TASK
    # The routing call reads the task's features, not the venture's context.
    assert "<lumen-context>" not in json.dumps(route_request.messages)
    spends = await all_rows(container.db, Spend, order_by=Spend.id)
    assert [(s.model, s.purpose) for s in spends] == [(CHEAP, "route"), (CHEAP, "decide"), (DEAR, "decide")]
    [decision] = await all_rows(container.db, Decision)
    assert decision.title == DECISION["title"]
    run = await get_run(container.db, run_id)
    assert run.cost_usd == sum((s.cost_usd for s in spends), Decimal(0))
    async with container.db.sessions() as session:
        trail = await show_run(session, run_id)
    assert "routed to the fast tier by model" in trail
    assert "confidence 0.30 is below 0.60" in trail


async def test_an_agent_without_a_routing_policy_keeps_its_own_tier(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    await with_brain(container)
    stub.enqueue(answer(0.1, model="route-strong"))  # a fixed tier takes even an unsure answer
    run_id = await run_once(container, two_tiers, role="coo")

    assert [r.model for r in stub.requests] == ["route-strong"]
    assert [s.name for s in await steps_of(container.db, run_id)][:2] == ["context", "propose_decisions"]
    [spend] = await all_rows(container.db, Spend)
    assert (spend.model, spend.purpose) == (DEAR, "decide")


async def test_a_routed_run_resumed_after_its_gate_pays_for_no_model_call_again(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    # The cheap model is asked, is unsure, and the dear one proposes a price change: gated.
    price = {"category": "pricing_change", "title": "Raise the starter plan to $19", "rationale": "Costs rose."}
    stub.enqueue(
        tool_call(ROUTE_TASK, {"tier": "fast"}, model="route-fast"),
        answer(0.2, model="route-fast"),
        tool_call(PROPOSE_DECISIONS, {"decisions": [price]}, model="route-strong"),
    )
    run_id = await enqueue_wake(container.db, "quietco", "ceo")
    worker = make_worker(container, gateway=Gateway.from_settings(two_tiers, container.db), concurrency=1, poll_interval=0.05)
    claim = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert await worker.process(claim) == RunStatus.AWAITING_APPROVAL
    paid = await all_rows(container.db, Spend)
    assert len(stub.requests) == 3 and len(paid) == 3

    [decision] = await all_rows(container.db, Decision)
    async with container.db.transaction() as session:
        approval = await session.scalar(select(Approval).where(Approval.decision_id == decision.id))
        await approvals.resolve(session, approval.id, "U0ALICE", approve=True)
    resumed = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert resumed is not None and resumed.run_id == run_id
    assert await worker.process(resumed) == RunStatus.SUCCEEDED

    # The journal answered for the route, the cheap try, the escalation and the dear call.
    assert len(stub.requests) == 3
    assert len(await all_rows(container.db, Spend)) == 3
    run = await get_run(container.db, run_id)
    assert run.cost_usd == sum((s.cost_usd for s in paid), Decimal(0))
    names = [s.name for s in await steps_of(container.db, run_id)]
    assert names[:5] == ["context", "route:propose_decisions", "propose_decisions:fast", "escalate:propose_decisions", "propose_decisions"]
    assert "gate:0" in names


async def test_a_run_paused_before_routing_was_switched_on_resumes_the_way_it_began(
    container: Container, stub: OpenAIStub, two_tiers: Settings
) -> None:
    price = {"category": "pricing_change", "title": "Raise the starter plan to $19", "rationale": "Costs rose."}
    stub.enqueue(tool_call(PROPOSE_DECISIONS, {"decisions": [price]}, model="route-strong"))
    run_id = await enqueue_wake(container.db, "quietco", "coo")  # no routing: its own strong tier
    gateway = Gateway.from_settings(two_tiers, container.db)
    worker = make_worker(container, gateway=gateway, concurrency=1, poll_interval=0.05)
    claim = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert await worker.process(claim) == RunStatus.AWAITING_APPROVAL

    # Meanwhile lumen.yml turns routing on for everyone; then the gate is approved.
    workspace = container.config.workspace.model_copy(update={"routing": RoutingPolicy(mode="auto")})
    switched = dataclasses.replace(container, config=container.config.model_copy(update={"workspace": workspace}))
    [decision] = await all_rows(container.db, Decision)
    async with container.db.transaction() as session:
        approval = await session.scalar(select(Approval).where(Approval.decision_id == decision.id))
        await approvals.resolve(session, approval.id, "U0ALICE", approve=True)
    later = make_worker(switched, gateway=gateway, concurrency=1, poll_interval=0.05)
    resumed = await runs.claim_next(container.db, later.owner, later.lease)
    assert resumed is not None and resumed.run_id == run_id
    assert await later.process(resumed) == RunStatus.SUCCEEDED
    assert len(stub.requests) == 1
    names = [s.name for s in await steps_of(container.db, run_id)]
    assert not any(n.startswith("route:") for n in names) and "gate:0" in names


# --- which open moves make a decision weighty: the gate policy's own verdict ----------------

GATES = """
version: 1
workspace: {timezone: UTC}
gates:
  approvers: [U0ALICE]
  categories:
    marketing: {gated: true, above_usd: 1000}
ventures:
  - {slug: quietco, name: Quiet Co, channel: venture-quietco, agents: [{role: ceo, schedule: "0 9 * * 1"}]}
"""


def weighty(*moves: PlaybookItem) -> int:
    config = parse_config(GATES, source="test lumen.yml")
    rules = effective_rules(config.gates, also=[m.category for m in moves])
    context = WakeContext(block=ContextBlock(task="decide", playbook=list(moves)), brain_version=1)
    task = decision_task(context, rules)
    assert task.open_moves == len(moves)
    return task.weighty_moves


@pytest.mark.parametrize(
    "move",
    [
        PlaybookItem(title="Boost the launch post", category="resource_allocation", amount_usd=Decimal(200)),
        PlaybookItem(title="Print flyers for the meetup", category="marketing", amount_usd=Decimal(900)),
        PlaybookItem(title="Run a churn survey", category="research", amount_usd=Decimal(1500)),
        PlaybookItem(title="Interview five churned customers", category="research"),
        PlaybookItem(title="Publish a churn report", category="content", expected_effect="1200 newsletter signups"),
    ],
    ids=["a spend under the default $500 threshold", "under the workspace's own marketing threshold",
         "money in an everyday category nobody gated", "no money at all", "numbers the rules cannot read as money"],
)
def test_a_move_no_gate_would_stop_leaves_the_decision_routine(move: PlaybookItem) -> None:
    assert weighty(move) == 0


@pytest.mark.parametrize(
    "move",
    [
        PlaybookItem(title="Boost the launch post", category="resource_allocation", amount_usd=Decimal(800)),
        PlaybookItem(title="Sponsor a conference", category="marketing", amount_usd=Decimal(4000)),
        PlaybookItem(title="Move to annual billing", category="pricing_change"),
        PlaybookItem(title="Rent a booth", category="resource_allocation"),  # money nobody sized
        PlaybookItem(title="Run a $2,000 ads test", category="growth"),  # its words name the money
        PlaybookItem(title="Try something new", category="moonshot"),  # a kind nobody judged
    ],
    ids=["over the default threshold", "over the workspace's marketing threshold", "a gated category",
         "a paid move without an amount", "an amount its title names", "a category nobody declared"],
)
def test_a_move_a_gate_would_stop_makes_the_decision_weighty(move: PlaybookItem) -> None:
    assert weighty(move) == 1
