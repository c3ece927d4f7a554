"""Exactly once: however many clicks, on however many replicas, each gate is resolved once
and its paused run resumes once.

The big test runs two real Lumen replicas in two OS processes on one Postgres database, both
talking to one dev workspace (the Slack Web API) served from this process. 50 wake-ups leave
50 gates; then 200 signed `block_actions` clicks (4 per gate, from two approvers, alternately
sent to the two replicas' /slack/events) arrive all at once. The same storm, smaller, also runs
against two replicas inside this process on both databases.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from lumen.agents import service as agents
from lumen.config import LumenConfig
from lumen.settings import Settings
from lumen.db.models import (
    Approval,
    ApprovalStatus,
    ApprovalVote,
    Decision,
    DecisionStatus,
    OutboxMessage,
    OutboxStatus,
    Run,
    RunStatus,
    Spend,
    Step,
)
from lumen.db.session import Database
from devslack import Delivery, Workspace
from devslack import start as start_workspace
from lumen.runtime import Replica, prepare, resolve_channels
from lumen.container import Container
from tests.approvals.support import (
    FAST_RETRIES,
    Clicker,
    Gate,
    confirm_payload,
    eventually,
    many_gates_config,
    many_gates_yaml,
    new_gates,
    outbox_idle,
)
from tests.support.databases import postgres_admin_url, postgres_database

ROOT = Path(__file__).parents[2]
CLICKERS = ("U0ALICE", "U0BOB", "U0ALICE", "U0BOB")  # 4 clicks per gate; alice and bob each twice
JOURNAL = ["context", "propose_decisions", "decision:0", "gate:0", "finished"]


# --- the parts both variants share ------------------------------------------------------------


@asynccontextmanager
async def shared_workspace(config: LumenConfig) -> AsyncIterator[tuple[Workspace, str]]:
    """The dev workspace, serving the Web API to every replica, with the ventures' channels."""
    ws = Workspace.demo(retry_delays=FAST_RETRIES)
    for v in config.ventures:
        ws.ensure_channel(v.channel, is_private=v.private)
    ws.ensure_channel(config.workspace.platform_channel)
    runner, url = await start_workspace(ws)
    try:
        yield ws, f"{url}/api/"
    finally:
        await ws.settle()
        await runner.cleanup()


def slack_settings(ws: Workspace, api_url: str, database_url: str, config_path: Path) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=ws.bot_token,
        SLACK_SIGNING_SECRET=ws.signing_secret,
        SLACK_API_URL=api_url,
        LUMEN_DATABASE_URL=database_url,
        LUMEN_CONFIG=str(config_path),
    )


async def gated_wake_ups(db: Database, count: int, timeout: float) -> list[Gate]:
    """Queue `count` wake-ups of acme's ceo and wait until each has paused at its gate."""
    async with db.transaction() as session:
        for _ in range(count):
            await agents.wake(session, "acme", "ceo", requested_by="U0ALICE")
    gates = await new_gates(db, set(), count, timeout=timeout)
    assert len(gates) == count and len({g.run_id for g in gates}) == count
    return gates


async def click_storm(ws: Workspace, urls: list[str], gates: list[Gate]) -> list[Delivery]:
    """Every click of every gate at once, in a shuffled order, alternating between the replicas."""
    clicks = [(gate, user) for gate in gates for user in CLICKERS]
    random.Random(len(gates)).shuffle(clicks)
    payloads = [confirm_payload(ws, user, gate) for gate, user in clicks]
    clicker = Clicker(ws, [f"{url}/slack/events" for url in urls])
    try:
        deliveries = await asyncio.gather(*(clicker.send(i, p) for i, p in enumerate(payloads)))
    finally:
        await clicker.close()
    for delivery in deliveries:  # Slack's rule: every click acked, empty, within 3 s
        assert (delivery.status, delivery.body, delivery.error) == (200, "", None), delivery.attempts
        assert delivery.attempts[-1].elapsed < 3.0
    return deliveries


