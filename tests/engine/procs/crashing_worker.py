"""A worker process that stops dead before a given journal step, for the SIGKILL test.

    python crashing_worker.py DB_URL CONFIG_PATH MODEL LEASE_SECONDS STEP_NAME

It claims the next queued run with a Worker (the real one: lease renewal and all) whose
model tier is MODEL at LUMEN_MODEL_API_BASE, and runs it. When the run reaches the journal
step STEP_NAME, everything before it is committed; the process prints `reached <run id>
<epoch>` and hangs there, still renewing its lease, until the test SIGKILLs it.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from lumen.config import load_config
from lumen.settings import Settings
from lumen.db.session import Database
from lumen.engine import runs
from lumen.engine.journal import Journal
from lumen.log import configure_logging
from lumen.runtime import build_container, make_worker


async def main(url: str, config_path: str, model: str, lease_s: float, stop_at: str) -> None:
    settings = Settings(
        LUMEN_DATABASE_URL=url, LUMEN_CONFIG=config_path, LUMEN_MODEL_STRONG=model, LUMEN_MODEL_FAST=model
    )
    db = Database(url)
    container = build_container(settings, load_config(settings.config_path), db)
    worker = make_worker(container, lease=timedelta(seconds=lease_s))

    real_step = Journal.step

    async def step(self: Journal, kind, name, action, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == stop_at:
            print(f"reached {self.claim.run_id} {self.claim.epoch}", flush=True)
            await asyncio.Event().wait()  # hang here; only SIGKILL ends this process
        return await real_step(self, kind, name, action, *args, **kwargs)

    Journal.step = step  # type: ignore[method-assign]
    claim = await runs.claim_next(db, worker.owner, worker.lease)
    assert claim is not None, "nothing queued"
    await worker.process(claim)
    print("finished without reaching the step", flush=True)


if __name__ == "__main__":
    configure_logging("warning")
    url, config_path, model, lease_s, stop_at = sys.argv[1:6]
    asyncio.run(main(url, config_path, model, float(lease_s), stop_at))
