"""From an approver's confirmation to the paused run moving again, and to the message changing in Slack.

The real stack runs in this process (`dev_stack`: the dev workspace over HTTP as Slack, one Lumen
replica with its workers and outbox, the offline model). First N wake-ups of one agent each stop at
a gated decision (that model time is not measured). Then each approval is approved once, one after
the other: Approve… opens the confirmation modal (not timed), and two times are taken from the
moment its real signed `view_submission` is sent (perf_counter, all in one process):

  claim:  the re-queued run is claimed by a worker (the replica's Worker.process is entered);
  update: the dev workspace applies the `chat.update` that rewrites the approval message.

A resume replays its journal and never calls the model (checked: one spend row per run at the end).
The breakdown says where the time goes: the ack, the listener starting its work after the ack, the deciding
transaction (`approvals.service.resolve`), and from the decision to the claim / the update.

    python benchmarks/approval_resume.py [--approvals 100] [--warmup 5] [--databases sqlite,postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Postgres runs in its own uniquely named database, dropped afterwards. Prints one JSON object.
Targets: p50 under 100 ms and p99 under 500 ms, for both times, on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import lumen.approvals.service as approval_service  # noqa: E402
from lumen.agents import service as agents  # noqa: E402
from lumen.config import LumenConfig, parse_config  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.db.models import Approval, Run, RunStatus, Spend  # noqa: E402
from lumen.devmode import dev_stack  # noqa: E402
from devslack import Workspace  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402

TARGET_P50_MS, TARGET_P99_MS = 100.0, 500.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
APPROVERS = ("U0ALICE", "U0BOB")


def config(gates: int) -> LumenConfig:
    """The demo lumen.yml; acme's CEO plays `gates` gated price changes; no schedule fires."""
    data = yaml.safe_load(files("lumen").joinpath("templates/lumen.example.yml").read_text(encoding="utf-8"))
    for venture in data["ventures"]:
        for agent in venture["agents"]:
            agent["schedule"] = "0 0 1 1 *"
        if venture["slug"] == "acme":
            venture["playbook"] = [
                {"title": f"Price test {i:03d}", "category": "pricing_change", "role": "ceo"} for i in range(gates)
            ]
    return parse_config(yaml.safe_dump(data), source="benchmark lumen.yml")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:  # nearest rank
        index = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))
        return round(ordered[index] * 1000, 2)

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1] * 1000, 2), "n": len(ordered)}


class Clock:
    """Moments, keyed by run id or message ts, recorded by hooks in the running stack."""

    def __init__(self) -> None:
        self.claimed: dict[int, float] = {}
        self.updated: dict[str, float] = {}
        self.resolve_started: dict[int, float] = {}
        self.resolved: dict[int, float] = {}


def install_hooks(stack: Any, clock: Clock) -> None:
    worker = stack.replica.worker
    process = worker.process

    async def timed_process(claim: Any) -> Any:
        clock.claimed.setdefault(claim.run_id, time.perf_counter())
        return await process(claim)

    worker.process = timed_process  # the worker loop looks it up on the instance

    resolve = approval_service.resolve

    async def timed_resolve(session: Any, approval_id: int, *args: Any, **kwargs: Any) -> Any:
        clock.resolve_started.setdefault(approval_id, time.perf_counter())
        result = await resolve(session, approval_id, *args, **kwargs)
        clock.resolved.setdefault(approval_id, time.perf_counter())
        return result

    approval_service.resolve = timed_resolve  # the listener calls `service.resolve(...)`

    ws: Workspace = stack.workspace
    update_message = ws.update_message

    def timed_update(msg: Any, **kwargs: Any) -> Any:
        if kwargs.get("editor"):  # chat.update, not a thread's reply count
            clock.updated.setdefault(msg.ts, time.perf_counter())
        return update_message(msg, **kwargs)

    ws.update_message = timed_update  # type: ignore[method-assign]


async def paused_gates(stack: Any, count: int) -> list[tuple[int, int, str, str]]:
    """Wake acme's CEO `count` times; wait until each has paused at its posted gate."""
    db = stack.container.db
    async with db.transaction() as session:
        for _ in range(count):
            await agents.wake(session, "acme", "ceo", requested_by="U0ALICE")
    stack.container.signals.runs.notify()
    deadline = time.monotonic() + 120
    while True:
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    select(Approval.id, Approval.run_id, Approval.channel_id, Approval.message_ts)
                    .join(Run, Run.id == Approval.run_id)
                    .where(Approval.message_ts.is_not(None), Run.status == RunStatus.AWAITING_APPROVAL)
                    .order_by(Approval.id)
                )
            ).all()
        if len(rows) >= count:
            return [tuple(r) for r in rows]  # type: ignore[misc]
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(rows)} of {count} gates paused in time")
        await asyncio.sleep(0.05)


