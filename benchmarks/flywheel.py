"""Does brain N+1 decide better than brain N? The flywheel, measured against two baselines.

A world of ventures whose moves work by hidden odds (`lumen.simulator`): four ventures for a
year, one of them private, and a fifth that joins for the last quarter; at mid-year the odds
of some moves change. Each venture's agent decides three times a week through the real engine
with the offline model, outcomes are drawn from the hidden odds and recorded, and brains and
platform insights are synthesised every week. The same world runs three times, each arm in a
database of its own:

  full         the agents read the brain, the platform insights and their recent history;
  no_insights  the brain and the history, but no platform insights;
  no_brain     nothing of the past (the agent decides from its playbook alone).

Reported per arm: the success rate per quarter (a mixed outcome counts half), the last
quarter's rate, the late venture's rate over its first weeks, and, for the full arm, the
success rate per brain version: pooled across the year-long ventures in groups of four
versions (the curve), and per venture as Lumen's weekly summary shows it (thin versions pooled). Also the mean and best odds the
world offered, so a rate can be read against chance and against an oracle.

    python benchmarks/flywheel.py [--weeks 52] [--seed 7] [--database sqlite|postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints one JSON object. Targets: the last quarter's rate in the full arm beats the no-brain
arm by at least 15 points; the late venture does better with insights than without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).parents[1]))

from lumen.agents.context import FULL, Memory  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from lumen.runtime import prepare  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.simulator import ArmResult, Simulation, World, brain_scores, runs_left, standard_world  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402

ARMS: dict[str, Memory] = {
    "full": FULL,
    "no_insights": Memory(insights=False),
    "no_brain": Memory(brain=False, insights=False, history=False),
}
LATE_WEEKS = 6  # the late venture's first weeks: where insights should help most


async def run_arm(world: World, name: str, memory: Memory, database: str, postgres_url: str | None) -> dict[str, Any]:
    async with fresh_database(database, postgres_url, prefix=f"lumen_flywheel_{name}") as url:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(LUMEN_DATABASE_URL=url, LUMEN_CONFIG=str(Path(tmp) / "lumen.yml"))
            c = await prepare(settings, world.config())
            try:
                started = time.perf_counter()
                result = await Simulation(c, world, memory, name).run()
                elapsed = time.perf_counter() - started
                scores = await brain_scores(c) if name == "full" else {}
                left = await runs_left(c)
            finally:
                await c.db.dispose()
    return {"result": result, "seconds": round(elapsed, 1), "scores": scores, "runs_left": left}


def summarise(world: World, name: str, arm: dict[str, Any]) -> dict[str, Any]:
    result: ArmResult = arm["result"]
    late = [v.slug for v in world.ventures if v.joins > 0]
    late_made = [m for m in result.decisions if m.venture in late and m.week < world.weeks - 13 + LATE_WEEKS]
    return {
        "decisions": len(result.decisions),
        "with_outcome": len([m for m in result.decisions if m.outcome]),
        "rate_by_quarter": result.by_quarter(world.weeks),
        "last_quarter_rate": result.last_quarter(world.weeks),
        "late_venture_first_weeks_rate": result.rate(late_made),
        "runs": result.runs,
        "failed_runs": result.failed_runs,
        "runs_left_open": arm["runs_left"],
        "seconds": arm["seconds"],
    }


def world_odds(world: World) -> dict[str, Any]:
    quarters = []
    for q in range((world.weeks + 12) // 13):
        weeks = range(q * 13, min(world.weeks, (q + 1) * 13))
        ventures = [v.slug for v in world.ventures]
        quarters.append(
            {
                "mean": round(sum(world.mean_odds(v, w) for v in ventures for w in weeks) / (len(ventures) * len(weeks)), 3),
                "best": round(sum(world.best_odds(v, w) for v in ventures for w in weeks) / (len(ventures) * len(weeks)), 3),
            }
        )
    return {"per_quarter": quarters, "drift_week": world.drift_week}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging("warning")
    world = standard_world(seed=args.seed, weeks=args.weeks)
    arms = {}
    for name, memory in ARMS.items():
        arms[name] = await run_arm(world, name, memory, args.database, args.postgres_url)
    report = {name: summarise(world, name, arm) for name, arm in arms.items()}
    full, no_brain, no_insights = report["full"], report["no_brain"], report["no_insights"]
    gain = (full["last_quarter_rate"] or 0) - (no_brain["last_quarter_rate"] or 0)
    late_gain = (full["late_venture_first_weeks_rate"] or 0) - (no_insights["late_venture_first_weeks_rate"] or 0)
    return {
        "weeks": world.weeks,
        "seed": world.seed,
        "database": args.database,
        "world_odds": world_odds(world),
        "arms": report,
        "full_arm_rate_by_brain_version": arms["full"]["result"].by_brain_version([v.slug for v in world.ventures if v.joins == 0]),
        # As the weekly summary shows them: a week's version guides ~3 decisions, so Lumen pools
        # neighbouring versions until each point has enough outcomes to score.
        "full_arm_scores_as_lumen_shows_them": {
            slug: [f"{s['brain_versions']}: {s['success_rate']}" for s in scores if s["success_rate"] is not None]
            for slug, scores in arms["full"]["scores"].items()
        },
        "last_quarter_gain_over_no_brain_points": round(100 * gain, 1),
        "late_venture_gain_from_insights_points": round(100 * late_gain, 1),
        "targets": {"last_quarter_gain_points_at_least": 15, "late_venture_gain_points_above": 0},
        "met": {"last_quarter": gain >= 0.15, "insights_for_a_new_venture": late_gain > 0},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("LUMEN_TEST_POSTGRES_URL"))
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
