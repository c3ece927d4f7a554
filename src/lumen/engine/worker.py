"""Workers: claim queued runs, keep the lease alive, run them, record how they ended.

A worker that loses its lease (it stalled and another replica took the run)
stops at its next write. Failures are recorded with a readable reason; after
`BREAKER_THRESHOLD` consecutive failures the agent is paused and the channel
is told why.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, AgentStatus, Run, RunKind, RunStatus, Step, StepKind, Venture
from lumen.engine import outbox, runs
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, drain
from lumen.agents.decisions import channel_of
from lumen.engine.journal import Journal
from lumen.errors import LumenError
from lumen.llm import Gateway
from lumen.llm.errors import BudgetExceeded, LLMError
from lumen.log import get_logger
from lumen.services import Services
from lumen.slack.blocks.agents import breaker_tripped_payload, budget_paused_payload

log = get_logger(__name__)

BREAKER_THRESHOLD = 3
RUN_TIMEOUT = timedelta(minutes=10)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RunFailed(LumenError):
    pass


class Worker:
    def __init__(
        self,
        services: Services,
        gateway: Gateway,
        *,
        concurrency: int = 4,
        lease: timedelta = runs.DEFAULT_LEASE,
        run_timeout: timedelta = RUN_TIMEOUT,
        poll_interval: float = 0.5,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self.gateway = gateway
        self.owner = worker_id()
        self.concurrency = concurrency
        self.lease = lease
        self.run_timeout = run_timeout
        self.poll_interval = poll_interval
        self.on_outbox = on_outbox or (lambda: None)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def notify(self) -> None:
        """A run was just queued: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.create_task(self._loop(), name=f"lumen-worker-{i}") for i in range(self.concurrency)]

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Claim nothing new and let runs in hand finish; cancel those still going after `grace`.

        A cancelled run keeps its lease until it expires, then another worker takes it over
        from its journal.
        """
        self._stopping = True
        self._wake.set()
        await drain(self._tasks, grace, what="runs")
        self._tasks = []

    async def _loop(self) -> None:
        while not self._stopping:
            # Clear before looking, not after: a notify() that lands while we look must not be lost.
            self._wake.clear()
            try:
                claim = await runs.claim_next(self.services.db, self.owner, self.lease)
            except Exception:
                log.exception("lumen.worker.claim_failed")
                claim = None
            if claim is None:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                continue
            try:
                await self.process(claim)
            except Exception:  # e.g. the database failed while recording the end: keep the loop alive
                log.exception("lumen.run.process_failed", run_id=claim.run_id)

    async def process(self, claim: runs.Claim) -> RunStatus | None:
        """Run one claimed run to its end (or until its lease is lost)."""
        log.info("lumen.run.claimed", run_id=claim.run_id, epoch=claim.epoch, owner=claim.owner)
        renewer = asyncio.create_task(self._renew(claim))
        journal: Journal | None = None
        try:
            run, agent, venture, journal = await self._load(claim)
            status, reset_agent = await asyncio.wait_for(
                self._execute(journal, run, agent, venture), self.run_timeout.total_seconds()
            )
        except runs.LeaseLost:
            log.warning("lumen.run.lease_lost", run_id=claim.run_id, epoch=claim.epoch)
            return None
        except TimeoutError:
            reason = f"timed out after {int(self.run_timeout.total_seconds())} s"
            return await self._fail(claim, reason, journal)
        except BudgetExceeded as exc:
            return await self._fail(claim, str(exc), journal, budget_exhausted=True)
        except (LLMError, RunFailed) as exc:
            return await self._fail(claim, str(exc), journal)
        except Exception as exc:
            log.exception("lumen.run.crashed", run_id=claim.run_id)
            return await self._fail(claim, f"internal error: {type(exc).__name__}: {exc}", journal)
        finally:
            renewer.cancel()
            with suppress(asyncio.CancelledError):
                await renewer
        try:
            await self._succeed(claim, status, journal, reset_agent)
        except runs.LeaseLost:
            log.warning("lumen.run.lease_lost", run_id=claim.run_id, epoch=claim.epoch)
            return None
        except Exception as exc:
            # The deferred steps (the decisions and their posts) are written here: a failure
            # to write them fails the run like any other, rather than leaving it to be retaken.
            log.exception("lumen.run.crashed", run_id=claim.run_id)
            return await self._fail(claim, f"internal error: {type(exc).__name__}: {exc}", journal)
        return status

    async def _renew(self, claim: runs.Claim) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await runs.renew(self.services.db, claim, self.lease)
            except runs.LeaseLost:
                return
            except Exception:
                log.warning("lumen.run.renew_failed", run_id=claim.run_id)

    async def _load(self, claim: runs.Claim) -> tuple[Run, Agent | None, Venture | None, Journal]:
        async with self.services.db.sessions() as session:
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
            assert found is not None
            run, agent, venture = found
            recorded = (await session.scalars(select(Step).where(Step.run_id == claim.run_id).order_by(Step.seq))).all()
        return run, agent, venture, Journal(self.services.db, claim, list(recorded))

    async def _execute(
        self, journal: Journal, run: Run, agent: Agent | None, venture: Venture | None
    ) -> tuple[RunStatus, int | None]:
        """Run the run's handler; returns its status and an agent whose failure count a
        success should reset."""
        from lumen.agents.wakeup import WakeUp
        from lumen.brain.platform import PlatformSynthesis
        from lumen.brain.synthesis import Synthesis

        if journal.replaying:
            log.info("lumen.run.replaying", run_id=run.id)
        if run.kind == RunKind.WAKE:
            if agent is None or venture is None:
                raise RunFailed(f"run {run.id}: its agent or venture no longer exists")
            status = await WakeUp(self.services, self.gateway, journal, run, agent, venture).execute()
        elif run.kind == RunKind.SYNTHESIS:
            if venture is None:
                raise RunFailed(f"run {run.id}: its venture no longer exists")
            status = await Synthesis(self.services, self.gateway, journal, run, venture).execute()
        else:
            status = await PlatformSynthesis(self.services, self.gateway, journal, run).execute()
        reset = agent.id if agent is not None and run.side_effects and agent.consecutive_failures else None
        return status, reset

    async def _succeed(
        self, claim: runs.Claim, status: RunStatus, journal: Journal, reset_agent: int | None = None
    ) -> None:
        # The closing note and any deferred step are written with the run's end: one
        # transaction fewer per run.
        async with self.services.db.transaction() as session:
            # Fenced: a stale worker writes nothing.
            await runs.finish(session, claim, status, **journal.unwritten_values)
            await journal.write_unwritten(session)
            if reset_agent is not None:
                await session.execute(update(Agent).where(Agent.id == reset_agent).values(consecutive_failures=0))
        self.on_outbox()
        log.info("lumen.run.finished", run_id=claim.run_id, status=status.value)

    async def _fail(
        self, claim: runs.Claim, reason: str, journal: Journal | None, *, budget_exhausted: bool = False
    ) -> RunStatus | None:
        log.warning("lumen.run.failed", run_id=claim.run_id, reason=reason)
        try:
            async with self.services.db.transaction() as session:
                await runs.fence(session, claim, **(journal.values_of(effects=False) if journal else {}))
                if journal is not None:
                    # What the run read before failing stays in its trail: it explains the failure.
                    await journal.write_unwritten(session, closing=False, effects=False)
                journal_seq = await _next_seq(session, claim.run_id)
                session.add(
                    Step(
                        run_id=claim.run_id,
                        seq=journal_seq,
                        kind=StepKind.STATE,
                        name="failed",
                        output={"reason": reason},
                        epoch=claim.epoch,
                    )
                )
                await runs.finish(session, claim, RunStatus.FAILED, error=reason)
                run = await session.get(Run, claim.run_id)
                if run is not None and run.agent_id is not None and run.side_effects:
                    if budget_exhausted:
                        await _pause_for_budget(session, run.agent_id, claim.run_id, reason)
                    else:
                        await _count_failure(session, run.agent_id, claim.run_id, reason)
        except runs.LeaseLost:
            return None
        self.on_outbox()
        return RunStatus.FAILED


async def _next_seq(session: AsyncSession, run_id: int) -> int:
    return ((await session.scalar(select(func.max(Step.seq)).where(Step.run_id == run_id))) or 0) + 1


async def _pause_for_budget(session: AsyncSession, agent_id: int, run_id: int, reason: str) -> None:
    """A spent envelope is not a fault to count: the agent stops until a human resumes it."""
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.status != AgentStatus.ACTIVE:
        return
    venture = await session.get(Venture, agent.venture_id)
    agent.status = AgentStatus.PAUSED
    agent.status_reason = f"monthly budget reached: {reason}"
    log.warning("lumen.agent.budget_exhausted", agent_id=agent.id, run_id=run_id)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": channel_of(venture)} | budget_paused_payload(venture.slug, agent.role, reason),
        dedupe_key=f"budget:{agent.id}:run:{run_id}",
    )


async def _count_failure(session: AsyncSession, agent_id: int, run_id: int, reason: str) -> None:
    """The circuit breaker: pause the agent after too many failures in a row, and say why."""
    # FOR NO KEY UPDATE, not FOR UPDATE: this transaction already holds a key-share lock on the
    # agent (finishing the run re-checks its foreign keys), and so may another failing run of the
    # same agent; FOR UPDATE would deadlock with it, FOR NO KEY UPDATE still serializes the count.
    postgres = session.bind.dialect.name == "postgresql"
    agent = await session.get(Agent, agent_id, with_for_update={"key_share": True} if postgres else None)
    if agent is None:
        return
    agent.consecutive_failures += 1
    if agent.consecutive_failures < BREAKER_THRESHOLD or agent.status != AgentStatus.ACTIVE:
        return
    venture = await session.get(Venture, agent.venture_id)
    agent.status = AgentStatus.TRIPPED
    agent.status_reason = f"{agent.consecutive_failures} runs failed in a row; last: {reason}"
    log.warning("lumen.agent.tripped", agent_id=agent.id, reason=reason)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": channel_of(venture)} | breaker_tripped_payload(venture.slug, agent.role, agent.consecutive_failures, reason),
        dedupe_key=f"breaker:{agent.id}:run:{run_id}",
    )


async def run_now(services: Services, gateway: Gateway, run_id: int) -> RunStatus | None:
    """Claim one queued run and run it in this process (the CLI, the demo seed)."""
    worker = Worker(services, gateway)
    claim = await runs.claim(services.db, run_id, worker.owner)
    if claim is None:
        return None
    return await worker.process(claim)
