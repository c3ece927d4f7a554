"""Does the weekly synthesis read the week, or the whole history?

Generates a history of WEEKS weeks with PER_WEEK decisions a week (tests/brain/history.py:
deterministic categories, verdicts, approvals and outcomes) for Acme on SQLite, then runs the
weekly synthesis at the end of every week in order, with the offline model, as the scheduler
would: brain N+1 from brain N and the week's decisions. For the measured weeks it reports the
prompt tokens of the write_brain call (from its spend row), the prompt's size in characters, the
facts the synthesis was given, the size of the brain it started from, and the run's wall time.

    python benchmarks/synthesis_scaling.py [--weeks 52] [--per-week 50] [--measure 1,13,52]

Prints one JSON object. Target: week-52 prompt tokens <= 1.3x week-1's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LUMEN_LOG_LEVEL", "warning")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from lumen.config import parse_config  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.db.migrate import upgrade  # noqa: E402
from lumen.db.models import BrainVersion, Step  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.domain.brain import compact  # noqa: E402
from lumen.llm._litellm import litellm  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from lumen.runtime import build_container  # noqa: E402
from lumen.ventures.sync import sync_config  # noqa: E402
from tests.brain.history import synthesis_spend, synthesise, week_end, write_history  # noqa: E402

TARGET_RATIO = 1.3
START = datetime(2024, 1, 1, tzinfo=timezone.utc)  # a Monday
EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "lumen" / "templates" / "lumen.example.yml"


async def measure(weeks: int, per_week: int, measured: set[int], directory: Path) -> dict:
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    db = Database(url)
    await upgrade(db.engine)
    config = parse_config(EXAMPLE.read_text(), source=str(EXAMPLE))
    async with db.transaction() as session:
        await sync_config(session, config)
    settings = Settings(LUMEN_DATABASE_URL=url, LUMEN_CONFIG=str(directory / "lumen.yml"))
    container = build_container(settings, config, db)
    gateway = container.gateway
    litellm()  # import it (seconds) before timing anything, as a running replica has
    started = time.perf_counter()
    history = await write_history(db, "acme", weeks, per_week, START)
    generate_s = time.perf_counter() - started
    rows = {}
    all_times = []
    for week in range(1, weeks + 1):
        began = time.perf_counter()
        run_id = await synthesise(container, gateway, history.venture_id, week_end(START, week))
        wall = time.perf_counter() - began
        all_times.append(wall)
        if week not in measured:
            continue
        spend = await synthesis_spend(db, run_id)
        async with db.sessions() as session:
            inputs = await session.scalar(select(Step).where(Step.run_id == run_id, Step.name == "inputs"))
            call = await session.scalar(select(Step).where(Step.run_id == run_id, Step.name == "write_brain"))
            brain = await session.scalar(
                select(BrainVersion).where(BrainVersion.run_id == run_id)
            )
        prompt = call.input["messages"]
        previous = inputs.output["previous"]
        rows[week] = {
            "prompt_tokens": spend.prompt_tokens,
            "prompt_chars": len(json.dumps(prompt, ensure_ascii=False)),
            "facts": len(inputs.output["facts"]),
            "previous_brain_version": inputs.output["previous_version"],
            "previous_brain_statements": sum(len(v) for v in previous.values()),
            "previous_brain_chars": len(json.dumps(previous, ensure_ascii=False)),
            # What the synthesis is sent: the brain without titles (they travel with the facts).
            "previous_brain_sent_chars": len(json.dumps(compact(previous), ensure_ascii=False)),
            "sample_statement": compact(previous) if week == max(measured) else None,
            "brain_version": brain.version,
            "wall_ms": round(wall * 1000, 1),
        }
    await db.dispose()
    first, last = rows[min(rows)], rows[max(rows)]
    ratio = last["prompt_tokens"] / first["prompt_tokens"]
    return {
        "benchmark": "synthesis_scaling",
        "database": "sqlite",
        "model": settings.model_strong,
        "weeks": weeks,
        "decisions_per_week": per_week,
        "decisions_total": len(history.decisions),
        "generate_history_s": round(generate_s, 2),
        "synthesis_wall_ms_median_all_weeks": round(sorted(all_times)[len(all_times) // 2] * 1000, 1),
        "measured": {f"week_{w}": r for w, r in sorted(rows.items())},
        f"prompt_ratio_week_{max(rows)}_to_week_{min(rows)}": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio <= TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--per-week", type=int, default=50)
    parser.add_argument("--measure", default="1,13,52")
    args = parser.parse_args()
    configure_logging("warning")
    measured = {int(w) for w in args.measure.split(",")}
    with tempfile.TemporaryDirectory(prefix="lumen-bench-") as directory:
        result = asyncio.run(measure(args.weeks, args.per_week, measured, Path(directory)))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
