"""Chaos for as long as you like: replicas on Postgres SIGKILLed and restarted at random while
Slack goes slow, answers 500, refuses connections and rate-limits in turn, under a steady load
of wake-ups, approvals, clicks, questions and commands (tests/chaos/harness.py). At the end,
every expected post, update and reply was delivered once, every approval resolved once, every
run ended, the outbox empty, no reservation unsettled.

    python benchmarks/chaos.py [--duration 300] [--replicas 3] [--seed 13]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Runs in its own uniquely named Postgres database, dropped afterwards. Prints one JSON object:
the counts, what a person would have waited (question → answer, decision → post, by Slack's
timestamps), and every problem found; exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lumen.log import configure_logging  # noqa: E402
from tests.chaos.harness import Chaos, Options  # noqa: E402
from tests.support.databases import postgres_database  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging("warning")
    options = Options(duration=args.duration, replicas=args.replicas, seed=args.seed, settle_timeout=max(120.0, args.duration))
    with tempfile.TemporaryDirectory(prefix="lumen-chaos-") as workdir:
        async with postgres_database(args.postgres_url, prefix="lumen_bench_chaos") as url:
            report = await Chaos(url, Path(workdir), options, say=lambda line: print(line, file=sys.stderr)).run()
    return {
        "benchmark": "chaos",
        "duration_s": args.duration,
        "replicas": args.replicas,
        "seed": args.seed,
        "counts": report.counts,
        "figures": report.figures,
        "problems": report.problems,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load and chaos")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--postgres-url", default=os.environ.get("LUMEN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, indent=2, default=str))
    sys.exit(1 if result["problems"] else 0)