async def assert_exactly_once(db: Database, ws: Workspace, gates: list[Gate], timeout: float) -> None:
    runs_ids = [g.run_id for g in gates]
    approval_ids = [g.approval_id for g in gates]

    async def all_finished() -> bool:
        async with db.sessions() as session:
            statuses = (await session.scalars(select(Run.status).where(Run.id.in_(runs_ids)))).all()
        return all(s == RunStatus.SUCCEEDED for s in statuses)

    n = len(gates)

    async def handled() -> tuple[int, int]:  # the clicks' work runs after their ack
        async with db.sessions() as session:
            notes = await session.scalar(
                select(func.count()).where(OutboxMessage.dedupe_key.like("approval:%:note:%"))
            )
            votes = await session.scalar(select(func.count()).select_from(ApprovalVote))
        return notes, votes

    await eventually(all_finished, timeout, interval=0.1, what="every paused run resumed and finished")
    # Every losing click answered; or, if something is wrong, nothing changing any more.
    last, quiet_since = await handled(), time.monotonic()
    while last[0] < 3 * n and time.monotonic() - quiet_since < 3:
        await asyncio.sleep(0.1)
        now = await handled()
        if now != last:
            last, quiet_since = now, time.monotonic()
    await outbox_idle(db, timeout)

    async with db.sessions() as session:
        approvals = (await session.scalars(select(Approval).where(Approval.id.in_(approval_ids)))).all()
        assert len(approvals) == n
        assert {a.status for a in approvals} == {ApprovalStatus.APPROVED}
        assert {a.resolved_by for a in approvals} <= {"U0ALICE", "U0BOB"}

        # One resolution each: the winner's vote is the only vote; losers never wrote one.
        voters = (
            await session.execute(select(ApprovalVote.approval_id, ApprovalVote.user_id).where(ApprovalVote.approval_id.in_(approval_ids)))
        ).all()
        assert Counter(a for a, _ in voters) == Counter({a: 1 for a in approval_ids})
        assert dict(voters) == {a.id: a.resolved_by for a in approvals}

        # One resume each: a single gate step, the journal in order, two claims, one model call.
        journal: dict[int, list[str]] = {r: [] for r in runs_ids}
        for run_id, name in (
            await session.execute(select(Step.run_id, Step.name).where(Step.run_id.in_(runs_ids)).order_by(Step.run_id, Step.seq))
        ).all():
            journal[run_id].append(name)
        assert journal == {r: JOURNAL for r in runs_ids}
        gate_steps = (await session.scalars(select(Step).where(Step.run_id.in_(runs_ids), Step.name == "gate:0"))).all()
        by_run = {a.run_id: a for a in approvals}
        for step in gate_steps:
            approval = by_run[step.run_id]
            assert step.output["status"] == "approved" and step.output["resolved_by"] == approval.resolved_by
            assert step.epoch == 2
        runs = (await session.scalars(select(Run).where(Run.id.in_(runs_ids)))).all()
        assert {(r.epoch, r.attempts) for r in runs} == {(2, 2)}, [(r.id, r.epoch, r.attempts) for r in runs]
        spends = dict(
            (await session.execute(select(Spend.run_id, func.count()).where(Spend.run_id.in_(runs_ids)).group_by(Spend.run_id))).all()
        )
        assert spends == {r: 1 for r in runs_ids}

        decisions = (await session.scalars(select(Decision).where(Decision.run_id.in_(runs_ids)))).all()
        assert len(decisions) == n and {d.status for d in decisions} == {DecisionStatus.EXECUTED}

        outbox = (await session.scalars(select(OutboxMessage))).all()
        sent = Counter(o.dedupe_key.split(":")[2] for o in outbox if o.dedupe_key.startswith("approval:"))
        assert sent["resolved"] == n  # one message update queued per gate
        assert sent["note"] == 3 * n  # one "already decided" per losing click
        posts = [o for o in outbox if o.dedupe_key.startswith("decision:") and o.dedupe_key.endswith(":post")]
        assert len(posts) == n and {o.status for o in posts} == {OutboxStatus.SENT}

    # What Slack saw: exactly one chat.update per approval message ...
    updates = Counter(c.params.get("ts") for c in ws.calls_to("chat.update"))
    assert updates == Counter({g.ts: 1 for g in gates})
    for gate in gates:
        msg = gate.message(ws)
        assert msg.text.startswith("✅ Approved") and not any(b["type"] == "actions" for b in msg.blocks)
    # ... and every losing click was told who had already decided.
    channel_id = gates[0].channel_id
    told = [m.text for user in ("U0ALICE", "U0BOB") for m in ws.ephemeral_messages(channel_id, user)]
    assert len(told) == 3 * n and all(t.startswith("Already decided: <@U0") for t in told), Counter(told)


