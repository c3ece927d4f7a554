"""What a wake-up costs beyond the model: Lumen's own per-run overhead, and runs per second.

100 agents (10 ventures x 10 roles, each role with its own ungated playbook action, so every
run is the same work: context, one model call, one decision with its outbox post, finished)
get one queued run each; the real Worker runs them on the offline model. Measured in this
process with perf_counter:

- per run: claim_next + Worker.process, minus the time inside litellm.acompletion (the
  model: for the offline provider, litellm's own request handling plus the playbook). What
  remains is Lumen: leases, fencing, the journal, the spend ledger, context loading, the
  prompt, validation, gate classification, the decision and its outbox row.
- `sequential`: one worker task, so each run's overhead is its own, without waiting on others.
- `concurrent`: N worker tasks (default 8) until all 100 are done: runs per second, and the
  overhead each run saw including waits on the database's write lock.

Each phase gets a fresh database: a SQLite file, and on Postgres a uniquely named database
created and dropped here. litellm is imported and the offline model called once before timing.

    python benchmarks/wakeup_overhead.py [--agents 100] [--concurrency 8] [--databases sqlite,postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--profile]

Prints one JSON object. Target: sequential p50 overhead under 20 ms on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from lumen.config import parse_config  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.db.migrate import upgrade  # noqa: E402
from lumen.db.models import Agent, Decision, Run, RunStatus, RunTrigger  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.engine import runs  # noqa: E402
from lumen.engine import worker as worker_module  # noqa: E402
from lumen.engine.worker import Worker  # noqa: E402
from lumen.llm import Gateway  # noqa: E402
from lumen.llm._litellm import litellm  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from lumen.runtime import build_container, run_handlers  # noqa: E402
from lumen.ventures.sync import sync_config  # noqa: E402

TARGET_P50_MS_SQLITE = 20.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

_current_run: contextvars.ContextVar[int | None] = contextvars.ContextVar("run", default=None)


def build_config(agents: int, per_venture: int = 10) -> Any:
    ventures = []
    for v in range((agents + per_venture - 1) // per_venture):
        roles = [f"role{r}" for r in range(min(per_venture, agents - v * per_venture))]
        ventures.append(
            {
                "slug": f"bench{v}",
                "name": f"Bench Venture {v}",
                "channel": f"venture-bench{v}",
                "goals": ["Measure Lumen's overhead"],
                "playbook": [
                    {
                        "title": f"Publish benchmark note {r} of venture {v}",
                        "category": "marketing",
                        "role": role,
                        "rationale": "Every run does the same amount of work.",
                        "expected_effect": "A steady measurement",
                    }
                    for r, role in enumerate(roles)
                ],
                "agents": [{"role": role, "schedule": "0 9 * * 1", "model_tier": "strong"} for role in roles],
            }
        )
    gates = {"approvers": {"users": ["U0ALICE"]}}
    text = yaml.safe_dump({"version": 1, "gates": gates, "ventures": ventures})
    return parse_config(text, source="benchmark lumen.yml")


class TimedWorker(Worker):
    """The real Worker; records how long each run took from its claim to its end."""

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.total: dict[int, float] = {}
        self.claim_s: dict[int, float] = {}
        self.expected = expected
        self.all_done = asyncio.Event()

    async def process(self, claim: runs.Claim) -> RunStatus | None:
        token = _current_run.set(claim.run_id)
        started = time.perf_counter()
        try:
            return await super().process(claim)
        finally:
            self.total[claim.run_id] = time.perf_counter() - started + self.claim_s.get(claim.run_id, 0.0)
            _current_run.reset(token)
            if len(self.total) >= self.expected:
                self.all_done.set()


def instrument(worker: TimedWorker, model_s: dict[int, float]) -> contextlib.ExitStack:
    """Time claim_next (per claimed run) and litellm.acompletion (per run)."""
    stack = contextlib.ExitStack()
    real_claim_next = worker_module.runs.claim_next

    async def timed_claim_next(*args: Any, **kwargs: Any) -> runs.Claim | None:
        started = time.perf_counter()
        claim = await real_claim_next(*args, **kwargs)
        if claim is not None:
            worker.claim_s[claim.run_id] = time.perf_counter() - started
        return claim

    lm = litellm()
    real_acompletion = lm.acompletion

    async def timed_acompletion(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await real_acompletion(*args, **kwargs)
        finally:
            run_id = _current_run.get()
            if run_id is not None:
                model_s[run_id] = model_s.get(run_id, 0.0) + time.perf_counter() - started

    worker_module.runs.claim_next = timed_claim_next  # type: ignore[assignment]
    lm.acompletion = timed_acompletion
    stack.callback(setattr, worker_module.runs, "claim_next", real_claim_next)
    stack.callback(setattr, lm, "acompletion", real_acompletion)
    return stack


class RoundTrips:
    """Statements and commits sent to the database while timing: figures that, unlike the
    milliseconds, do not move with the machine's load."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.commits = 0
        self.engine = db.engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50": round(percentile(ms, 50), 2),
        "p99": round(percentile(ms, 99), 2),
        "mean": round(statistics.fmean(ms), 2),
        "max": round(max(ms), 2),
    }


