"""One replica's scheduler in a process of its own, for the two-replica test.

    python scheduler_replica.py DB_URL AGENT_ID AGENT_REF NOMINAL[,NOMINAL...]

Prints `ready`, waits for a line on stdin (so that both replicas start together), then
starts a real Scheduler, whose catch-up firing (if due) runs through APScheduler,
and fires each nominal time itself. Prints one JSON line:
{"due": bool, "catch_up": run id | null, "fired": [run id | null, ...]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from lumen.db.base import utcnow
from lumen.db.session import Database
from lumen.agents import service as agents
from lumen.engine.scheduler import Scheduler
from lumen.log import configure_logging


async def main(url: str, agent_id: int, agent_ref: str, nominals: list[datetime]) -> None:
    db = Database(url)
    scheduler = Scheduler(db, [agents.wake_schedules])
    done: asyncio.Future = asyncio.get_running_loop().create_future()
    job_id = f"wake:{agent_id}"

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        if event.job_id == job_id and not done.done():
            if event.exception:
                done.set_exception(event.exception)
            else:
                done.set_result(event.retval)

    scheduler.scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    # What Scheduler.start() does, with a look at the job in between.
    await scheduler.reload()
    due = scheduler.scheduler.get_job(job_id).next_run_time <= utcnow()
    scheduler.scheduler.start()
    catch_up = await asyncio.wait_for(done, 20) if due else None
    fired = [await scheduler.fire_job(f"wake:{agent_id}", t) for t in nominals]
    await scheduler.stop()
    await db.dispose()
    print(json.dumps({"due": due, "catch_up": catch_up, "fired": fired}), flush=True)


if __name__ == "__main__":
    configure_logging("warning")  # logs to stderr; stdout carries the answer
    url, agent_id, agent_ref, nominals = sys.argv[1:5]
    asyncio.run(main(url, int(agent_id), agent_ref, [datetime.fromisoformat(t) for t in nominals.split(",")]))
