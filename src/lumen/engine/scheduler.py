"""Agents' schedules in APScheduler 3: a firing only inserts a run.

One in-memory scheduler per replica. Each replica fires the same schedules;
the run's idempotency key (`wake:<venture>/<role>:<nominal fire time>`) under a
UNIQUE constraint makes them create one run per fire time between them.

APScheduler does not tell a job which fire time it stands for, so a small
executor passes the scheduled run times along. After downtime, APScheduler
coalesces the missed firings into one call; we key the catch-up run by the
latest of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lumen.db.base import utcnow
from lumen.config import LumenConfig
from lumen.db.models import Agent, AgentStatus, Run, RunKind, RunTrigger, Venture
from lumen.db.session import Database
from lumen.domain.cron import cron_trigger
from lumen.engine import runs
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, drain
from lumen.log import get_logger

log = get_logger(__name__)

# How far back a replica that was down looks for a firing it missed.
CATCH_UP_WINDOW = timedelta(hours=24)


class _WithFireTime:
    """The job as APScheduler sees it, plus `fire_time=` in its kwargs."""

    def __init__(self, job: Any, fire_time: datetime) -> None:
        self._job = job
        self._fire_time = fire_time

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    @property
    def kwargs(self) -> dict[str, Any]:
        return {**self._job.kwargs, "fire_time": self._fire_time}

    def __str__(self) -> str:
        return str(self._job)


class _FireTimeExecutor(AsyncIOExecutor):
    """Tells coroutine jobs the nominal fire time they stand for.

    With `coalesce=True` APScheduler hands over only the latest missed run time,
    which is exactly the key a catch-up run should carry.
    """

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> Any:
        return super()._do_submit_job(_WithFireTime(job, run_times[-1]), run_times)

    def running(self) -> list[asyncio.Future[Any]]:
        return list(getattr(self, "_pending_futures", ()))


class AgentScheduler:
    def __init__(
        self,
        db: Database,
        *,
        on_enqueued: Callable[[], None] | None = None,
        config: LumenConfig | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.on_enqueued = on_enqueued or (lambda: None)
        self._executor = _FireTimeExecutor()
        self.scheduler = AsyncIOScheduler(
            executors={"default": self._executor},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(CATCH_UP_WINDOW.total_seconds())},
        )

    async def start(self) -> None:
        await self.reload()
        self.scheduler.start()

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Fire nothing new, let running jobs finish for up to `grace` seconds, then shut down."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        await drain(self._executor.running(), grace, what="scheduled jobs")
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a callback on the loop

    def every(self, seconds: float, job_id: str, work: Callable[[], Awaitable[object]]) -> None:
        """A periodic job (sweeps, pruning). Every replica runs it; the work must be idempotent."""

        async def run(fire_time: datetime | None = None) -> None:
            try:
                await work()
            except Exception:
                log.exception("lumen.schedule.job_failed", job=job_id)

        self.scheduler.add_job(run, "interval", seconds=seconds, id=job_id, replace_existing=True)

    async def reload(self) -> None:
        """(Re)register a job per active agent; call after `lumen sync` changed schedules."""
        async with self.db.sessions() as session:
            agents = (
                await session.scalars(
                    select(Agent)
                    .join(Venture)
                    .where(Agent.archived_at.is_(None), Venture.archived_at.is_(None))
                    .options(selectinload(Agent.venture))
                )
            ).all()
            last_fire = dict(
                (
                    await session.execute(
                        select(Run.agent_id, func.max(Run.scheduled_for))
                        .where(Run.trigger == RunTrigger.SCHEDULE)
                        .group_by(Run.agent_id)
                    )
                ).all()
            )
        wanted = set()
        for agent in agents:
            job_id = f"wake:{agent.id}"
            wanted.add(job_id)
            trigger = cron_trigger(agent.schedule, agent.venture.timezone)
            self.scheduler.add_job(
                self.fire,
                trigger,
                id=job_id,
                kwargs={"agent_id": agent.id, "agent_ref": f"{agent.venture.slug}/{agent.role}"},
                replace_existing=True,
                next_run_time=_first_due(trigger, last_fire.get(agent.id)),
            )
        for venture in {agent.venture.id: agent.venture for agent in agents}.values():
            job_id = f"synthesis:{venture.id}"
            wanted.add(job_id)
            venture_cfg = self.config.venture(venture.slug) if self.config else None
            schedule = venture_cfg.synthesis_schedule if venture_cfg else "0 6 * * 1"
            self.scheduler.add_job(
                self.fire_synthesis,
                cron_trigger(schedule, venture.timezone),
                id=job_id,
                kwargs={"venture_id": venture.id, "slug": venture.slug},
                replace_existing=True,
            )
        workspace = self.config.workspace if self.config else None
        self.scheduler.add_job(
            self.fire_platform,
            cron_trigger(
                workspace.platform_synthesis_schedule if workspace else "0 7 * * 1",
                workspace.timezone if workspace else "UTC",
            ),
            id="platform",
            replace_existing=True,
        )
        wanted.add("platform")
        for job in self.scheduler.get_jobs():
            if job.id.split(":")[0] in ("wake", "synthesis") and job.id not in wanted:
                job.remove()

    async def fire(
        self, *, agent_id: int, agent_ref: str, fire_time: datetime | None = None
    ) -> int | None:
        # The executor always passes fire_time; the default only satisfies APScheduler's arg check.
        nominal = fire_time or utcnow().replace(microsecond=0)
        async with self.db.transaction() as session:
            agent = await session.get(Agent, agent_id)
            if agent is None or agent.archived_at is not None or agent.status != AgentStatus.ACTIVE:
                return None
            run_id = await runs.enqueue(
                session,
                key=runs.wake_key(agent_ref, nominal),
                trigger=RunTrigger.SCHEDULE,
                agent_id=agent.id,
                venture_id=agent.venture_id,
                scheduled_for=nominal,
            )
        if run_id is not None:
            log.info("lumen.run.enqueued", run_id=run_id, agent=agent_ref, nominal=nominal.isoformat())
            self.on_enqueued()
        return run_id


    async def fire_synthesis(self, *, venture_id: int, slug: str, fire_time: datetime | None = None) -> int | None:
        from lumen.brain.synthesis import synthesis_key

        nominal = fire_time or utcnow().replace(microsecond=0)
        async with self.db.transaction() as session:
            run_id = await runs.enqueue(
                session,
                key=synthesis_key(slug, nominal),
                trigger=RunTrigger.SCHEDULE,
                kind=RunKind.SYNTHESIS,
                venture_id=venture_id,
                scheduled_for=nominal,
            )
        if run_id is not None:
            self.on_enqueued()
        return run_id

    async def fire_platform(self, *, fire_time: datetime | None = None) -> int | None:
        from lumen.brain.platform import platform_key

        nominal = fire_time or utcnow().replace(microsecond=0)
        async with self.db.transaction() as session:
            run_id = await runs.enqueue(
                session,
                key=platform_key(nominal),
                trigger=RunTrigger.SCHEDULE,
                kind=RunKind.PLATFORM_SYNTHESIS,
                scheduled_for=nominal,
            )
        if run_id is not None:
            self.on_enqueued()
        return run_id


def _first_due(trigger: Any, last_fired: datetime | None) -> datetime | None:
    """The first fire time after the last one we ran, if it lies in the catch-up window.

    Starting the job there makes APScheduler coalesce every firing missed while
    no replica was up into one catch-up call.
    """
    now = utcnow()
    since = max(last_fired, now - CATCH_UP_WINDOW) if last_fired else None
    if since is None:
        return trigger.get_next_fire_time(None, now)
    return trigger.get_next_fire_time(None, since + timedelta(seconds=1))