# --- two OS processes on Postgres ----------------------------------------------------------


GATES_ACROSS_PROCESSES = 50


@asynccontextmanager
async def replica_processes(count: int, settings: Settings, logs: Path) -> AsyncIterator[list[str]]:
    """`count` replicas, each `python -m tests.approvals.procs.replica`; yields their base URLs."""
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "SLACK_BOT_TOKEN": settings.slack_bot_token or "",
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret or "",
        "SLACK_API_URL": settings.slack_api_url,
        "LUMEN_DATABASE_URL": settings.database_url,
        "LUMEN_CONFIG": str(settings.config_path),
    }
    env.pop("SLACK_APP_TOKEN", None)  # HTTP mode
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i in range(count):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tests.approvals.procs.replica",
                    cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=(logs / f"replica-{i}.log").open("wb"),
                )
            )
        urls = []
        for i, proc in enumerate(procs):
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                raise AssertionError(f"replica {i} died:\n{(logs / f'replica-{i}.log').read_text()[-3000:]}")
            urls.append(json.loads(line)["url"])
        yield urls
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def log_events(path: Path, event: str) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == event:
                out.append(record)
    return out


async def test_two_processes_on_postgres_resolve_and_resume_each_gate_exactly_once(tmp_path: Path) -> None:
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("needs Postgres: set LUMEN_TEST_POSTGRES_URL (several replicas only share Postgres)")
    n = GATES_ACROSS_PROCESSES
    config_path = tmp_path / "lumen.yml"
    config_path.write_text(many_gates_yaml(n + 10), encoding="utf-8")
    config = many_gates_config(n + 10)
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(postgres_database(admin, prefix="lumen_test_once"))
        ws, api_url = await stack.enter_async_context(shared_workspace(config))
        settings = slack_settings(ws, api_url, url, config_path)
        container = await prepare(settings, config)  # migrate and sync once, before the replicas start
        stack.push_async_callback(container.db.dispose)
        await resolve_channels(container, AsyncWebClient(token=ws.bot_token, base_url=api_url))
        urls = await stack.enter_async_context(replica_processes(2, settings, tmp_path))
        assert len(set(urls)) == 2

        gates = await gated_wake_ups(container.db, n, timeout=60)
        await click_storm(ws, urls, gates)
        await assert_exactly_once(container.db, ws, gates, timeout=60)

    # Both processes took part, and between them they resolved each gate once and claimed each run twice.
    logs = [tmp_path / "replica-0.log", tmp_path / "replica-1.log"]
    resolved = [log_events(p, "lumen.approval.resolved") for p in logs]
    assert sorted(r["approval_id"] for rs in resolved for r in rs) == sorted(g.approval_id for g in gates)
    assert all(resolved), "each replica should have won some of the races"
    gated_runs = {g.run_id for g in gates}
    claims = Counter(r["run_id"] for p in logs for r in log_events(p, "lumen.run.claimed") if r["run_id"] in gated_runs)
    assert claims == Counter({run_id: 2 for run_id in gated_runs})


# --- two replicas in this process, on both databases -------------------------------------------


GATES_IN_PROCESS = 10


async def test_two_replicas_in_one_process_resolve_each_gate_exactly_once(container: Container, tmp_path: Path) -> None:
    config = many_gates_config(GATES_IN_PROCESS + 5)
    async with AsyncExitStack() as stack:
        ws, api_url = await stack.enter_async_context(shared_workspace(config))
        settings = slack_settings(ws, api_url, container.db.url, tmp_path / "lumen.yml")
        replicas: list[Replica] = []
        urls = []
        for _ in range(2):
            replica_services = await prepare(settings, config)
            stack.push_async_callback(replica_services.db.dispose)
            replica = Replica(replica_services, workers=2)
            urls.append(await replica.start("127.0.0.1", 0))
            stack.push_async_callback(replica.stop)
            replicas.append(replica)

        db = replicas[0].container.db
        async with db.transaction() as session:
            for _ in range(GATES_IN_PROCESS):
                await agents.wake(session, "acme", "ceo", requested_by="U0ALICE")
        for replica in replicas:
            replica.container.signals.runs.notify()
        gates = await new_gates(db, set(), GATES_IN_PROCESS, timeout=30)
        await click_storm(ws, urls, gates)
        await assert_exactly_once(db, ws, gates, timeout=30)
