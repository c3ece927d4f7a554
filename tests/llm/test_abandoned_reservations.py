"""Reservations nobody is left to settle are settled by the sweep, at what was reserved, and
only those: a call still in flight keeps its reservation. A call cut off by a stop is booked
at its reservation too (the provider bills a request it received)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from lumen.db.base import utcnow
from lumen.db.models import Run, RunKind, RunStatus, RunTrigger, Spend
from lumen.db.session import Database
from lumen.llm import Attribution, SpendLedger
from tests.support.openai_stub import OpenAIStub, text

RUNLESS_AFTER = timedelta(minutes=3)


async def _run(db: Database, attribution: Attribution, key: str, status: RunStatus, lease_s: float | None) -> int:
    now = utcnow()
    async with db.transaction() as session:
        run = Run(
            kind=RunKind.WAKE,
            venture_id=attribution.venture_id,
            agent_id=attribution.agent_id,
            trigger=RunTrigger.MANUAL,
            idempotency_key=key,
            status=status,
            started_at=now - timedelta(seconds=30),
            lease_owner="a worker" if lease_s is not None else None,
            lease_expires_at=now + timedelta(seconds=lease_s) if lease_s is not None else None,
        )
        session.add(run)
        await session.flush()
        return run.id


async def _reserve(ledger: SpendLedger, attribution: Attribution, run_id: int | None, cost: str, age_s: float) -> int:
    return await ledger.reserve(
        dataclasses.replace(attribution, run_id=run_id), "openai/some-model", Decimal(cost), now=utcnow() - timedelta(seconds=age_s)
    )


async def test_the_sweep_settles_what_no_live_call_holds(db: Database, attribution: Attribution) -> None:
    ledger = SpendLedger(db)
    in_flight = await _run(db, attribution, "in-flight", RunStatus.RUNNING, lease_s=20)
    crashed = await _run(db, attribution, "crashed", RunStatus.RUNNING, lease_s=-5)
    taken_over = await _run(db, attribution, "taken-over", RunStatus.RUNNING, lease_s=20)
    finished = await _run(db, attribution, "finished", RunStatus.SUCCEEDED, lease_s=None)
    held = {
        "live call of a held run": await _reserve(ledger, attribution, in_flight, "0.0100", age_s=5),
        "call of a worker whose lease ran out": await _reserve(ledger, attribution, crashed, "0.0200", age_s=5),
        "call made under the run's previous claim": await _reserve(ledger, attribution, taken_over, "0.0300", age_s=60),
        "call of a run that ended": await _reserve(ledger, attribution, finished, "0.0400", age_s=5),
        "recent call outside a run": await _reserve(ledger, attribution, None, "0.0500", age_s=5),
        "old call outside a run": await _reserve(ledger, attribution, None, "0.0600", age_s=600),
    }
    before = await ledger.month_to_date(attribution.agent_id)  # type: ignore[arg-type]

    assert await ledger.settle_abandoned(RUNLESS_AFTER) == 4
    async with db.sessions() as session:
        rows = {s.id: s for s in (await session.scalars(select(Spend))).all()}
    settled = {what for what, spend_id in held.items() if rows[spend_id].settled}
    assert settled == {
        "call of a worker whose lease ran out",
        "call made under the run's previous claim",
        "call of a run that ended",
        "old call outside a run",
    }
    assert [rows[i].cost_usd for i in held.values()] == [Decimal(c) for c in ("0.01", "0.02", "0.03", "0.04", "0.05", "0.06")]
    assert await ledger.month_to_date(attribution.agent_id) == before  # type: ignore[arg-type]
    assert await ledger.settle_abandoned(RUNLESS_AFTER) == 0

    # The live call ends as calls do, and settles itself with what it used.
    await ledger.settle(held["live call of a held run"], prompt_tokens=900, completion_tokens=120, cost_usd=Decimal("0.0031"), latency_ms=800)
    async with db.transaction() as session:
        await session.execute(update(Run).where(Run.id == in_flight).values(status=RunStatus.SUCCEEDED, lease_expires_at=None))
    assert await ledger.settle_abandoned(RUNLESS_AFTER) == 0


async def test_a_call_cut_off_by_a_stop_is_booked_at_its_reservation(
    db: Database, stub: OpenAIStub, make_gateway, attribution: Attribution, priced_model: str
) -> None:
    stub.enqueue(dataclasses.replace(text("a long answer"), delay_s=30))
    gateway = make_gateway(strong=(priced_model,), max_output_tokens=1000)
    call = asyncio.create_task(gateway.complete("strong", [{"role": "user", "content": "summarise the quarter"}], attribution=attribution))
    await _until(lambda: len(stub.requests) == 1)
    async with db.sessions() as session:
        [reserved] = (await session.scalars(select(Spend))).all()
    assert not reserved.settled and reserved.cost_usd > 0
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    async with db.sessions() as session:
        [row] = (await session.scalars(select(Spend))).all()
    assert row.settled and row.cost_usd == reserved.cost_usd


async def _until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "not within the timeout"
        await asyncio.sleep(0.02)
