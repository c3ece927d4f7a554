"""Does a wake-up's context grow with the venture's history? Prompt tokens and wake-up time at
0, 10k and 100k older decisions, on SQLite and on Postgres.

Every scenario is a fresh database with the example ventures (`lumen.example.yml`), and the
same recent past: four weeks of Acme decisions (20 a week), each week synthesised into a brain
by the real synthesis run, and a few approvals left waiting. What differs is how much older
history lies under it: N decisions over the two years before (runs, decisions, outcomes for
about 60%, approvals for the gated ones, about 8% rejected by a human with a reason),
bulk-inserted. Titles come from a pool of 24 moves over six categories in both the older
history and the recent weeks, so the scenarios differ only in the amount of history.
`--titles unique` gives every older decision a title of its own instead: the worst case, where
the brain's caps and the token budget are what bound the prompt.

Then `--wakes` wake-ups of Acme's CEO run through the real worker and the offline model, one
at a time. Reported per scenario: the prompt's tokens as counted for the model through litellm
(the journal's context step), the prompt's stored size, the journal's bytes per run (the prompt
is stored once), and the wall time of `Worker.run_one` per wake-up (p50 and p95): claiming,
loading the context, the model call, the decision and its writes.

    python benchmarks/context_scaling.py [--sizes 0,10000,100000] [--databases sqlite,postgres]
        [--wakes 15] [--titles pool|unique] [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Postgres comes from --postgres-url, else LUMEN_TEST_POSTGRES_URL; without either it is skipped.
Prints one JSON object. Target: at 100k, within 1.2x of 0, in tokens and in p50 wake-up time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

from lumen import clock  # noqa: E402
from lumen.agents import service as agents  # noqa: E402
from lumen.config import parse_config  # noqa: E402
from lumen.container import Container  # noqa: E402
from lumen.db.models import (  # noqa: E402
    Agent,
    Approval,
    ApprovalStatus,
    Decision,
    DecisionStatus,
    Outcome,
    Run,
    RunKind,
    RunStatus,
    RunTrigger,
    Step,
    Venture,
    Verdict,
)
from lumen.llm import Gateway  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from lumen.runtime import make_worker, prepare  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from tests.brain.history import synthesise  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402

TARGET_RATIO = 1.2
EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "lumen" / "templates" / "lumen.example.yml"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # a Monday
RECENT_WEEKS = 4
PER_WEEK = 20
POOL = [
    (f"{verb} {subject}", category)
    for category, verb, subjects in (
        ("pricing_change", "Test", ("a 10% price rise on Pro", "annual billing at 15% off", "a usage-based add-on", "a cheaper starter tier")),
        ("marketing", "Run", ("a webinar on churn", "a LinkedIn campaign for CFOs", "a partner newsletter swap", "a case-study launch")),
        ("research", "Interview", ("churned customers", "trial users who never activated", "agency owners", "enterprise buyers")),
        ("resource_allocation", "Fund", ("a contract CSM for a month", "a paid ads sprint", "a data engineer for a quarter", "a conference booth")),
        ("new_dependency", "Adopt", ("a hosted event pipeline", "a billing platform", "a support inbox", "a feature-flag service")),
        ("customer_commitment", "Promise", ("SOC 2 by spring", "a custom export to a key account", "a 99.9% SLA", "a roadmap review each quarter")),
    )
    for subject in subjects
]
GATED = {"pricing_change", "resource_allocation", "customer_commitment"}
REASONS = ("Not while the renewal campaign runs.", "Wait for the board review.", "We promised no changes this quarter.")
BATCH = 5_000


def _history(n: int, start: datetime, end: datetime, *, unique: bool, seed: int) -> list[dict[str, Any]]:
    """n decisions spread evenly between start and end, with their fates drawn from a seed."""
    rng = random.Random(seed)
    span = (end - start) / max(n, 1)
    rows = []
    for i in range(n):
        title, category = POOL[rng.randrange(len(POOL))]
        if unique:
            title = f"{title} (variant {i})"
        roll = rng.random()
        fate = "rejected" if roll < 0.08 else "open" if roll < 0.3 else rng.choice(("success", "success", "failure", "mixed"))
        rows.append({"at": start + span * i, "title": title, "category": category, "fate": fate})
    return rows


async def _next_id(c: Container) -> int:
    async with c.db.sessions() as session:
        tops = [await session.scalar(select(func.max(m.id))) for m in (Run, Decision, Approval, Outcome)]
    return max(t or 0 for t in tops) + 1


async def _bulk_write(c: Container, venture_id: int, agent_id: int, rows: list[dict[str, Any]]) -> None:
    """Runs, decisions, approvals and outcomes with explicit ids (one id per decision), in batches."""
    next_id = await _next_id(c)
    for offset in range(0, len(rows), BATCH):
        batch = rows[offset : offset + BATCH]
        run_rows, decision_rows, approval_rows, outcome_rows = [], [], [], []
        for row in batch:
            i, at, fate = next_id, row["at"], row["fate"]
            next_id += 1
            run_rows.append(
                {"id": i, "kind": RunKind.WAKE, "venture_id": venture_id, "agent_id": agent_id, "trigger": RunTrigger.SCHEDULE,
                 "idempotency_key": f"bench:{i}", "status": RunStatus.SUCCEEDED, "scheduled_for": at, "cost_usd": Decimal("0.01"),
                 "started_at": at, "finished_at": at + timedelta(minutes=1), "created_at": at, "context": {}}
            )
            rejected = fate == "rejected"
            decision_rows.append(
                {"id": i, "run_id": i, "ordinal": 0, "venture_id": venture_id, "agent_id": agent_id, "category": row["category"],
                 "title": row["title"], "rationale": "History.", "expected_effect": "",
                 "status": DecisionStatus.REJECTED if rejected else DecisionStatus.EXECUTED, "created_at": at,
                 "resolved_at": at + timedelta(hours=1), "executed_at": None if rejected else at + timedelta(hours=1)}
            )
            if rejected or row["category"] in GATED:
                approval_rows.append(
                    {"id": i, "decision_id": i, "run_id": i, "venture_id": venture_id,
                     "status": ApprovalStatus.REJECTED if rejected else ApprovalStatus.APPROVED,
                     "approvers": {"users": ["U0ALICE"]}, "expires_at": at + timedelta(hours=72), "resolved_by": "U0ALICE",
                     "resolved_at": at + timedelta(hours=1), "reason": REASONS[i % len(REASONS)] if rejected else None,
                     "created_at": at}
                )
            if fate in ("success", "failure", "mixed"):
                outcome_rows.append(
                    {"id": i, "decision_id": i, "verdict": Verdict(fate), "reported_by": "history", "source": "api",
                     "created_at": at + timedelta(days=2)}
                )
        async with c.db.transaction() as session:
            for model, values in ((Run, run_rows), (Decision, decision_rows), (Approval, approval_rows), (Outcome, outcome_rows)):
                if values:
                    await session.execute(insert(model), values)
    await _advance_sequences(c)


async def _advance_sequences(c: Container) -> None:
    if c.db.url.startswith("postgresql"):
        async with c.db.transaction() as session:
            for table in ("runs", "decisions", "approvals", "outcomes"):
                await session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")
                )
            await session.execute(text("ANALYZE"))


async def _pending(c: Container, venture_id: int, agent_id: int) -> None:
    """Two decisions still waiting for a human, as a live venture has."""
    first_id = await _next_id(c)
    async with c.db.transaction() as session:
        for k, (title, category) in enumerate([p for p in POOL if p[1] in GATED][:2]):
            i = first_id + k
            at = NOW - timedelta(days=2)
            await session.execute(insert(Run), [{"id": i, "kind": RunKind.WAKE, "venture_id": venture_id, "agent_id": agent_id,
                                                 "trigger": RunTrigger.SCHEDULE, "idempotency_key": f"bench:{i}",
                                                 "status": RunStatus.AWAITING_APPROVAL, "scheduled_for": at, "created_at": at,
                                                 "context": {}, "cost_usd": Decimal("0.01")}])
            await session.execute(insert(Decision), [{"id": i, "run_id": i, "ordinal": 0, "venture_id": venture_id,
                                                      "agent_id": agent_id, "category": category, "title": title,
                                                      "rationale": "Waiting.", "expected_effect": "",
                                                      "status": DecisionStatus.AWAITING_APPROVAL, "created_at": at}])
            await session.execute(insert(Approval), [{"id": i, "decision_id": i, "run_id": i, "venture_id": venture_id,
                                                      "status": ApprovalStatus.PENDING, "approvers": {"users": ["U0ALICE"]},
                                                      "expires_at": NOW + timedelta(days=30), "created_at": at}])


async def scenario(kind: str, postgres_url: str | None, size: int, wakes: int, unique: bool) -> dict[str, Any]:
    async with fresh_database(kind, postgres_url, prefix="lumen_ctx") as url:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(LUMEN_DATABASE_URL=url, LUMEN_CONFIG=str(Path(tmp) / "lumen.yml"))
            c = await prepare(settings, parse_config(EXAMPLE.read_text(), source=str(EXAMPLE)))
            try:
                return await _measure(c, settings, size, wakes, unique)
            finally:
                await c.db.dispose()


async def _measure(c: Container, settings: Settings, size: int, wakes: int, unique: bool) -> dict[str, Any]:
    async with c.db.sessions() as session:
        venture_id = await session.scalar(select(Venture.id).where(Venture.slug == "acme"))
        agent_id = await session.scalar(select(Agent.id).where(Agent.venture_id == venture_id, Agent.role == "ceo"))
    recent_start = NOW - timedelta(weeks=RECENT_WEEKS)
    loaded = time.perf_counter()
    await _bulk_write(c, venture_id, agent_id, _history(size, recent_start - timedelta(days=730), recent_start, unique=unique, seed=1))
    load_seconds = time.perf_counter() - loaded
    gateway = Gateway.from_settings(settings, c.db)
    for week in range(RECENT_WEEKS):
        monday = recent_start + timedelta(weeks=week)
        rows = _history(PER_WEEK, monday, monday + timedelta(days=5), unique=False, seed=100 + week)
        await _bulk_write(c, venture_id, agent_id, rows)
        with clock.at(monday + timedelta(days=7, hours=6)):
            await synthesise(c, gateway, venture_id, monday + timedelta(days=7, hours=6))
    await _pending(c, venture_id, agent_id)
    await _advance_sequences(c)

    worker = make_worker(c, concurrency=1)
    times, tokens, prompt_bytes, journal_bytes = [], [], [], []
    for k in range(wakes):
        with clock.at(NOW + timedelta(hours=1, minutes=k)):
            async with c.db.transaction() as session:
                woken = await agents.wake(session, "acme", "ceo", requested_by="benchmark")
            started = time.perf_counter()
            await worker.run_one(woken.run_id)
            times.append((time.perf_counter() - started) * 1000)
        async with c.db.sessions() as session:
            steps = (await session.scalars(select(Step).where(Step.run_id == woken.run_id))).all()
        context = next(s for s in steps if s.name == "context")
        propose = next(s for s in steps if s.name == "propose_decisions")
        tokens.append(int(context.output["tokens"]))
        prompt_bytes.append(len(json.dumps(propose.input.get("messages", []))))
        journal_bytes.append(sum(len(json.dumps(s.input)) + len(json.dumps(s.output)) for s in steps))
    async with c.db.sessions() as session:
        decisions = await session.scalar(select(func.count()).select_from(Decision).where(Decision.venture_id == venture_id))
    ordered = sorted(times)
    return {
        "older_decisions": size,
        "decisions_in_database": decisions,
        "load_seconds": round(load_seconds, 1),
        "prompt_tokens_p50": int(statistics.median(tokens)),
        "prompt_tokens_max": max(tokens),
        "stored_prompt_bytes_p50": int(statistics.median(prompt_bytes)),
        "journal_bytes_per_run_p50": int(statistics.median(journal_bytes)),
        "wake_ms_p50": round(statistics.median(times), 1),
        "wake_ms_p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging("warning")
    sizes = [int(s) for s in args.sizes.split(",")]
    report: dict[str, Any] = {"sizes": sizes, "wakes": args.wakes, "titles": args.titles, "token_budget": Settings().context_tokens}
    for kind in args.databases.split(","):
        if kind == "postgres" and not args.postgres_url:
            report[kind] = {"skipped": "no --postgres-url or LUMEN_TEST_POSTGRES_URL"}
            continue
        # One wake-up on a throwaway database first: imports and tokenizer tables load outside the figures.
        await scenario(kind, args.postgres_url, 0, 1, False)
        results = [await scenario(kind, args.postgres_url, size, args.wakes, args.titles == "unique") for size in sizes]
        base, top = results[0], results[-1]
        report[kind] = {
            "scenarios": results,
            "tokens_ratio": round(top["prompt_tokens_p50"] / base["prompt_tokens_p50"], 3),
            "time_ratio": round(top["wake_ms_p50"] / base["wake_ms_p50"], 3),
        }
        report[kind]["target_met"] = report[kind]["tokens_ratio"] <= TARGET_RATIO and report[kind]["time_ratio"] <= TARGET_RATIO
    report["target_ratio"] = TARGET_RATIO
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--wakes", type=int, default=15)
    parser.add_argument("--titles", choices=["pool", "unique"], default="pool")
    parser.add_argument("--postgres-url", default=os.environ.get("LUMEN_TEST_POSTGRES_URL"))
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
