"""The scheduler: a firing inserts one run per agent and nominal fire time, across replicas."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import update

from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, Run, RunStatus, RunTrigger
from lumen.db.session import Database
from lumen.engine import runs
from lumen.engine.scheduler import Scheduler
from lumen.container import Container
from tests.engine.helpers import Counting, agent_of, all_rows, wake_scheduler

REPLICA = Path(__file__).parent / "procs" / "scheduler_replica.py"
NEW_YORK = ZoneInfo("America/New_York")


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


async def _set_schedule(db: Database, agent_id: int, schedule: str) -> None:
    async with db.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(schedule=schedule))


async def _seed_scheduled_run(db: Database, agent: Agent, ref: str, nominal: datetime) -> None:
    """A run the scheduler made earlier (then finished), as if replicas were up back then."""
    async with db.transaction() as session:
        run_id = await runs.enqueue(
            session,
            key=runs.wake_key(ref, nominal),
            trigger=RunTrigger.SCHEDULE,
            agent_id=agent.id,
            venture_id=agent.venture_id,
            scheduled_for=nominal,
        )
        await session.execute(update(Run).where(Run.id == run_id).values(status=RunStatus.SUCCEEDED))


async def _scheduled_runs(db: Database, agent_id: int) -> list[Run]:
    return await all_rows(db, Run, Run.agent_id == agent_id, Run.trigger == RunTrigger.SCHEDULE)


async def test_a_firing_inserts_a_queued_run_keyed_by_agent_and_utc_nominal_time(container: Container) -> None:
    agent = await agent_of(container.db, "acme", "ceo")
    scheduler = wake_scheduler(container.db)
    nominal = datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)  # a Monday, 14:00 UTC

    run_id = await scheduler.fire_job(f"wake:{agent.id}", nominal)

    [run] = await _scheduled_runs(container.db, agent.id)
    assert run.id == run_id
    assert run.idempotency_key == "wake:acme/ceo:2026-11-23T14:00:00+00:00"
    assert run.scheduled_for == nominal
    assert (run.status, run.trigger, run.venture_id) == (RunStatus.QUEUED, RunTrigger.SCHEDULE, agent.venture_id)
    # The same firing again (a second replica, or a retry) adds nothing.
    assert await scheduler.fire_job(f"wake:{agent.id}", nominal) is None
    assert len(await _scheduled_runs(container.db, agent.id)) == 1


async def test_two_replicas_firing_the_same_schedule_concurrently_make_one_run_per_fire_time(
    container: Container,
) -> None:
    agent = await agent_of(container.db, "acme", "ceo")
    # Each replica has its own engine and connection pool, as two processes would.
    other_db = Database(container.db.url)
    try:
        replicas = [wake_scheduler(container.db), wake_scheduler(other_db)]
        start = _hour(utcnow()) - timedelta(hours=10)
        nominals = [start + timedelta(hours=i) for i in range(8)]
        results = await asyncio.gather(
            *(
                replica.fire_job(f"wake:{agent.id}", nominal)
                for nominal in nominals
                for replica in replicas
            )
        )
    finally:
        await other_db.dispose()

    per_fire_time = [results[i : i + 2] for i in range(0, len(results), 2)]
    for pair in per_fire_time:
        assert sum(r is not None for r in pair) == 1, per_fire_time
    made = await _scheduled_runs(container.db, agent.id)
    assert sorted(r.idempotency_key for r in made) == sorted(runs.wake_key("acme/ceo", n) for n in nominals)


async def test_two_replica_processes_make_one_run_per_fire_time(
    container: Container, database_url: str
) -> None:
    """Two OS processes, each with a real Scheduler on the same database.

    The agent's schedule is hourly and its last scheduled run was three hours ago, so both
    replicas catch up the moment they start (through APScheduler, not a direct call), and
    then both fire the same five nominal times.
    """
    db = container.db
    agent = await agent_of(db, "acme", "ceo")
    await _set_schedule(db, agent.id, "0 * * * *")
    now = utcnow()
    await _seed_scheduled_run(db, agent, "acme/ceo", _hour(now) - timedelta(hours=3))
    nominals = [_hour(now) + timedelta(hours=i) for i in range(1, 6)]
    arg = ",".join(n.isoformat() for n in nominals)

    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(REPLICA), database_url, str(agent.id), "acme/ceo", arg,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both are up and connected before either starts its scheduler
            assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"ready"
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 30)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
    results = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))

    # Every fire time: one replica inserted the run, the other found it there.
    for i in range(len(nominals)):
        assert sum(r["fired"][i] is not None for r in results) == 1, results
    # The catch-up: at most one insert between them (a replica that started after the
    # other's catch-up was committed sees nothing due).
    assert any(r["due"] for r in results)
    assert sum(r["catch_up"] is not None for r in results) == 1, results
    made = await _scheduled_runs(db, agent.id)
    keys = [r.idempotency_key for r in made]
    assert len(keys) == len(set(keys)) == 1 + 1 + len(nominals)
    latest_missed = runs.wake_key("acme/ceo", _hour(utcnow()))
    assert latest_missed in keys or runs.wake_key("acme/ceo", _hour(now)) in keys


async def _start_and_wait_for_catch_up(scheduler: Scheduler, job_id: str) -> object:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        if event.job_id == job_id and not done.done():
            done.set_result(event.exception or event.retval)

    scheduler.scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    await scheduler.start()
    return await asyncio.wait_for(done, 10)


async def test_after_five_hours_down_one_catch_up_run_for_the_latest_missed_hour(container: Container) -> None:
    db = container.db
    agent = await agent_of(db, "acme", "ceo")
    await _set_schedule(db, agent.id, "0 * * * *")
    before = utcnow()
    await _seed_scheduled_run(db, agent, "acme/ceo", _hour(before) - timedelta(hours=5))
    enqueued: list[None] = []
    scheduler = wake_scheduler(db, enqueued=Counting(enqueued))
    try:
        run_id = await _start_and_wait_for_catch_up(scheduler, f"wake:{agent.id}")
        await asyncio.sleep(0.3)  # a second, coalesced-away firing would show up by now
        after = utcnow()
        job = scheduler.scheduler.get_job(f"wake:{agent.id}")
        next_run = job.next_run_time
    finally:
        await scheduler.stop()

    made = await _scheduled_runs(db, agent.id)
    assert len(made) == 2, [r.idempotency_key for r in made]  # the seed and ONE catch-up, not five
    catch_up = made[-1]
    assert catch_up.id == run_id and len(enqueued) == 1
    assert catch_up.status == RunStatus.QUEUED
    # Keyed by the latest fire time that was missed, which is the hour we are in.
    assert catch_up.idempotency_key in {
        runs.wake_key("acme/ceo", _hour(before)),
        runs.wake_key("acme/ceo", _hour(after)),
    }
    assert catch_up.scheduled_for in (_hour(before), _hour(after))
    # And the job goes on at the next hour.
    assert next_run.astimezone(timezone.utc) == catch_up.scheduled_for + timedelta(hours=1)


async def test_a_scheduler_up_to_date_does_not_fire_at_start(container: Container) -> None:
    db = container.db
    agent = await agent_of(db, "acme", "ceo")
    await _set_schedule(db, agent.id, "0 * * * *")
    await _seed_scheduled_run(db, agent, "acme/ceo", _hour(utcnow()))
    scheduler = wake_scheduler(db)
    try:
        await scheduler.start()
        await asyncio.sleep(0.3)
        job = scheduler.scheduler.get_job(f"wake:{agent.id}")
    finally:
        await scheduler.stop()
    assert len(await _scheduled_runs(db, agent.id)) == 1
    assert job.next_run_time.astimezone(timezone.utc) == _hour(utcnow()) + timedelta(hours=1)


async def test_weekday_cron_in_new_york_fires_monday_to_friday_at_nine_local(container: Container) -> None:
    """acme's ceo is on "0 9 * * 1-5" in America/New_York (the demo lumen.yml)."""
    agent = await agent_of(container.db, "acme", "ceo")
    assert agent.schedule == "0 9 * * 1-5"
    scheduler = wake_scheduler(container.db)
    await scheduler.reload()  # registers the jobs without starting the clock
    trigger = scheduler.scheduler.get_job(f"wake:{agent.id}").trigger

    # Three weeks from Sunday 2026-03-01, across the DST change on Sunday 2026-03-08.
    fire = datetime(2026, 3, 1, 12, 0, tzinfo=NEW_YORK)
    fires = []
    for _ in range(15):
        fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
        fires.append(fire.astimezone(NEW_YORK))
    assert [f.strftime("%a") for f in fires] == ["Mon", "Tue", "Wed", "Thu", "Fri"] * 3
    assert {(f.hour, f.minute) for f in fires} == {(9, 0)}
    assert (fires[0].date().isoformat(), fires[-1].date().isoformat()) == ("2026-03-02", "2026-03-20")
    # 09:00 in New York is 14:00 UTC before the clocks change and 13:00 after.
    assert [f.astimezone(timezone.utc).hour for f in fires[4:6]] == [14, 13]
    assert (await agent_of(container.db, "acme", "ceo")).status == AgentStatus.ACTIVE


async def test_a_paused_or_tripped_agent_is_not_woken_by_its_schedule(container: Container) -> None:
    db = container.db
    agent = await agent_of(db, "acme", "ceo")
    scheduler = wake_scheduler(db)
    for status in (AgentStatus.PAUSED, AgentStatus.TRIPPED):
        async with db.transaction() as session:
            await session.execute(update(Agent).where(Agent.id == agent.id).values(status=status))
        assert await scheduler.fire_job(f"wake:{agent.id}", _hour(utcnow())) is None
    assert await _scheduled_runs(db, agent.id) == []
