"""Workers: claim queued runs, keep the lease alive, run them, record how they ended.

A worker that loses its lease (it stalled and another replica took the run) stops at its
next write. What a run does is its handler's (see `handlers`); the worker only knows how
to claim, renew, time out, and record the end, fenced, in one transaction.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from contextlib import suppress
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Run, RunStatus, Step, StepKind, Venture
from lumen.db.session import Database
from lumen.engine import runs
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, drain
from lumen.engine.handlers import FailedNote, Failure, Handlers, RunContext, RunFailed
from lumen.engine.journal import Journal
from lumen.engine.signals import Signals
from lumen.log import get_logger

log = get_logger(__name__)

RUN_TIMEOUT = timedelta(minutes=10)
# How much less often the workers other than the first look for work on their own.
IDLE_POLL_FACTOR = 20


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        db: Database,
        handlers: Handlers,
        signals: Signals,
        *,
        concurrency: int = 4,
        lease: timedelta = runs.DEFAULT_LEASE,
        run_timeout: timedelta = RUN_TIMEOUT,
        poll_interval: float = 0.5,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.signals = signals
        self.owner = worker_id()
        self.concurrency = concurrency
        self.lease = lease
        self.run_timeout = run_timeout
        self.poll_interval = poll_interval
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.create_task(self._loop(i), name=f"lumen-worker-{i}") for i in range(self.concurrency)]

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Claim nothing new and let runs in hand finish; cancel those still going after `grace`.

        A cancelled run keeps its lease until it expires, then another worker takes it over
        from its journal.
        """
        self._stopping = True
        self.signals.runs.notify()
        await drain(self._tasks, grace, what="runs")
        self._tasks = []

    async def _loop(self, index: int = 0) -> None:
        # One worker per replica polls; the others wait to be told. Idle polls are what an
        # idle replica spends its CPU on, and each one stalls whatever request meets it.
        idle_wait = self.poll_interval if index == 0 else self.poll_interval * IDLE_POLL_FACTOR
        while not self._stopping:
            self.signals.runs.clear()
            try:
                claim = await runs.claim_next(self.db, self.owner, self.lease)
            except Exception:
                log.exception("lumen.worker.claim_failed")
                claim = None
            if claim is None:
                await self.signals.runs.wait(idle_wait)
                continue
            self.signals.runs.notify()  # there may be more: the idle workers look too
            try:
                await self.process(claim)
            except Exception:  # e.g. the database failed while recording the end: keep the loop alive
                log.exception("lumen.run.process_failed", run_id=claim.run_id)

    async def run_one(self, run_id: int) -> RunStatus | None:
        """Claim one queued run and run it here (the CLI, the demo seed); None if it was not queued."""
        claim = await runs.claim(self.db, run_id, self.owner, self.lease)
        if claim is None:
            return None
        return await self.process(claim)

    async def process(self, claim: runs.Claim) -> RunStatus | None:
        """Run one claimed run to its end (or until its lease is lost)."""
        log.info("lumen.run.claimed", run_id=claim.run_id, epoch=claim.epoch, owner=claim.owner)
        renewer = asyncio.create_task(self._renew(claim))
        ctx: RunContext | None = None
        try:
            ctx = await self._load(claim)
            handler = self.handlers.for_kind(ctx.run.kind)
            if ctx.journal.replaying:
                log.info("lumen.run.replaying", run_id=claim.run_id)
            try:
                status = await asyncio.wait_for(handler.execute(ctx), self.run_timeout.total_seconds())
            except handler.expected as exc:
                return await self._fail(claim, Failure(str(exc), exc), ctx)
        except runs.LeaseLost:
            log.warning("lumen.run.lease_lost", run_id=claim.run_id, epoch=claim.epoch)
            return None
        except TimeoutError:
            return await self._fail(claim, Failure(f"timed out after {int(self.run_timeout.total_seconds())} s"), ctx)
        except RunFailed as exc:
            return await self._fail(claim, Failure(str(exc), exc), ctx)
        except Exception as exc:
            log.exception("lumen.run.crashed", run_id=claim.run_id)
            return await self._fail(claim, Failure(_internal(exc), exc), ctx)
        finally:
            renewer.cancel()
            with suppress(asyncio.CancelledError):
                await renewer
        try:
            await self._succeed(claim, status, ctx)
        except runs.LeaseLost:
            log.warning("lumen.run.lease_lost", run_id=claim.run_id, epoch=claim.epoch)
            return None
        except Exception as exc:
            # The deferred steps (the decisions and their posts) are written here: a failure
            # to write them fails the run like any other, rather than leaving it to be retaken.
            log.exception("lumen.run.crashed", run_id=claim.run_id)
            return await self._fail(claim, Failure(_internal(exc), exc), ctx)
        return status

    async def _renew(self, claim: runs.Claim) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await runs.renew(self.db, claim, self.lease)
            except runs.LeaseLost:
                return
            except Exception:
                log.warning("lumen.run.renew_failed", run_id=claim.run_id)

    async def _load(self, claim: runs.Claim) -> RunContext:
        async with self.db.sessions() as session:
            # The run with its agent and venture in one query, and the journal in the same
            # session: every statement is a round trip (to aiosqlite's thread, or the server).
            found = (
                await session.execute(
                    select(Run, Agent, Venture)
                    .outerjoin(Agent, Agent.id == Run.agent_id)
                    .outerjoin(Venture, Venture.id == Run.venture_id)
                    .where(Run.id == claim.run_id)
                )
            ).first()
            if found is None:
                raise RunFailed(f"run {claim.run_id} no longer exists")
            run, agent, venture = found
            recorded = (await session.scalars(select(Step).where(Step.run_id == claim.run_id).order_by(Step.seq))).all()
        return RunContext(run=run, agent=agent, venture=venture, journal=Journal(self.db, claim, list(recorded)))

    async def _succeed(self, claim: runs.Claim, status: RunStatus, ctx: RunContext) -> None:
        # The closing note and any deferred step are written with the run's end: one
        # transaction fewer per run.
        async with self.db.transaction() as session:
            # Fenced: a stale worker writes nothing.
            await runs.finish(session, claim, status, **ctx.journal.unwritten_values)
            await ctx.journal.write_unwritten(session)
            await self.handlers.for_kind(ctx.run.kind).succeeded(session, ctx)
            await self.handlers.run_ended(session, ctx.run, status)
        self.signals.outbox.notify()
        self.signals.runs.notify()  # a run of this agent waiting for it to end, or one it woke
        log.info("lumen.run.finished", run_id=claim.run_id, status=status.value)

    async def _fail(self, claim: runs.Claim, failure: Failure, ctx: RunContext | None) -> RunStatus | None:
        log.warning("lumen.run.failed", run_id=claim.run_id, reason=failure.reason)
        journal = ctx.journal if ctx else None
        try:
            async with self.db.transaction() as session:
                await runs.fence(session, claim, **(journal.values_of(effects=False) if journal else {}))
                if journal is not None:
                    # What the run read before failing stays in its trail: it explains the failure.
                    await journal.write_unwritten(session, closing=False, effects=False)
                session.add(
                    Step(
                        run_id=claim.run_id,
                        seq=await _next_seq(session, claim.run_id),
                        kind=StepKind.STATE,
                        name="failed",
                        output=FailedNote(reason=failure.reason).model_dump(mode="json"),
                        epoch=claim.epoch,
                    )
                )
                await runs.finish(session, claim, RunStatus.FAILED, error=failure.reason)
                run = await session.get(Run, claim.run_id)
                handler = self.handlers.get(run.kind) if run is not None else None
                if run is not None and handler is not None:
                    await handler.failed(session, run, failure)
                if run is not None:
                    await self.handlers.run_ended(session, run, RunStatus.FAILED)
        except runs.LeaseLost:
            return None
        self.signals.outbox.notify()
        return RunStatus.FAILED


async def _next_seq(session: AsyncSession, run_id: int) -> int:
    return ((await session.scalar(select(func.max(Step.seq)).where(Step.run_id == run_id))) or 0) + 1


def _internal(exc: BaseException) -> str:
    """An unexpected error as a run's recorded reason: its first line, bounded (a database
    error can carry a statement with a hundred thousand parameters)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"internal error: {type(exc).__name__}: {first[:300]}"
