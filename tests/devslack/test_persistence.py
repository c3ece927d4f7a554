"""A workspace kept in a file outlives its server: the same channels (same IDs), messages,
threads and App Home tabs after a restart, so an app can still update what it posted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from devslack import Workspace, persistence, start


async def _serve(path: Path) -> tuple[Workspace, object, AsyncWebClient, bool]:
    ws = Workspace.demo()
    kept = ws.persist(path)
    runner, base = await start(ws)
    return ws, runner, AsyncWebClient(token=ws.bot_token, base_url=base + "/api/"), kept


async def test_a_restarted_workspace_has_its_channels_messages_threads_and_home_tabs(tmp_path: Path) -> None:
    path = tmp_path / "workspace.json"
    ws, runner, client, kept = await _serve(path)
    assert not kept and path.exists()  # a new workspace is written at once
    pricing = ws.ensure_channel("pricing-council", is_private=True, topic="Who decides prices")
    card = await client.chat_postMessage(channel=pricing.id, text="Approve the spring price list?", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Spring prices*"}},
    ])
    reply = await client.chat_postMessage(channel=pricing.id, text="Waiting for finance", thread_ts=card["ts"])
    await client.chat_postEphemeral(channel=pricing.id, user="U0BOB", text="Only bob saw this, once")
    await client.views_publish(user_id="U0CAROL", view={"type": "home", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Carol's own tab"}}]})
    await client.views_open(trigger_id=ws.triggers.issue("U0DAN"), view={
        "type": "modal", "title": {"type": "plain_text", "text": "Half-typed"}, "blocks": []})
    ws.add_user("U0ERIN", "erin", "Erin Eze")
    await runner.cleanup()  # stops the server and writes the last changes

    again, runner, client, kept = await _serve(path)
    try:
        assert kept
        channel = again.channel_by_name("pricing-council")
        assert channel is not None and channel.id == pricing.id and channel.is_private and channel.topic == "Who decides prices"
        assert [(m.ts, m.text) for m in again.messages(channel.id)] == [
            (card["ts"], "Approve the spring price list?"), (reply["ts"], "Waiting for finance")
        ]
        assert again.find_message(channel.id, card["ts"]).reply_count == 1
        assert again.home_views["U0CAROL"].definition["blocks"][0]["text"]["text"] == "Carol's own tab"
        assert again.find_user("erin").real_name == "Erin Eze"
        # What Slack forgets is forgotten: ephemeral messages, open modals.
        assert again.ephemeral_messages(channel.id) == [] and again.current_modal("U0DAN") is None

        # The app updates its old message by its stored channel and ts, as after a real restart.
        updated = await client.chat_update(channel=pricing.id, ts=card["ts"], text="Approved by finance")
        assert updated["ok"] and again.find_message(channel.id, card["ts"]).text == "Approved by finance"
        newer = await client.chat_postMessage(channel=pricing.id, text="Next item")
        assert float(newer["ts"]) > float(reply["ts"])
        history = await client.conversations_history(channel=pricing.id)
        assert [m["ts"] for m in history["messages"]] == [newer["ts"], card["ts"]]
    finally:
        await runner.cleanup()
    saved = json.loads(path.read_text())
    assert [m["text"] for m in saved["messages"] if m["channel"] == pricing.id][-1] == "Next item"


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": 99}), json.dumps({"format": 1, "users": []})])
def test_a_damaged_file_is_refused_not_half_read(tmp_path: Path, content: str) -> None:
    path = tmp_path / "workspace.json"
    path.write_text(content)
    with pytest.raises(persistence.UnreadableWorkspace):
        Workspace.demo().persist(path)
    assert path.read_text() == content  # left as it was, for the person to look at
