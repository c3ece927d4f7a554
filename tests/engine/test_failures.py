"""Failed runs say why; three in a row trip the agent's circuit breaker; resuming resets it."""

from __future__ import annotations

import asyncio

import pytest

from sqlalchemy import delete

from lumen.agents import service as agents
from lumen.settings import Settings
from lumen.db.models import AgentStatus, Decision, OutboxMessage, RunStatus
from lumen.engine import runs
from lumen.agents.service import BREAKER_THRESHOLD
from lumen.container import Container
from tests.engine.helpers import (
    HALF_VALID,
    STUB_MODEL,
    agent_of,
    block_text,
    closed_port_url,
    count,
    decisions_of,
    enqueue_wake,
    eventually,
    get_run,
    lumen_cli,
    outbox_rows,
    proposal,
    spend_rows,
    steps_of,
    wake_and_process,
)
from tests.support.openai_stub import OpenAIStub

VALID = proposal({"category": "marketing", "title": "Publish a churn benchmark report"})


async def test_garbage_from_the_model_fails_the_run_with_the_reason_and_stores_no_decision(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    stub.set_default(HALF_VALID)
    run_id, status = await wake_and_process(container, make_worker, stub_settings)

    assert status == RunStatus.FAILED
    assert len(stub.requests) == 3  # asked, then asked to correct itself twice
    # Each correction tells the model what was wrong.
    assert "That was refused" in str(stub.requests[1].messages[-1]["content"])
    run = await get_run(container.db, run_id)
    assert run.error.startswith(f"{STUB_MODEL} did not return valid `propose_decisions` arguments after 3 calls")
    assert "category" in run.error  # which field was wrong
    assert [s.name for s in await steps_of(container.db, run_id)] == ["context", "failed"]
    assert await count(container.db, Decision) == 0 and await count(container.db, OutboxMessage) == 0
    assert len(await spend_rows(container.db)) == 3


async def test_a_failure_writing_the_decisions_fails_the_run_and_counts_against_the_agent(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions are written with the run's end; an error there is a run failure like any
    other, not a run left RUNNING for the next worker to retake forever."""
    stub.set_default(VALID)

    async def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr("lumen.agents.service.record_decision", broken)
    run_id, status = await wake_and_process(container, make_worker, stub_settings)

    assert status == RunStatus.FAILED
    run = await get_run(container.db, run_id)
    assert run.error == "internal error: RuntimeError: disk full" and run.lease_owner is None
    # What the run read and what the model answered stay in its trail; nothing was decided.
    assert [s.name for s in await steps_of(container.db, run_id)] == ["context", "propose_decisions", "failed"]
    assert await count(container.db, Decision) == 0 and await count(container.db, OutboxMessage) == 0
    assert (await agent_of(container.db, "acme", "ceo")).consecutive_failures == 1


async def test_an_unreachable_model_fails_the_run_with_a_clear_reason(
    container: Container, stub_settings: Settings, make_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = stub_settings.model_copy(update={"model_api_base": closed_port_url(), "llm_max_attempts": 2})
    run_id, status = await wake_and_process(container, make_worker, unreachable)

    assert status == RunStatus.FAILED
    run = await get_run(container.db, run_id)
    assert run.error.startswith(f"No model answered: tried {STUB_MODEL} (2 calls). Last error: {STUB_MODEL}:")
    assert "Connection" in run.error and "LUMEN_MODEL_API_BASE" in run.error
    assert await count(container.db, Decision) == 0
    assert [(s.settled, s.cost_usd) for s in await spend_rows(container.db)] == [(True, 0), (True, 0)]


async def test_three_failures_in_a_row_trip_the_agent_and_tell_the_channel_once(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker, config_file
) -> None:
    db = container.db
    stub.set_default(HALF_VALID)
    failed = []
    for expected in range(1, BREAKER_THRESHOLD + 1):
        run_id, status = await wake_and_process(container, make_worker, stub_settings)
        failed.append(run_id)
        agent = await agent_of(db, "acme", "ceo")
        assert status == RunStatus.FAILED and agent.consecutive_failures == expected
        assert agent.status == (AgentStatus.TRIPPED if expected == BREAKER_THRESHOLD else AgentStatus.ACTIVE)

    assert agent.status_reason.startswith("3 runs failed in a row; last: openai/stub-model did not return valid")
    [message] = await outbox_rows(db)
    assert message.dedupe_key == f"breaker:{agent.id}:run:{failed[-1]}"
    assert message.method == "chat.postMessage" and message.payload["channel"] == "#venture-acme"
    assert message.payload["text"] == "⏸️ Paused the ceo agent of acme after 3 failed runs in a row."
    shown = block_text(message.payload["blocks"])
    assert "Last failure: openai/stub-model did not return valid" in shown
    assert "/lumen resume acme ceo" in shown

    # A human may still wake a tripped agent; another failure does not post again.
    _, status = await wake_and_process(container, make_worker, stub_settings)
    assert status == RunStatus.FAILED
    assert len(await outbox_rows(db)) == 1
    assert (await agent_of(db, "acme", "ceo")).status == AgentStatus.TRIPPED

    result = await lumen_cli(container, config_file, "resume", "acme", "ceo")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "resumed acme: ceo"
    agent = await agent_of(db, "acme", "ceo")
    assert (agent.status, agent.consecutive_failures) == (AgentStatus.ACTIVE, 0)
    assert agent.status_reason == "resumed by cli"


async def test_concurrent_failures_of_one_agent_are_all_counted(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    """Runs of one agent failing at the same moment: no deadlock, no lost count.

    Each failure's transaction finishes its run (which, on Postgres, key-share locks the agent
    through the run's foreign key) and then locks the agent to count; the count must serialize
    without deadlocking against the other failures' key-share locks. A few rounds, since the
    failures must meet inside those few milliseconds.
    """
    db = container.db
    stub.set_default(HALF_VALID)
    for _ in range(5):
        workers = [make_worker(stub_settings) for _ in range(BREAKER_THRESHOLD)]
        queued = [await enqueue_wake(db, "acme", "ceo") for _ in workers]
        # Each run claimed by its id, as `lumen wake` does in its own process: a worker's
        # claim_next takes one run of an agent at a time, so only such claims can meet.
        claims = [await runs.claim(db, run_id, w.owner, w.lease) for w, run_id in zip(workers, queued, strict=True)]

        statuses = await asyncio.wait_for(
            asyncio.gather(*(w.process(c) for w, c in zip(workers, claims, strict=True))), 20
        )

        assert statuses == [RunStatus.FAILED] * BREAKER_THRESHOLD
        agent = await agent_of(db, "acme", "ceo")
        assert (agent.status, agent.consecutive_failures) == (AgentStatus.TRIPPED, BREAKER_THRESHOLD)
        [message] = await outbox_rows(db)
        assert message.dedupe_key.startswith(f"breaker:{agent.id}:run:")
        async with db.transaction() as session:  # resume, and forget the message, for the next round
            await agents.set_paused(session, "acme", "ceo", paused=False, by="test")
            await session.execute(delete(OutboxMessage))


async def test_a_success_resets_the_failure_count(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    db = container.db
    stub.enqueue(*[HALF_VALID] * 6, VALID, *[HALF_VALID] * 3)
    for _ in range(2):
        assert (await wake_and_process(container, make_worker, stub_settings))[1] == RunStatus.FAILED
    assert (await agent_of(db, "acme", "ceo")).consecutive_failures == 2

    run_id, status = await wake_and_process(container, make_worker, stub_settings)
    assert status == RunStatus.SUCCEEDED
    assert [d.title for d in await decisions_of(db, run_id)] == ["Publish a churn benchmark report"]
    assert (await agent_of(db, "acme", "ceo")).consecutive_failures == 0

    assert (await wake_and_process(container, make_worker, stub_settings))[1] == RunStatus.FAILED
    agent = await agent_of(db, "acme", "ceo")
    assert (agent.status, agent.consecutive_failures) == (AgentStatus.ACTIVE, 1)
    assert len(stub.script) == 0


async def test_breaker_through_slack_paused_message_in_the_channel_and_lumen_resume(
    container: Container, stub: OpenAIStub, stub_settings: Settings, open_stack
) -> None:
    """The running stack: three /lumen wake runs fail, the channel hears why, /lumen resume resets."""
    db = container.db
    stub.set_default(HALF_VALID)
    async with open_stack(model_strong=STUB_MODEL, model_fast=STUB_MODEL, model_api_base=stub.base_url) as stack:
        ws = stack.workspace
        for failed in range(1, BREAKER_THRESHOLD + 1):  # one after another: a wake asked while one waits is that one
            await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme ceo")
            await eventually(lambda n=failed: _agent_if(db, lambda a: a.consecutive_failures >= n), timeout=20)

        paused = await ws.wait_for(
            lambda: [m for m in ws.messages("venture-acme") if "Paused the ceo agent" in m.text], timeout=20
        )
        assert len(paused) == 1
        assert paused[0].text == "⏸️ Paused the ceo agent of acme after 3 failed runs in a row."
        assert "did not return valid `propose_decisions` arguments" in block_text(paused[0].blocks)
        agent = await agent_of(db, "acme", "ceo")
        assert (agent.status, agent.consecutive_failures) == (AgentStatus.TRIPPED, 3)

        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "resume acme ceo")
        await ws.wait_for(lambda: any("resumed" in m.text for m in ws.messages("venture-acme")), timeout=10)
        agent = await eventually(
            lambda: _agent_if(db, lambda a: a.status == AgentStatus.ACTIVE), timeout=5
        )
        assert agent.consecutive_failures == 0
        assert agent.status_reason == "resumed by U0ALICE"
        assert not any(m.blocks and "decision #" in block_text(m.blocks) for m in ws.messages("venture-acme"))


async def _agent_if(db, predicate):  # type: ignore[no-untyped-def]
    agent = await agent_of(db, "acme", "ceo")
    return agent if predicate(agent) else None
