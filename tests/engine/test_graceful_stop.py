"""Stopping a replica: work in flight finishes; what outlives the grace period is left to be
taken over, and the database is left unlocked for whoever comes next."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from lumen.settings import Settings
from lumen.db.models import Decision, RunStatus
from lumen.engine import runs
from lumen.runtime import make_scheduler
from lumen.container import Container
from tests.engine.helpers import count, decisions_of, enqueue_wake, eventually, get_run, proposal
from tests.support.openai_stub import OpenAIStub

IDEA = {"category": "marketing", "title": "Publish a churn benchmark report", "rationale": "Inbound."}


async def test_a_run_in_flight_finishes_before_the_worker_stops(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    db = container.db
    stub.set_default(dataclasses.replace(proposal(IDEA), delay_s=0.5))
    run_id = await enqueue_wake(db, "acme", "ceo")
    worker = make_worker(stub_settings)
    worker.start()
    await eventually(lambda: asyncio.sleep(0, len(stub.requests) == 1))

    await worker.stop(grace=10)

    run = await get_run(db, run_id)
    assert run.status == RunStatus.SUCCEEDED and run.lease_owner is None
    assert [d.title for d in await decisions_of(db, run_id)] == [IDEA["title"]]
    # And it took nothing new on its way out.
    later = await enqueue_wake(db, "acme", "ceo", key="after-stop")
    await asyncio.sleep(0.2)
    assert (await get_run(db, later)).status == RunStatus.QUEUED


async def test_a_run_that_outlives_the_grace_is_cancelled_and_taken_over_later(
    container: Container, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    db = container.db
    stub.enqueue(dataclasses.replace(proposal(IDEA), delay_s=30), proposal(IDEA))
    run_id = await enqueue_wake(db, "acme", "ceo")
    leaving = make_worker(stub_settings, lease=timedelta(seconds=1))
    leaving.start()
    await eventually(lambda: asyncio.sleep(0, len(stub.requests) == 1))

    await leaving.stop(grace=0.2)

    # Cancelled mid-call: nothing decided, the run still held until its lease runs out.
    run = await get_run(db, run_id)
    assert run.status == RunStatus.RUNNING and await count(db, Decision) == 0
    # The database is not left locked: a write goes through at once.
    await asyncio.wait_for(enqueue_wake(db, "acme", "cmo", key="probe"), 2)

    heir = make_worker(stub_settings)
    await asyncio.sleep(1.1)
    claim = await runs.claim_next(db, heir.owner, heir.lease)
    assert claim is not None and claim.run_id == run_id and claim.epoch == 2
    assert await heir.process(claim) == RunStatus.SUCCEEDED
    assert [d.title for d in await decisions_of(db, run_id)] == [IDEA["title"]]


async def test_the_scheduler_lets_a_running_job_finish(container: Container) -> None:
    scheduler = make_scheduler(container)
    finished = asyncio.Event()
    started = asyncio.Event()

    async def slow_job() -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.set()

    scheduler.every(0.05, "test:slow", slow_job)
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)

    await scheduler.stop(grace=5)

    assert finished.is_set() and not scheduler.scheduler.running
