"""One replica's weekly synthesis job in a process of its own, for the two-process test.

    python synthesis_replica.py DB_URL CONFIG_PATH VENTURE_ID SLUG NOMINAL[,NOMINAL...]

Prints `ready`, waits for a line on stdin (so that both replicas fire together), fires the
venture's synthesis for each nominal time through a real AgentScheduler, then runs a real
Worker on the offline model until no synthesis run is queued or running. Prints one JSON line:
{"fired": [run id | null, ...], "processed": [run ids this worker finished]}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from sqlalchemy import func, select  # noqa: E402

from lumen.config import load_config  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.db.models import Run, RunKind, RunStatus  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from lumen.runtime import build_container, make_scheduler, make_worker  # noqa: E402


async def main(url: str, config_path: str, venture_id: int, slug: str, nominals: list[datetime]) -> None:
    settings = Settings(LUMEN_DATABASE_URL=url, LUMEN_CONFIG=config_path)
    config = load_config(Path(config_path))
    db = Database(url)
    container = build_container(settings, config, db)
    worker = make_worker(container, concurrency=2, poll_interval=0.05)
    scheduler = make_scheduler(container)
    processed: list[int] = []
    finish = worker._succeed

    async def note(claim, status, *rest):  # type: ignore[no-untyped-def]
        processed.append(claim.run_id)
        await finish(claim, status, *rest)

    worker._succeed = note  # type: ignore[method-assign]
    await scheduler.reload()
    assert scheduler.scheduler.get_job(f"synthesis:{venture_id}") is not None
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    fired = [await scheduler.fire_job(f"synthesis:{venture_id}", t) for t in nominals]
    worker.start()
    for _ in range(400):
        async with db.sessions() as session:
            open_runs = await session.scalar(
                select(func.count()).select_from(Run).where(
                    Run.kind == RunKind.SYNTHESIS, Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
                )
            )
        if not open_runs:
            break
        await asyncio.sleep(0.05)
    await worker.stop()
    await db.dispose()
    print(json.dumps({"fired": fired, "processed": processed}), flush=True)


if __name__ == "__main__":
    configure_logging("warning")  # logs go to stderr; stdout carries the answer
    url, config_path, venture_id, slug, nominals = sys.argv[1:6]
    asyncio.run(
        main(url, config_path, int(venture_id), slug, [datetime.fromisoformat(t) for t in nominals.split(",")])
    )
