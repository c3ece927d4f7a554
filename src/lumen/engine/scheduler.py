"""Schedules in APScheduler 3: a firing only inserts a run.

One in-memory scheduler per replica. Each replica fires the same schedules; the run's
idempotency key (a schedule's key function of its nominal fire time) under a UNIQUE
constraint makes them create one run per fire time between them.

The scheduler knows no feature. The composition root gives it schedule sources: functions
that read the database and say which schedules exist now (every active agent's wake-up,
every venture's weekly synthesis, …), each with its key function.

APScheduler does not tell a job which fire time it stands for, so a small executor passes
the scheduled run times along. After downtime, APScheduler coalesces the missed firings
into one call; we key the catch-up run by the latest of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import RunKind, RunTrigger
from lumen.db.session import Database
from lumen.domain.cron import cron_trigger
from lumen.engine import runs
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, drain
from lumen.engine.signals import Signal
from lumen.log import get_logger

log = get_logger(__name__)

# How far back a replica that was down looks for a firing it missed.
CATCH_UP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Schedule:
    """A run to enqueue at each firing of a cron expression, in a time zone."""

    job_id: str
    cron: str
    timezone: str
    kind: RunKind
    # The run's idempotency key for a nominal fire time: equal keys make one run.
    key: Callable[[datetime], str]
    agent_id: int | None = None
    venture_id: int | None = None
    # Checked in the firing's transaction: False skips the firing (a paused agent, say).
    admit: Callable[[AsyncSession], Awaitable[bool]] | None = None
    # Checked after `admit`: a reason not to run this firing, recorded as a skipped run under
    # the firing's key (a condition that does not hold, a ceiling reached); None runs it.
    skip: Callable[[AsyncSession], Awaitable[str | None]] | None = None
    # Catch up on one firing missed while no replica ran, counting from the last one enqueued.
    catch_up: bool = False
    last_fired: datetime | None = None
    label: str = ""


ScheduleSource = Callable[[AsyncSession], Awaitable[Sequence[Schedule]]]


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


class Scheduler:
    def __init__(self, db: Database, sources: Sequence[ScheduleSource] = (), *, enqueued: Signal | None = None) -> None:
        self.db = db
        self.sources = tuple(sources)
        self.enqueued = enqueued or Signal()
        self._executor = _FireTimeExecutor()
        self._managed: set[str] = set()
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

    async def schedules(self) -> list[Schedule]:
        """What the sources say should be scheduled now."""
        async with self.db.sessions() as session:
            found: list[Schedule] = []
            for source in self.sources:
                found += await source(session)
        return found

    async def reload(self) -> None:
        """(Re)register every schedule the sources name; call after `lumen sync` changed them."""
        wanted = set()
        for schedule in await self.schedules():
            trigger = cron_trigger(schedule.cron, schedule.timezone)
            options: dict[str, Any] = {}
            if schedule.catch_up:
                options["next_run_time"] = _first_due(trigger, schedule.last_fired)
            self.scheduler.add_job(
                self.fire,
                trigger,
                id=schedule.job_id,
                kwargs={"schedule": schedule},
                replace_existing=True,
                **options,
            )
            wanted.add(schedule.job_id)
        for job_id in self._managed - wanted:
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)
        self._managed = wanted

    async def fire(self, *, schedule: Schedule, fire_time: datetime | None = None) -> int | None:
        """Enqueue the schedule's run for a nominal fire time; None if another replica did."""
        # The executor always passes fire_time; the default only satisfies APScheduler's arg check.
        nominal = fire_time or utcnow().replace(microsecond=0)
        async with self.db.transaction() as session:
            if schedule.admit is not None and not await schedule.admit(session):
                return None
            if schedule.skip is not None and (reason := await schedule.skip(session)) is not None:
                skipped = await runs.record_skip(
                    session,
                    key=schedule.key(nominal),
                    reason=reason,
                    trigger=RunTrigger.SCHEDULE,
                    kind=schedule.kind,
                    agent_id=schedule.agent_id,
                    venture_id=schedule.venture_id,
                    scheduled_for=nominal,
                )
                if skipped is not None:
                    log.info("lumen.run.skipped", run_id=skipped, schedule=schedule.label or schedule.job_id, reason=reason)
                return None
            run_id = await runs.enqueue(
                session,
                key=schedule.key(nominal),
                trigger=RunTrigger.SCHEDULE,
                kind=schedule.kind,
                agent_id=schedule.agent_id,
                venture_id=schedule.venture_id,
                scheduled_for=nominal,
            )
        if run_id is not None:
            log.info("lumen.run.enqueued", run_id=run_id, schedule=schedule.label or schedule.job_id, nominal=nominal.isoformat())
            self.enqueued.notify()
        return run_id

    async def fire_job(self, job_id: str, fire_time: datetime | None = None) -> int | None:
        """Fire one schedule by its job id now (tests, and the CLI's catch-up)."""
        for schedule in await self.schedules():
            if schedule.job_id == job_id:
                return await self.fire(schedule=schedule, fire_time=fire_time)
        raise LookupError(f"no schedule {job_id!r}")


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
