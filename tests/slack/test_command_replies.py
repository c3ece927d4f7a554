"""A slash command's reply reaches the person even when Slack could not take it at first:
it is retried, arrives once, and a failure costs one log line, not two tracebacks."""

from __future__ import annotations

import asyncio

import pytest

from lumen.db.models import OutboxMessage
from lumen.devmode import DevStack
from lumen.engine import drain
from lumen.slack import direct_writes
from lumen.slack.listeners import commands
from tests.engine.helpers import outbox_rows
from tests.slack.support import response_url_payloads
from tests.support.logs import record_logs


async def test_replies_refused_at_first_arrive_once_when_slack_is_back(stack: DevStack, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = stack.workspace
    first = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "approvals")  # the replica has met Slack
    await ws.wait_for(lambda: response_url_payloads(ws, first), timeout=10)
    logs = record_logs(monkeypatch, direct_writes, commands, drain)
    await ws.refuse_connections(True)
    helped = await ws.slash_command("U0BOB", "venture-acme", "/lumen", "help")
    assert helped.status == 200 and "Lumen commands" in helped.body  # answered in the ack: Slack's outage does not touch it
    asked = ["status", "status acme", "wake acme cmo", "approvals", "budget acme"]
    deliveries = [await ws.slash_command("U0BOB", "venture-acme", "/lumen", text) for text in asked]
    assert [(d.status, d.body) for d in deliveries] == [(200, "")] * len(asked)
    await asyncio.sleep(1.0)  # every reply has met a refused connection by now
    await ws.refuse_connections(False)
    for delivery in deliveries:
        await ws.wait_for(lambda d=delivery: response_url_payloads(ws, d), timeout=20)
    await asyncio.sleep(1.0)  # a second copy, if any, arrives now
    assert [len(response_url_payloads(ws, d)) for d in deliveries] == [1] * len(asked)
    assert len(ws.ephemeral_messages("venture-acme", "U0BOB")) == len(asked) + 1
    assert logs.tracebacks() == []
    assert len(logs.named("lumen.slack.response_url_failed")) == len(asked), [e["event"] for e in logs]


async def test_a_reply_answered_500_is_sent_again_and_arrives_once(stack: DevStack) -> None:
    ws = stack.workspace
    first = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "approvals")
    await ws.wait_for(lambda: response_url_payloads(ws, first), timeout=10)
    ws.outage(True, status=500, response_urls=True)
    delivery = await ws.slash_command("U0CAROL", "venture-acme", "/lumen", "status")
    await asyncio.sleep(1.0)
    ws.outage(False)
    await ws.wait_for(lambda: response_url_payloads(ws, delivery), timeout=20)
    await asyncio.sleep(1.0)
    assert len(response_url_payloads(ws, delivery)) == 1


async def test_a_reply_slack_took_slowly_is_not_sent_again(stack: DevStack) -> None:
    ws = stack.workspace
    ws.slow(1.5)  # Slack shows the reply at once, and answers the POST late
    delivery = await ws.slash_command("U0DAN", "venture-acme", "/lumen", "status")
    await ws.wait_for(lambda: response_url_payloads(ws, delivery), timeout=10)
    await asyncio.sleep(2.0)
    ws.slow(0)
    await asyncio.sleep(1.0)
    assert len(response_url_payloads(ws, delivery)) == 1
    assert [r.method for r in await _outbox(stack)] == []


async def _outbox(stack: DevStack) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(stack.container.db) if r.method == "response_url"]
