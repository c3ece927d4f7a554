"""Durable runs: leases, fencing, a worker killed mid-run, and the run timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from lumen.settings import Settings
from lumen.db.base import utcnow
from lumen.db.models import Decision, OutboxMessage, OutboxStatus, Run, RunStatus, Step, StepKind
from devslack import Workspace
from devslack import start as start_workspace
from lumen.engine import outbox, runs
from lumen.engine.journal import Journal, StepResult
from lumen.errors import Invariant
from lumen.engine.outbox import OutboxDispatcher
from lumen.container import Container
from tests.engine.helpers import (
    STUB_MODEL,
    agent_of,
    all_rows,
    count,
    decision_ids_posted,
    decisions_of,
    enqueue_wake,
    eventually,
    get_run,
    outbox_rows,
    proposal,
    spend_rows,
    steps_of,
)
from tests.support.openai_stub import OpenAIStub

CRASHING_WORKER = Path(__file__).parent / "procs" / "crashing_worker.py"


class Stale(BaseModel):
    stale: bool = True


class Empty(BaseModel):
    pass


class Versions(BaseModel):
    brain_version: int
    insight_version: int


class Posted(BaseModel):
    posted: bool = False

TWO_DECISIONS = (
    {"category": "marketing", "title": "Publish a churn benchmark report", "rationale": "Inbound."},
    {"category": "research", "title": "Interview ten churned customers", "expected_effect": "Top 3 churn reasons"},
)


async def test_a_stale_worker_is_fenced_out_and_writes_nothing(container: Container) -> None:
    db = container.db
    run_id = await enqueue_wake(db, "acme", "ceo")
    stale = await runs.claim_next(db, "worker-a", timedelta(milliseconds=200))
    assert stale is not None and (stale.run_id, stale.epoch) == (run_id, 1)
    # While the lease is live nobody else gets the run.
    assert await runs.claim_next(db, "worker-b", timedelta(seconds=5)) is None
    await asyncio.sleep(0.3)
    fresh = await runs.claim_next(db, "worker-b", timedelta(seconds=5))
    assert fresh is not None and (fresh.run_id, fresh.epoch) == (run_id, 2)

    # Worker A wakes up from its stall: every write it tries is refused, and rolled back whole.
    with pytest.raises(runs.LeaseLost):
        await runs.renew(db, stale)
    journal = await Journal.load(db, stale)

    async def effect(session, output: Stale) -> None:  # type: ignore[no-untyped-def]
        await outbox.enqueue(session, "chat.postMessage", {"channel": "#x", "text": "stale"}, dedupe_key="stale")

    async def action() -> StepResult[Stale]:
        return StepResult(output=Stale())

    with pytest.raises(runs.LeaseLost):
        await journal.step(StepKind.STATE, "context", action, Stale, effect=effect)
    assert await steps_of(db, run_id) == []
    assert await outbox_rows(db) == []

    # Worker B still owns it and writes normally.
    fresh_journal = await Journal.load(db, fresh)
    await fresh_journal.step(StepKind.STATE, "context", action, Stale)
    [step] = await steps_of(db, run_id)
    assert step.epoch == 2
    run = await get_run(db, run_id)
    assert (run.status, run.lease_owner, run.attempts) == (RunStatus.RUNNING, "worker-b", 2)


async def test_every_write_under_a_claim_extends_the_lease_by_the_claims_own_lease(container: Container) -> None:
    """A worker configured with a short lease keeps it short: a crash is taken over quickly."""
    db = container.db
    run_id = await enqueue_wake(db, "acme", "ceo")
    claim = await runs.claim_next(db, "worker-a", timedelta(seconds=2))
    journal = await Journal.load(db, claim)

    async def action() -> StepResult[Empty]:
        return StepResult(output=Empty())

    await journal.step(StepKind.STATE, "context", action, Empty)
    left = (await get_run(db, run_id)).lease_expires_at - utcnow()
    assert timedelta(seconds=1) < left <= timedelta(seconds=2)
    await runs.renew(db, claim)
    left = (await get_run(db, run_id)).lease_expires_at - utcnow()
    assert timedelta(seconds=1) < left <= timedelta(seconds=2)


async def test_a_worker_whose_lease_was_taken_over_mid_call_records_nothing_of_its_answer(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    """A stalls inside the model call; B takes the run over, finishes it; A's answer is dropped."""
    db = container.db
    stalled = dataclasses.replace(proposal({"category": "marketing", "title": "The stale worker's idea"}), delay_s=1.5)
    stub.enqueue(stalled, proposal({"category": "marketing", "title": "The fresh worker's idea"}))
    run_id = await enqueue_wake(db, "acme", "ceo")
    worker_a = make_worker(stub_settings, lease=timedelta(seconds=30))
    worker_b = make_worker(stub_settings)
    claim_a = await runs.claim_next(db, worker_a.owner, worker_a.lease)
    task_a = asyncio.create_task(worker_a.process(claim_a))
    await eventually(lambda: asyncio.sleep(0, len(stub.requests) == 1))

    # A's lease runs out (its renewals stopped landing); B claims the run.
    async with db.transaction() as session:
        await session.execute(update(Run).where(Run.id == run_id).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    claim_b = await runs.claim_next(db, worker_b.owner, worker_b.lease)
    assert claim_b is not None and claim_b.epoch == claim_a.epoch + 1
    assert await worker_b.process(claim_b) == RunStatus.SUCCEEDED
    assert await task_a is None  # LeaseLost: A stops without recording anything

    steps = await steps_of(db, run_id)
    # A's context read was to be written with its model call, so nothing of A's is left:
    # B read the context again and did everything else.
    assert [(s.name, s.epoch) for s in steps] == [
        ("context", 2),
        ("propose_decisions", 2),
        ("decision:0", 2),
        ("finished", 2),
    ]
    [decision] = await decisions_of(db, run_id)
    assert decision.title == "The fresh worker's idea"
    [post] = await outbox_rows(db)
    assert "fresh worker" in post.payload["text"]
    run = await get_run(db, run_id)
    assert (run.status, run.error, run.epoch, run.attempts) == (RunStatus.SUCCEEDED, None, 2, 2)
    assert (await agent_of(db, "acme", "ceo")).consecutive_failures == 0
    # Both calls were paid for, and the ledger says so.
    assert len(await spend_rows(db)) == 2


async def test_a_worker_killed_mid_run_is_taken_over_without_a_second_model_call_or_post(
    container: Container, database_url: str, stub: OpenAIStub, stub_settings: Settings, make_worker, config_file: Path
) -> None:
    """SIGKILL a worker process after the model call committed, as it derives the decisions.

    Another worker takes the run over once the lease expires and finishes it from the
    journal: the model is not called again and each decision and post exists once.
    """
    db = container.db
    stub.set_default(proposal(*TWO_DECISIONS))
    run_id = await enqueue_wake(db, "acme", "ceo")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CRASHING_WORKER), database_url, str(config_file), STUB_MODEL, "1.0", "decision:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.startswith(b"reached"), line + await proc.stderr.read()
        assert line.split()[1:] == [str(run_id).encode(), b"1"]
        # What the dead worker leaves behind: the model's answer. The first decision it derived
        # was to be written with the run's end (decisions are cheap to derive again).
        assert [s.name for s in await steps_of(db, run_id)] == ["context", "propose_decisions"]
        assert await decisions_of(db, run_id) == [] and await outbox_rows(db) == []
        assert len(stub.requests) == 1
        os.kill(proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    run = await get_run(db, run_id)
    assert run.status == RunStatus.RUNNING and f":{proc.pid}:" in run.lease_owner
    worker = make_worker(stub_settings)
    # The dead worker's lease is still live for a moment: nobody may take the run yet...
    assert await runs.claim_next(db, worker.owner, worker.lease) is None
    # ...and once it expires, the next worker does.
    claim = await eventually(lambda: runs.claim_next(db, worker.owner, worker.lease), timeout=5)
    assert (claim.run_id, claim.epoch) == (run_id, 2)
    assert await worker.process(claim) == RunStatus.SUCCEEDED

    assert len(stub.requests) == 1  # the model was not called again
    [spend] = await spend_rows(db)
    assert spend.settled and spend.run_id == run_id
    steps = await steps_of(db, run_id)
    assert [(s.seq, s.name, s.epoch) for s in steps] == [
        (1, "context", 1),
        (2, "propose_decisions", 1),
        (3, "decision:0", 2),
        (4, "decision:1", 2),
        (5, "finished", 2),
    ]
    decisions = await decisions_of(db, run_id)
    assert [(d.ordinal, d.title) for d in decisions] == [(0, TWO_DECISIONS[0]["title"]), (1, TWO_DECISIONS[1]["title"])]
    posts = await outbox_rows(db)
    assert sorted(p.dedupe_key for p in posts) == sorted(f"decision:{d.id}:post" for d in decisions)
    assert (await get_run(db, run_id)).cost_usd == spend.cost_usd  # the call's cost counted once

    # Delivered to Slack: one message per decision.
    workspace = Workspace.demo()
    runner, url = await start_workspace(workspace, "127.0.0.1", 0)
    try:
        workspace.ensure_channel("venture-acme")
        dispatcher = OutboxDispatcher(db, AsyncWebClient(token=workspace.bot_token, base_url=f"{url}/api/"))
        while await dispatcher.dispatch_due():
            pass
        assert sorted(decision_ids_posted(workspace.messages("venture-acme"))) == [d.id for d in decisions]
        assert {p.status for p in await outbox_rows(db)} == {OutboxStatus.SENT}
    finally:
        await workspace.aclose()
        await runner.cleanup()


async def test_a_run_over_its_timeout_fails_and_stores_nothing(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    db = container.db
    stub.set_default(dataclasses.replace(proposal(*TWO_DECISIONS), delay_s=5))
    run_id = await enqueue_wake(db, "acme", "ceo")
    worker = make_worker(stub_settings, run_timeout=timedelta(seconds=1))
    claim = await runs.claim_next(db, worker.owner, worker.lease)
    started = asyncio.get_running_loop().time()

    assert await worker.process(claim) == RunStatus.FAILED

    assert asyncio.get_running_loop().time() - started < 3
    run = await get_run(db, run_id)
    assert run.status == RunStatus.FAILED and run.error == "timed out after 1 s"
    assert run.finished_at is not None and run.lease_owner is None
    assert [s.name for s in await steps_of(db, run_id)] == ["context", "failed"]
    assert await count(db, Decision) == 0 and await count(db, OutboxMessage) == 0
    [spend] = await spend_rows(db)
    assert spend.settled and spend.cost_usd == 0  # the abandoned call holds no reservation
    assert (await agent_of(db, "acme", "ceo")).consecutive_failures == 1
    [failed] = await all_rows(db, Step, Step.run_id == run_id, Step.name == "failed")
    assert failed.output == {"reason": "timed out after 1 s"}


async def test_deferred_steps_are_written_with_the_next_step_and_carry_their_run_columns(container: Container) -> None:
    db = container.db
    run_id = await enqueue_wake(db, "acme", "ceo")
    claim = await runs.claim_next(db, "worker-a", timedelta(seconds=30))
    journal = await Journal.load(db, claim)

    async def read() -> StepResult[Versions]:
        return StepResult(output=Versions(brain_version=3, insight_version=2))

    async def post(session, output: Posted) -> None:  # type: ignore[no-untyped-def]
        await outbox.enqueue(session, "chat.postMessage", {"channel": "#x", "text": "hi"}, dedupe_key="deferred")
        output.posted = True

    async def unposted() -> StepResult[Posted]:
        return StepResult(output=Posted())

    versions = lambda o: {"brain_version": o.brain_version, "insight_version": o.insight_version}  # noqa: E731
    await journal.step(StepKind.STATE, "context", read, Versions, run_values=versions, deferred=True)
    await journal.step(StepKind.TOOL_CALL, "post", unposted, Posted, effect=post, deferred=True)
    assert await steps_of(db, run_id) == [] and await outbox_rows(db) == []
    # A second deferred step may not set a column the first one sets: one would be lost.
    with pytest.raises(Invariant, match="brain_version"):
        await journal.step(StepKind.STATE, "again", read, Versions, run_values=versions, deferred=True)

    await journal.flush()
    steps = await steps_of(db, run_id)
    assert [(s.seq, s.name) for s in steps] == [(1, "context"), (2, "post")]
    assert steps[1].output == {"posted": True}  # the effect's addition is in the row
    assert [r.dedupe_key for r in await outbox_rows(db)] == ["deferred"]
    run = await get_run(db, run_id)
    assert (run.brain_version, run.insight_version) == (3, 2)

