"""Model calls cut off by a crash or a stop, and the posts waiting when a replica stops.

A model call in flight when its worker dies has been paid to the provider (it answers a
request whether or not anyone is left to read the answer), and the run's next owner calls
again: it is paid twice. What must not happen is that the first call's budget reservation
stays reserved for ever, or that a stop cuts a Slack call off halfway and leaves the row to
be sent a second time.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from devslack import Workspace
from lumen.container import Container
from lumen.db.models import OutboxMessage, OutboxStatus, RunStatus, Spend, Step
from lumen.devmode import dev_stack
from lumen.engine import outbox
from lumen.engine.outbox import OutboxDispatcher
from lumen.settings import Settings
from slack_sdk.web.async_client import AsyncWebClient
from tests.engine.helpers import STUB_MODEL, all_rows, enqueue_wake, eventually, get_run, proposal
from tests.support.openai_stub import OpenAIStub
from tests.support.replicas import ReplicaProcess, replica_env, several_replicas_need_postgres

IDEA = {"category": "marketing", "title": "Host a webinar on churn benchmarks", "rationale": "Leads asked for it."}
PRICE = f"{STUB_MODEL}:0.000001:0.000002"


async def test_a_call_cut_off_by_sigkill_is_paid_twice_and_its_reservation_is_settled(
    container: Container, stub: OpenAIStub, stub_settings: Settings, config_file: Path, tmp_path: Path
) -> None:
    several_replicas_need_postgres(container)
    db = container.db
    stub.enqueue(dataclasses.replace(proposal(IDEA), delay_s=120))
    stub.set_default(proposal(IDEA))
    run_id = await enqueue_wake(db, "acme", "ceo")
    env = replica_env(stub_settings, LUMEN_TEST_QUICK="1", LUMEN_TEST_PRICED_MODEL=PRICE, LUMEN_TEST_WORKERS="1")
    async with AsyncExitStack() as stack:
        doomed = ReplicaProcess("doomed", env, tmp_path)
        await doomed.start()
        stack.push_async_callback(doomed.kill)
        await eventually(lambda: asyncio.sleep(0, len(stub.requests) == 1), timeout=30)
        [held] = await all_rows(db, Spend)
        assert not held.settled and held.cost_usd > 0  # the reservation of the call in flight
        await doomed.kill()

        heir = ReplicaProcess("heir", env, tmp_path)
        await heir.start()
        stack.push_async_callback(heir.stop)

        async def done() -> list[Spend] | None:
            run = await get_run(db, run_id)
            spends = await all_rows(db, Spend, Spend.run_id == run_id)
            finished = run.status == RunStatus.SUCCEEDED and all(s.settled for s in spends)
            return spends if finished else None

        spends = await eventually(done, timeout=60)
    assert len(stub.requests) == 2  # the cut-off call, and the heir's: paid twice
    cut_off, paid = sorted(spends, key=lambda s: s.id)
    assert cut_off.id == held.id and cut_off.cost_usd == held.cost_usd  # booked at what was reserved
    assert paid.cost_usd > 0 and paid.completion_tokens > 0
    async with db.sessions() as session:
        names = (await session.scalars(select(Step.name).where(Step.run_id == run_id).order_by(Step.seq))).all()
    assert names.count("propose_decisions") == 1


async def test_a_stop_during_a_long_model_call_leaves_the_outbox_time_to_finish_its_slack_call(
    container: Container, stub: OpenAIStub, stub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = container.db
    monkeypatch.setattr(outbox, "CLAIM_TIMEOUT", timedelta(seconds=3))
    stub.set_default(dataclasses.replace(proposal(IDEA), delay_s=60))
    notes = [f"Ops note {n}: the warehouse move is on schedule" for n in range(4)]
    ws = Workspace.demo()
    ws.ensure_channel("ops-notes")
    async with dev_stack(stub_settings, container.config, workspace=ws) as running:
        ws.slow(1.0)
        await enqueue_wake(db, "acme", "ceo")
        running.container.signals.runs.notify()
        await eventually(lambda: asyncio.sleep(0, len(stub.requests) == 1), timeout=20)
        async with db.transaction() as session:
            for n, text in enumerate(notes):
                await outbox.enqueue(session, "chat.postMessage", {"channel": "ops-notes", "text": text}, dedupe_key=f"ops:{n}")
        running.container.signals.outbox.notify()
        await ws.wait_for(lambda: ws.calls_to("chat.postMessage"), timeout=10)
        await running.replica.stop(grace=2.5)  # the model call outlives it; Slack answers in 1 s

        # The next replica's dispatcher sends what was left.
        heir = OutboxDispatcher(db, AsyncWebClient(token=ws.bot_token, base_url=running.container.settings.slack_api_url))
        ws.slow(0)

        async def delivered() -> bool:
            await heir.dispatch_due()
            rows = [r for r in await all_rows(db, OutboxMessage) if r.dedupe_key.startswith("ops:")]
            return all(r.status == OutboxStatus.SENT for r in rows)

        await eventually(delivered, timeout=20, interval=0.2)
        await asyncio.sleep(0.5)
        posted = Counter(m.text for m in ws.messages("ops-notes"))
        assert posted == Counter({text: 1 for text in notes}), posted
