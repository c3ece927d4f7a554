"""Slack's retries of an event whose first delivery failed are handled, not dropped; and a
command whose replica died after acking it is answered all the same.

Slack retries an event whose delivery failed (no answer, a 5xx, a timeout) with the same
event_id. The receipt that makes retries run once must not turn a failed first delivery
into a dropped event: here the replica that took the first delivery dies before answering,
and the retry lands on the other replica behind the balancer. Slack never retries a command:
the receipt the dying replica wrote after the ack is what the other one answers it from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from devslack import Workspace
from devslack import start as start_workspace
from lumen.container import Container
from tests.conftest import EXAMPLE_CONFIG
from tests.slack.conftest import FAST_RETRIES
from tests.slack.support import response_url_payloads
from tests.support.balancer import Balancer
from tests.support.replicas import ReplicaProcess, replica_env, several_replicas_need_postgres


@asynccontextmanager
async def workspace_behind(balancer: Balancer, container: Container) -> AsyncIterator[Workspace]:
    ws = Workspace.demo(retry_delays=FAST_RETRIES, request_url=f"{balancer.url}/slack/events")
    for venture in container.config.ventures:
        ws.ensure_channel(venture.channel, is_private=venture.private)
    ws.ensure_channel(container.config.workspace.platform_channel)
    runner, _ = await start_workspace(ws)
    try:
        yield ws
    finally:
        await ws.settle()
        await runner.cleanup()


@asynccontextmanager
async def doomed_and_steady(container: Container, tmp_path: Path, **dies: str) -> AsyncIterator[tuple[Workspace, ReplicaProcess, ReplicaProcess]]:
    """Two replica processes behind a balancer that sends it the first request: `doomed`, which
    dies as `dies` says (tests/support/replica_process.py), and `steady`."""
    config_path = tmp_path / "lumen.yml"
    config_path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    async with AsyncExitStack() as stack:
        balancer = Balancer()
        await balancer.start()
        stack.push_async_callback(balancer.close)
        ws = await stack.enter_async_context(workspace_behind(balancer, container))
        settings = container.settings.model_copy(
            update={"slack_api_url": f"{ws.base_url}/api/", "config_path": config_path}
        )
        doomed = ReplicaProcess("doomed", replica_env(settings, LUMEN_TEST_QUICK="1", **dies), tmp_path)
        steady = ReplicaProcess("steady", replica_env(settings, LUMEN_TEST_QUICK="1"), tmp_path)
        for replica in (doomed, steady):
            balancer.add(await replica.start())
            stack.push_async_callback(replica.stop)
        yield ws, doomed, steady


async def test_a_mention_whose_first_delivery_died_with_its_replica_is_answered_once(
    container: Container, tmp_path: Path
) -> None:
    several_replicas_need_postgres(container)
    async with doomed_and_steady(container, tmp_path, LUMEN_TEST_DIE_ON_EVENT="app_mention") as (ws, doomed, steady):
        asked = await ws.send_message("U0ALICE", "venture-acme", f"<@{ws.bot.id}> what did acme try on pricing?")
        delivery = ws.deliveries[-1]
        await doomed.wait_dead()
        # The first attempt died with the replica; Slack's retry reached the other one.
        assert delivery.attempts[0].status == 502 and delivery.ok, delivery.attempts

        channel = ws.resolve_channel("venture-acme").id
        replies = lambda: [m for m in ws.thread(channel, asked.ts) if m.is_reply and m.user == ws.bot.id]  # noqa: E731
        await ws.wait_for(replies, timeout=30)
        await ws.wait_for(lambda: False or steady.events("lumen.outbox.sent"), timeout=5)
        assert len(replies()) == 1
        assert len([c for c in ws.calls_to("chat.postMessage") if c.params.get("thread_ts") == asked.ts]) == 1


async def test_a_command_whose_replica_died_after_its_ack_is_answered_once(container: Container, tmp_path: Path) -> None:
    several_replicas_need_postgres(container)
    async with doomed_and_steady(container, tmp_path, LUMEN_TEST_DIE_BEFORE_REPLY="1") as (ws, doomed, steady):
        delivery = await ws.slash_command("U0BOB", "venture-acme", "/lumen", "status acme")
        await doomed.wait_dead()
        assert (delivery.status, delivery.body) == (200, "")  # acked: Slack will never send it again
        [reply] = await ws.wait_for(lambda: response_url_payloads(ws, delivery), timeout=30)
        assert "Acme" in reply["text"]
        await ws.wait_for(lambda: steady.events("lumen.slack.delivery_replayed"), timeout=5)
        assert len(response_url_payloads(ws, delivery)) == 1
