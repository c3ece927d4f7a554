"""Two dispatchers on one outbox, Slack slow: a claimed row is sent by one of them, once.

A dispatcher claims a batch and hides it for a while; delivering the batch can take longer
than that when Slack is slow. The other replica then sees the rows as free again.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from devslack import Workspace
from devslack import start as start_workspace
from lumen.container import Container
from tests.support.replicas import several_replicas_need_postgres
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.engine import outbox
from tests.engine.helpers import all_rows, eventually

ROOT = Path(__file__).parents[2]


@asynccontextmanager
async def served_workspace() -> AsyncIterator[tuple[Workspace, str]]:
    ws = Workspace.demo()
    ws.ensure_channel("launch-notes")
    runner, url = await start_workspace(ws)
    try:
        yield ws, f"{url}/api/"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def dispatcher_process(db_url: str, api_url: str, claim_s: float, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.engine.procs.outbox_replica", db_url, api_url, str(claim_s),
        cwd=ROOT, env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"),
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() == b"ready", log.read_text()[-3000:]
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_two_dispatchers_with_slack_slow_post_each_message_once(container: Container, tmp_path: Path) -> None:
    several_replicas_need_postgres(container)
    db = container.db
    notes = [f"Launch note {n:02d}: the pricing page copy is final" for n in range(12)]
    async with db.transaction() as session:
        for n, text in enumerate(notes):
            # A permalink too, as decision cards ask: two slow calls per row.
            await outbox.enqueue(
                session, "chat.postMessage", {"channel": "launch-notes", "text": text}, dedupe_key=f"note:{n}", ref={"permalink": True}
            )
    async with served_workspace() as (ws, api_url):
        ws.slow(0.3)  # 12 rows x 2 calls x 0.3 s: longer than the 2 s a claim hides a row
        async with dispatcher_process(db.url, api_url, 2.0, tmp_path / "first.log"):
            await ws.wait_for(lambda: ws.calls_to("chat.postMessage"), timeout=30)
            async with dispatcher_process(db.url, api_url, 2.0, tmp_path / "second.log"):

                async def all_sent() -> bool:
                    rows = await all_rows(db, OutboxMessage)
                    return all(r.status == OutboxStatus.SENT for r in rows)

                await eventually(all_sent, timeout=60)
                await asyncio.sleep(1.0)  # a late duplicate, if any, lands now
        posted = Counter(m.text for m in ws.messages("launch-notes"))
        assert posted == Counter({text: 1 for text in notes}), posted


async def test_a_dispatcher_killed_during_its_calls_has_them_found_not_sent_again(container: Container, tmp_path: Path) -> None:
    """Slack took the post, the update and the reply; each sender was SIGKILLed before it
    heard so. The next dispatcher finds each in Slack instead of sending it again."""
    several_replicas_need_postgres(container)
    db = container.db
    async with served_workspace() as (ws, api_url):
        channel = ws.resolve_channel("launch-notes")
        async with db.transaction() as session:
            # By ID, as Lumen posts once it has learned the channel's.
            await outbox.enqueue(session, "chat.postMessage", {"channel": channel.id, "text": "Launch moved to Tuesday"}, dedupe_key="launch")
            await outbox.enqueue(session, "chat.update", {"update_of": "launch", "text": "Launch moved to Wednesday"}, dedupe_key="launch:moved")
        ws.slow(1.0)
        for n, method in enumerate(("chat.postMessage", "chat.update")):
            async with dispatcher_process(db.url, api_url, 2.0, tmp_path / f"killed-{n}.log") as proc:
                await ws.wait_for(lambda m=method: ws.calls_to(m), timeout=30)
                proc.kill()  # after Slack took the call, before its answer
                await proc.wait()
            if method == "chat.postMessage":
                [post] = ws.messages("launch-notes")
                async with db.transaction() as session:
                    await outbox.enqueue(
                        session, "chat.postMessage", {"thread_of": "launch", "text": "Details in the launch doc"}, dedupe_key="launch:details"
                    )
        async with dispatcher_process(db.url, api_url, 2.0, tmp_path / "heir.log"):
            await ws.wait_for(lambda: ws.thread(channel.id, post.ts)[1:], timeout=30)

            async def all_sent() -> bool:
                return all(r.status == OutboxStatus.SENT for r in await all_rows(db, OutboxMessage))

            await eventually(all_sent, timeout=30)
        assert [m.text for m in ws.messages("launch-notes")] == ["Launch moved to Wednesday", "Details in the launch doc"]
        assert len([c for c in ws.calls_to("chat.update") if c.response and c.response.get("ok")]) == 1
        assert len(ws.calls_to("chat.postMessage")) == 2
        rows = {r.dedupe_key: r for r in await all_rows(db, OutboxMessage)}
        assert rows["launch"].result == {"channel": channel.id, "ts": post.ts}