async def phase(kind: str, postgres_url: str, agents: int, concurrency: int, profile: bool) -> dict[str, Any]:
    config = build_config(agents)
    async with fresh_database(kind, postgres_url, "lumen_bench") as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            async with db.transaction() as session:
                await sync_config(session, config)
                all_agents = (await session.execute(select(Agent.id, Agent.venture_id).order_by(Agent.id))).all()
                for agent_id, venture_id in all_agents:
                    await runs.enqueue(
                        session,
                        key=f"manual:bench:{agent_id}",
                        trigger=RunTrigger.MANUAL,
                        agent_id=agent_id,
                        venture_id=venture_id,
                    )
            settings = Settings(LUMEN_DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-bench")
            container = build_container(settings, config, db, gateway=Gateway(db))
            worker = TimedWorker(
                db,
                run_handlers(container),
                container.signals,
                expected=len(all_agents),
                concurrency=concurrency,
                lease=timedelta(seconds=30),
                poll_interval=0.02,
            )
            model_s: dict[int, float] = {}
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled")
                profiler.start()
            trips = RoundTrips(db)
            with instrument(worker, model_s):
                started = time.perf_counter()
                worker.start()
                # Done when the worker says so: polling the database would compete for its lock.
                await asyncio.wait_for(worker.all_done.wait(), 600)
                elapsed = time.perf_counter() - started
                await worker.stop()
            trips.close()
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
            async with db.sessions() as session:
                statuses = dict(
                    (await session.execute(select(Run.status, func.count()).group_by(Run.status))).all()
                )
                decisions = await session.scalar(select(func.count()).select_from(Decision))
        finally:
            await db.dispose()
    overhead = [worker.total[r] - model_s.get(r, 0.0) for r in worker.total]
    return {
        "runs": len(worker.total),
        "statuses": {s.value: n for s, n in statuses.items()},
        "decisions": decisions,
        "concurrency": concurrency,
        "wall_s": round(elapsed, 3),
        "runs_per_s": round(len(worker.total) / elapsed, 1),
        "overhead_ms": summary_ms(overhead),
        "model_ms": summary_ms(list(model_s.values())),
        "run_total_ms": summary_ms(list(worker.total.values())),
        # Including the worker's polls for work while idle, so a little above one run's own.
        "statements_per_run": round(trips.statements / len(worker.total), 1),
        "commits_per_run": round(trips.commits / len(worker.total), 1),
    }


async def warm_up() -> None:
    """Import litellm and take its first-call costs (with and without tools) before timing."""
    from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions
    from lumen.llm.tools import tool_spec

    lm = litellm()
    for _ in range(3):
        await lm.acompletion(model="lumen-offline/playbook", messages=[{"role": "user", "content": "warm up"}])
        await lm.acompletion(
            model="lumen-offline/playbook", messages=[{"role": "user", "content": "warm up"}], tools=[tool_spec(ProposeDecisions, PROPOSE_DECISIONS)]
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("LUMEN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--log-level", default="warning", help="Lumen's log level while measuring (logs go to stderr).")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the sequential SQLite phase (stderr).")
    args = parser.parse_args()
    configure_logging(args.log_level)
    await warm_up()
    result: dict[str, Any] = {
        "benchmark": "wakeup_overhead",
        "agents": args.agents,
        "model": "lumen-offline/playbook",
        "python": sys.version.split()[0],
    }
    for kind in args.databases.split(","):
        result[kind] = {
            "sequential": await phase(kind, args.postgres_url, args.agents, 1, args.profile and kind == "sqlite"),
            "concurrent": await phase(kind, args.postgres_url, args.agents, args.concurrency, False),
        }
    if "sqlite" in result:
        p50 = result["sqlite"]["sequential"]["overhead_ms"]["p50"]
        result["target"] = {"sqlite_p50_overhead_ms_under": TARGET_P50_MS_SQLITE, "met": p50 < TARGET_P50_MS_SQLITE}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
