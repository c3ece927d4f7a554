"""Text Lumen did not write cannot ping or link in Slack: venture names and goals from
lumen.yml, what the model proposes, a reject reason, an outcome's note and reporter, and an
unknown venture name echoed back all arrive escaped, while Lumen's own mentions still work.

Everything Slack received in the run is scanned: channel posts and threads, ephemerals,
command replies and the Home tab, in every mrkdwn text and every fallback `text`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from devslack import Workspace
from lumen.container import Container
from lumen.db.models import Approval, Decision, DecisionStatus
from lumen.devmode import DevStack, dev_stack
from lumen.domain.config import LumenConfig
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.render.decisions import TRAIL_ACTION
from tests.engine.helpers import STUB_MODEL, all_rows, eventually
from tests.slack.support import all_response_url_payloads
from tests.support.openai_stub import OpenAIStub, tool_call

PING = "<!channel>"
HERE = "<!here>"
LINK = "<https://evil.example/login|click to verify>"
USER = "<@U0EVIL>"
HOSTILE = f"{PING} {HERE} {LINK} {USER}"
RAW = (PING, HERE, "<https://evil", USER, "<!subteam", "<!everyone>")
TOKEN = "lumen-hostile-test-token"


@pytest.fixture
def example_config(example_config: LumenConfig) -> LumenConfig:
    ventures = tuple(
        v.model_copy(update={"name": f"Brightbox {PING}", "goals": (f"Grow {LINK}",)}) if v.slug == "brightbox" else v
        for v in example_config.ventures
    )
    return example_config.model_copy(update={"ventures": ventures})


@pytest.fixture
async def stack(container: Container, stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DevStack]:
    monkeypatch.setenv("LUMEN_MODEL_API_BASE", stub.base_url)
    settings = container.settings.model_copy(
        update={"model_strong": STUB_MODEL, "model_fast": STUB_MODEL, "model_api_base": stub.base_url, "api_token": TOKEN}
    )
    async with dev_stack(settings, container.config, workspace=Workspace.demo(retry_delays=(0.05, 0.05, 0.05))) as running:
        yield running


def _move(category: str, title: str) -> dict[str, Any]:
    return {"category": category, "title": title, "rationale": f"Because {HOSTILE}", "expected_effect": f"More {LINK}", "amount_usd": None}


async def test_nothing_anyone_else_wrote_pings_or_links(stack: DevStack, stub: OpenAIStub, container: Container) -> None:
    ws, db = stack.workspace, container.db
    stub.set_default(
        tool_call(
            PROPOSE_DECISIONS,
            {"decisions": [_move("research", f"Ask {PING} about it"), _move("pricing_change", f"Raise prices {HERE}")],
             "summary": f"Done {USER}"},
        )
    )
    await ws.slash_command("U0ALICE", "venture-brightbox", "/lumen", "wake brightbox ceo")
    decisions = await eventually(lambda: _two_landed(container), timeout=20)
    executed = next(d for d in decisions if d.status == DecisionStatus.EXECUTED)
    [approval] = await all_rows(db, Approval)
    channel = approval.channel_id

    # A human rejects with a hostile reason; the trail is opened; an outcome is reported.
    await ws.click("U0ALICE", channel, approval.message_ts, "approval_reject")
    modal = await ws.wait_for(lambda: ws.current_modal("U0ALICE"), timeout=10)
    block_id = next(b["block_id"] for b in modal.definition["blocks"] if b.get("type") == "input")
    action_id = next(b["element"]["action_id"] for b in modal.definition["blocks"] if b.get("type") == "input")
    await ws.submit_view("U0ALICE", modal.id, values={block_id: {action_id: f"No {HOSTILE}"}})
    await eventually(lambda: _resolved(container), timeout=10)
    [card] = [m for m in ws.messages(channel) if m.ts == executed.slack_ts]
    await ws.click("U0BOB", channel, card.ts, TRAIL_ACTION)
    async with aiohttp.ClientSession() as http:
        body = {"decision_id": executed.id, "verdict": "success", "note": f"It worked {HOSTILE}", "reported_by": f"ops {USER}"}
        async with http.post(f"{stack.app_url}/api/outcomes", json=body, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status in (200, 201), await r.text()
    for text in (f"status {PING}", f"brain {HERE}", "status brightbox", "approvals", f"outcome {executed.id} mixed {LINK}"):
        await ws.slash_command("U0ALICE", "venture-brightbox", "/lumen", text)
    await ws.open_home("U0ALICE")
    await asyncio.sleep(2.0)  # the outbox delivers what these queued

    said = _everything_said(ws)
    assert any("&lt;!channel&gt;" in t for t in said)  # the hostile text is shown, as text
    leaks = [t for t in said if any(raw in t for raw in RAW)]
    assert leaks == [], "\n".join(leaks)
    assert any("<@U0ALICE>" in t for t in said)  # Lumen's own mentions still mention


async def _two_landed(container: Container) -> list[Decision] | None:
    rows = await all_rows(container.db, Decision)
    approvals = await all_rows(container.db, Approval)
    posted = [d for d in rows if d.status == DecisionStatus.EXECUTED and d.slack_ts]
    return rows if len(rows) == 2 and posted and approvals and approvals[0].message_ts else None


async def _resolved(container: Container) -> bool:
    [approval] = await all_rows(container.db, Approval)
    return approval.status.value == "rejected"


def _everything_said(ws: Workspace) -> list[str]:
    """Every text Slack would format (mrkdwn, fallback text), in everything Lumen sent."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for channel in ws.channels.values():
        for message in ws.messages(channel.id) + ws.ephemeral_messages(channel.id):
            if message.user == ws.bot.id or message.bot_id:
                found.append(message.text or "")
                walk(message.blocks or [])
    for payload in all_response_url_payloads(ws):
        found.append(str(payload.get("text") or ""))
        walk(payload.get("blocks") or [])
    for view in ws.home_views.values():
        walk(view.definition)
    return found
