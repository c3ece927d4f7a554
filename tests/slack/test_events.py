"""Events API through the real stack: mentions, retries deduplicated by event_id, 429s from
the Web API waited out, the App Home, and DMs (but never the bot's own messages)."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select

from lumen.db.models import SlackEventReceipt
from lumen.devmode import DevStack
from devslack import Message, Workspace
from lumen.render.limits import check_blocks
from tests.slack.support import block_texts, metric_value

DEDUPED = "lumen_slack_events_deduplicated_total"


async def metrics_text(stack: DevStack) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.app_url}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


def bot_replies(ws: Workspace, channel: str, thread_ts: str) -> list[Message]:
    channel_id = ws.resolve_channel(channel).id
    return [m for m in ws.thread(channel_id, thread_ts) if m.ts != thread_ts and m.user == ws.bot.id]


async def mention(ws: Workspace, channel: str = "venture-acme", text: str = "hi") -> Message:
    return await ws.send_message("U0ALICE", channel, f"<@{ws.bot.id}> {text}")


async def test_event_retry_is_answered_once(stack: DevStack) -> None:
    ws = stack.workspace
    before = metric_value(await metrics_text(stack), DEDUPED)

    asked = await mention(ws)
    first = ws.deliveries[-1]
    assert first.kind == "events_api" and first.status == 200 and len(first.attempts) == 1
    await ws.wait_for(lambda: bot_replies(ws, "venture-acme", asked.ts), timeout=5)

    again = await ws.redeliver(first.event_id)  # Slack sends the same event_id again
    assert again.status == 200 and again.event_id == first.event_id

    # A later mention is answered too: the replica is alive, and the duplicate had its chance.
    later = await mention(ws, text="still there?")
    await ws.wait_for(lambda: bot_replies(ws, "venture-acme", later.ts), timeout=5)

    replies = bot_replies(ws, "venture-acme", asked.ts)
    assert len(replies) == 1
    assert "/lumen status" in replies[0].text and "U0ALICE" in replies[0].text
    assert len(ws.calls_to("chat.postMessage")) == 2
    assert metric_value(await metrics_text(stack), DEDUPED) == before + 1
    async with stack.container.db.sessions() as session:
        ids = set((await session.scalars(select(SlackEventReceipt.event_id))).all())
    assert first.event_id in ids and len(ids) == 2


async def test_duplicate_delivered_back_to_back_runs_once(stack: DevStack) -> None:
    ws = stack.workspace
    event = {
        "type": "app_mention", "user": "U0BOB", "text": f"<@{ws.bot.id}> twice?",
        "channel": ws.resolve_channel("venture-acme").id, "ts": "1700000000.000100",
    }
    delivery = await ws.deliver_event(event, duplicate=True)
    attempts = [d for d in ws.deliveries if d.event_id == delivery.event_id]
    assert [d.status for d in attempts] == [200, 200]
    await ws.wait_for(lambda: ws.calls_to("chat.postMessage"), timeout=5)
    later = await mention(ws, text="and once more")
    await ws.wait_for(lambda: bot_replies(ws, "venture-acme", later.ts), timeout=5)
    posted = [c.params.get("thread_ts") for c in ws.calls_to("chat.postMessage")]
    assert posted == ["1700000000.000100", later.ts]


async def test_rate_limited_reply_waits_and_arrives(stack: DevStack) -> None:
    ws = stack.workspace
    ws.rate_limit("chat.postMessage", times=1, retry_after=1)
    asked = await mention(ws)
    replies = await ws.wait_for(lambda: bot_replies(ws, "venture-acme", asked.ts), timeout=8)
    assert len(replies) == 1
    calls = ws.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 0.95
    assert calls[0].params.get("thread_ts") == calls[1].params.get("thread_ts") == asked.ts


async def test_app_home_shows_the_ventures(stack: DevStack) -> None:
    ws = stack.workspace
    delivery = await ws.open_home("U0ALICE")
    assert delivery is not None and delivery.status == 200
    view = await ws.wait_for(lambda: ws.home_views.get("U0ALICE"), timeout=5)
    publishes = ws.calls_to("views.publish")
    assert len(publishes) == 1 and publishes[0].params["user_id"] == "U0ALICE"
    assert view.definition["type"] == "home"
    check_blocks(view.definition["blocks"], modal=True)
    text = block_texts(view.definition["blocks"])
    assert "Acme Analytics" in text and "Brightbox Studio" in text
    assert "U0ALICE" in text


async def test_dm_gets_a_reply_but_the_bots_own_messages_do_not(stack: DevStack) -> None:
    ws = stack.workspace
    dm = ws.dm_with("U0ALICE")

    # What Slack sends for the bot's own posts in the DM: by bot token (user = the bot user,
    # bot_id set) and as a bot_message subtype.
    own = ws.post(dm.id, as_bot=True, text="I am the bot")
    for extra in ({}, {"subtype": "bot_message"}):
        await ws.deliver_event(
            {"type": "message", "channel": dm.id, "channel_type": "im", "user": ws.bot.id,
             "bot_id": ws.bot.bot_id, "text": own.text, "ts": own.ts, "event_ts": own.ts, **extra}
        )
    assert all(d.status == 200 for d in ws.deliveries)

    asked = await ws.send_message("U0ALICE", dm.id, "what are my ventures doing?")
    assert ws.deliveries[-1].payload["event"]["channel_type"] == "im"
    # A DM is a question: answered from the record, in a thread (the first answer imports litellm).
    replies = await ws.wait_for(lambda: bot_replies(ws, dm.id, asked.ts), timeout=20)
    assert len(replies) == 1 and "recorded" in replies[0].text.lower()
    posted = ws.calls_to("chat.postMessage")
    assert len(posted) == 1 and posted[0].params["channel"] == dm.id
