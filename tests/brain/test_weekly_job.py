"""The weekly synthesis job is idempotent across replicas: every replica's scheduler fires it,
for the same nominal time or (after a restart) another time in the same ISO week, and between
them they create one synthesis run per venture per ISO week, and one new brain version."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from lumen.brain.service import synthesis_key
from lumen.config import LumenConfig
from lumen.db.migrate import upgrade
from lumen.db.models import BrainVersion, Run, RunKind, RunStatus
from lumen.db.session import Database
from lumen.container import Container
from lumen.runtime import build_container, make_scheduler, make_worker
from lumen.ventures.sync import sync_config
from tests.brain.conftest import START, venture_id
from tests.brain.history import write_history
from tests.conftest import EXAMPLE_CONFIG
from tests.support.databases import postgres_admin_url, postgres_database

NEW_YORK = ZoneInfo("America/New_York")  # Acme's time zone in the example lumen.yml
# Acme's synthesis fires Mondays 06:00 in New York; a replica restarted on Wednesday fires again.
MONDAY = datetime(2025, 3, 24, 6, 0, tzinfo=NEW_YORK)  # after three generated weeks
WEDNESDAY = datetime(2025, 3, 26, 6, 0, tzinfo=NEW_YORK)
PROC = Path(__file__).parent / "procs" / "synthesis_replica.py"


async def synthesis_runs(db: Database) -> list[Run]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Run).where(Run.kind == RunKind.SYNTHESIS)))


async def brain_count(db: Database) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(BrainVersion)) or 0


async def test_two_schedulers_in_one_process(container: Container) -> None:
    """Two replicas' schedulers and workers, each on its own connection pool, in one process."""
    db = container.db
    acme = await venture_id(db, "acme")
    await write_history(db, "acme", 3, 20, START)
    other = Database(db.url)
    replicas = []
    try:
        for database in (db, other):
            replica = build_container(container.settings, container.config, database)
            worker = make_worker(replica, poll_interval=0.05)
            replicas.append((make_scheduler(replica), worker))
        fired = await asyncio.gather(
            *(
                scheduler.fire_job(f"synthesis:{acme}", t)
                for scheduler, _ in replicas
                for t in (MONDAY, MONDAY, WEDNESDAY)
            )
        )
        assert sum(1 for run_id in fired if run_id is not None) == 1, fired
        for _, worker in replicas:
            worker.start()
        [run] = await synthesis_runs(db)
        for _ in range(200):
            [run] = await synthesis_runs(db)
            if run.status == RunStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.05)
    finally:
        for _, worker in replicas:
            await worker.stop()
        await other.dispose()
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 1
    assert run.idempotency_key == synthesis_key("acme", MONDAY) == "synthesis:acme:2025-W13"
    assert await brain_count(db) == 1


@pytest.fixture
async def shared_postgres(tmp_path: Path, example_config: LumenConfig):  # type: ignore[no-untyped-def]
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("the two-process test needs Postgres: set LUMEN_TEST_POSTGRES_URL (CI sets it)")
    async with postgres_database(admin) as url:
        db = Database(url)
        await upgrade(db.engine)
        async with db.transaction() as session:
            await sync_config(session, example_config)
        (tmp_path / "lumen.yml").write_text(EXAMPLE_CONFIG.read_text())
        try:
            yield db, str(tmp_path / "lumen.yml")
        finally:
            await db.dispose()


@pytest.mark.slow
async def test_two_processes_one_run_one_brain(shared_postgres) -> None:  # type: ignore[no-untyped-def]
    db, config_path = shared_postgres
    acme = await venture_id(db, "acme")
    await write_history(db, "acme", 3, 20, START)
    nominals = ",".join(t.isoformat() for t in (MONDAY, WEDNESDAY))
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(PROC), db.url, config_path, str(acme), "acme", nominals,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)  # type: ignore[union-attr]
            assert line.strip() == b"ready", (line, await proc.stderr.read())  # type: ignore[union-attr]
        for proc in procs:  # both fire at once
            proc.stdin.write(b"go\n")  # type: ignore[union-attr]
            await proc.stdin.drain()  # type: ignore[union-attr]
        outputs = []
        for proc in procs:
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            outputs.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    fired = [run_id for out in outputs for run_id in out["fired"]]
    [run] = await synthesis_runs(db)
    assert [r for r in fired if r is not None] == [run.id], outputs
    assert sorted(r for out in outputs for r in out["processed"]) == [run.id]
    assert run.status == RunStatus.SUCCEEDED and run.idempotency_key == "synthesis:acme:2025-W13"
    assert await brain_count(db) == 1
