"""An agent whose decisions are routed by complexity (`routing: {mode: auto}`) asks a human.

The cheap tier, trying the routine decision, calls `ask_human` instead: the question opens once,
the run pauses, and once the approver has answered the run resumes from its journal, routes its
next decide call afresh, and pays for no earlier call again. Two priced models at the
OpenAI-compatible stub; the stub's requests count what was paid.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from lumen.approvals import questions
from lumen.container import Container
from lumen.db.models import HumanQuestion, OutboxMessage, QuestionStatus, RunStatus, Spend
from lumen.domain.ask_human import ASK_HUMAN
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.engine import runs
from lumen.llm import Gateway
from lumen.runtime import make_worker
from lumen.settings import Settings
from tests.agents.test_routing import CHEAP, DECISION, answer, with_brain
from tests.agents.test_routing import example_config, prices, two_tiers  # noqa: F401  (fixtures)
from tests.engine.helpers import all_rows, enqueue_wake, get_run, steps_of
from tests.support.openai_stub import OpenAIStub, tool_call

ASKED = {"question": "Should the interviews target churned annual or monthly customers?", "options": ["Annual", "Monthly"]}


async def test_the_fast_tier_asks_once_and_the_resumed_run_pays_for_nothing_twice(
    container: Container, stub: OpenAIStub, two_tiers: Settings  # noqa: F811  (the fixture imported above)
) -> None:
    db = container.db
    await with_brain(container)  # a routine decision: the rules send it to the fast tier
    stub.enqueue(tool_call(ASK_HUMAN, ASKED, model="route-fast"), answer(0.9, model="route-fast"))
    run_id = await enqueue_wake(db, "quietco", "ceo")
    worker = make_worker(container, gateway=Gateway.from_settings(two_tiers, db), concurrency=1, poll_interval=0.05)

    claim = await runs.claim_next(db, worker.owner, worker.lease)
    assert claim is not None and claim.run_id == run_id
    assert await worker.process(claim) == RunStatus.AWAITING_APPROVAL

    # The fast tier was offered both tools, and asked; nobody else was called.
    [first] = stub.requests
    assert first.model == "route-fast"
    assert [t["function"]["name"] for t in first.body["tools"]] == [PROPOSE_DECISIONS, ASK_HUMAN]
    [question] = await all_rows(db, HumanQuestion)
    assert (question.run_id, question.status, question.question, question.options) == (
        run_id, QuestionStatus.PENDING, ASKED["question"], ASKED["options"]
    )
    assert question.approvers["users"] == ["U0ALICE"]  # the workspace's approvers
    assert [s.name for s in await steps_of(db, run_id)] == ["context", "route:propose_decisions", "propose_decisions:fast", "ask_human:0"]
    assert await runs.claim_next(db, worker.owner, worker.lease) is None  # paused until answered

    async with db.transaction() as session:
        assert (await questions.answer(session, question.id, "U0ALICE", "Monthly")).changed
    async with db.transaction() as session:
        late = await questions.answer(session, question.id, "U0ALICE", "Annual")
    assert (late.kind, late.answered_by) == ("already", "U0ALICE")

    resumed = await runs.claim_next(db, worker.owner, worker.lease)
    assert resumed is not None and resumed.run_id == run_id
    assert await worker.process(resumed) == RunStatus.SUCCEEDED
    assert await runs.claim_next(db, worker.owner, worker.lease) is None  # resumed once

    # One more call, to the fast tier, with the question and its answer in the conversation.
    assert [r.model for r in stub.requests] == ["route-fast", "route-fast"]
    second = stub.requests[1]
    [asked_call] = [m for m in second.messages if m.get("tool_calls")]
    assert json.loads(asked_call["tool_calls"][0]["function"]["arguments"]) == ASKED
    [told] = [m["content"] for m in second.messages if m.get("role") == "tool"]
    assert "“Monthly”" in told
    assert second.messages[: len(first.messages)] == first.messages  # the same prompt, replayed

    # Asked once, paid once per call, and the run's cost is their sum.
    assert len(await all_rows(db, HumanQuestion)) == 1
    spends = await all_rows(db, Spend, order_by=Spend.id)
    assert [(s.model, s.purpose, s.run_id) for s in spends] == [(CHEAP, "decide", run_id), (CHEAP, "decide", run_id)]
    assert (await get_run(db, run_id)).cost_usd == sum(s.cost_usd for s in spends) > 0
    async with db.sessions() as session:
        posts = (await session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"question:{question.id}:%")))).all()
    assert sorted(posts) == [f"question:{question.id}:closed", f"question:{question.id}:post"]
    assert [s.name for s in await steps_of(db, run_id)] == [
        "context", "route:propose_decisions", "propose_decisions:fast", "ask_human:0", "answer:0",
        "route:propose_decisions:1", "propose_decisions:1:fast", "decision:0", "finished",
    ]
    decisions = [s for s in await steps_of(db, run_id) if s.name == "decision:0"]
    assert decisions[0].output["decision"]["title"] == DECISION["title"]