async def phase(kind: str, postgres_url: str, approvals: int, warmup: int) -> dict[str, Any]:
    total = approvals + warmup
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_database(kind, postgres_url, "lumen_bench_resume") as url:
            return await _measure(url, Path(tmp), total, warmup)


async def _measure(url: str, tmp: Path, total: int, warmup: int) -> dict[str, Any]:
    settings = Settings(LUMEN_DATABASE_URL=url, LUMEN_CONFIG=str(tmp / "lumen.yml"))
    workspace = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
    async with dev_stack(settings, config(total + 5), workspace=workspace) as stack:
        ws, db = stack.workspace, stack.container.db
        gates = await paused_gates(stack, total)
        clock = Clock()
        install_hooks(stack, clock)
        sent: dict[int, float] = {}
        acks: list[float] = []
        for i, (approval_id, run_id, channel_id, ts) in enumerate(gates):
            # Approve… opens the confirmation modal (not timed); the approver's Approve in it decides.
            user = APPROVERS[i % 2]
            await ws.click(user, channel_id, ts, "approval_approve")
            modal = await ws.wait_for(lambda u=user: ws.current_modal(u), timeout=10)
            sent[approval_id] = time.perf_counter()
            delivery = await ws.submit_view(user, modal.id)
            if delivery.status != 200 or delivery.body:
                raise RuntimeError(f"confirmation not acked: {delivery.status} {delivery.body!r}")
            acks.append(delivery.attempts[-1].elapsed)
            await ws.wait_for(lambda r=run_id, t=ts: r in clock.claimed and t in clock.updated, timeout=30)
        measured = gates[warmup:]

        # Every resumed run finished without calling the model again.
        deadline = time.monotonic() + 60
        while True:
            async with db.sessions() as session:
                open_runs = await session.scalar(
                    select(func.count()).where(Run.status != RunStatus.SUCCEEDED, Run.id.in_([g[1] for g in gates]))
                )
                spends = (
                    await session.execute(
                        select(Spend.run_id, func.count()).where(Spend.run_id.in_([g[1] for g in gates])).group_by(Spend.run_id)
                    )
                ).all()
            if open_runs == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        model_calls_in_resumes = sum(n - 1 for _, n in spends)

        def delta(start: dict[int, float], end: dict[Any, float], key_end: int) -> list[float]:
            return [end[g[key_end]] - start[g[0]] for g in measured]

        claim = delta(sent, clock.claimed, 1)
        update = delta(sent, clock.updated, 3)
        result = {
            "click_to_claim": percentiles(claim),
            "click_to_update": percentiles(update),
            "breakdown": {
                "ack (HTTP round trip)": percentiles(acks[warmup:]),
                "click to resolve() start (ack, then the listener task)": percentiles(
                    [clock.resolve_started[g[0]] - sent[g[0]] for g in measured]
                ),
                "resolve() (the deciding transaction)": percentiles(
                    [clock.resolved[g[0]] - clock.resolve_started[g[0]] for g in measured]
                ),
                "resolved to claim": percentiles([clock.claimed[g[1]] - clock.resolved[g[0]] for g in measured]),
                "resolved to chat.update applied": percentiles(
                    [clock.updated[g[3]] - clock.resolved[g[0]] for g in measured]
                ),
            },
            "runs_not_finished": open_runs,
            "model_calls_during_resumes": model_calls_in_resumes,
        }
        result["targets_met"] = all(
            result[k]["p50_ms"] < TARGET_P50_MS and result[k]["p99_ms"] < TARGET_P99_MS
            for k in ("click_to_claim", "click_to_update")
        )
        return result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging("warning")
    out: dict[str, Any] = {
        "benchmark": "approval_resume",
        "approvals": args.approvals,
        "warmup": args.warmup,
        "targets": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS},
    }
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        try:
            out[kind] = await phase(kind, args.postgres_url, args.approvals, args.warmup)
        except OSError as exc:  # e.g. no Postgres here
            out[kind] = {"skipped": f"{type(exc).__name__}: {exc}"}
    out["targets_met"] = all(v.get("targets_met", False) for k, v in out.items() if k in ("sqlite", "postgres") and "skipped" not in v)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("LUMEN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
