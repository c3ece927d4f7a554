"""Deliveries to an HTTP receiver: signing, slash commands, events with retries, interactivity, response_url."""

from __future__ import annotations

import aiohttp
import pytest


async def test_slash_command_is_signed_and_ack_body_is_shown(workspace, receiver):
    receiver.reply = lambda r: (200, {"text": "Working on *acme*"})
    result = await workspace.slash_command("U0ALICE", "general", "/lumen", "status acme")
    req = receiver.of_kind("slash")[0]
    assert req.signature_valid
    assert req.data["command"] == "/lumen" and req.data["text"] == "status acme"
    assert req.data["user_id"] == "U0ALICE" and req.data["channel_name"] == "general"
    assert req.data["response_url"].startswith(workspace.base_url + "/response/")
    assert result.status == 200 and result.json() == {"text": "Working on *acme*"}
    shown = workspace.ephemeral_messages("general", "U0ALICE")
    assert shown[0].text == "Working on *acme*"
    assert workspace.messages("general") == []  # ephemeral by default


async def test_in_channel_ack_and_failure_notice(workspace, receiver):
    receiver.reply = lambda r: (200, {"response_type": "in_channel", "text": "for everyone"})
    await workspace.slash_command("U0BOB", "general", "/lumen", "hi")
    assert [m.text for m in workspace.messages("general")] == ["/lumen hi", "for everyone"]

    receiver.reply = lambda r: (500, "boom")
    result = await workspace.slash_command("U0BOB", "general", "/lumen", "hi")
    assert result.status == 500 and len(receiver.of_kind("slash")) == 2  # never retried
    assert "dispatch_failed" in workspace.ephemeral_messages("general", "U0BOB")[-1].text


async def test_forged_signatures_are_rejected_by_verifier(workspace, receiver):
    workspace.forge_next_signature(secret="wrong-secret")
    await workspace.slash_command("U0ALICE", "general", "/lumen")
    workspace.forge_next_signature(timestamp_skew=-600)
    await workspace.slash_command("U0ALICE", "general", "/lumen")
    await workspace.slash_command("U0ALICE", "general", "/lumen")
    assert [r.signature_valid for r in receiver.requests] == [False, False, True]


async def test_app_mention_and_dm_events(workspace, receiver):
    await workspace.send_message("U0BOB", "general", "hey <@U0LUMENBOT> status?")
    await workspace.send_message("U0BOB", "general", "no mention here")
    dm_msg = await workspace.send_message("U0BOB", "U0BOB", "hello bot")
    events = [r.data for r in receiver.of_kind("event")]
    assert [e["event"]["type"] for e in events] == ["app_mention", "message"]
    mention, dm = events
    assert all(r.signature_valid for r in receiver.requests)
    assert mention["type"] == "event_callback" and mention["event_id"].startswith("Ev")
    assert mention["authorizations"][0]["user_id"] == "U0LUMENBOT"
    assert dm["event"]["channel_type"] == "im" and dm["event"]["channel"] == dm_msg.channel
    assert mention["event_id"] != dm["event_id"]


async def test_event_retries_on_slow_or_failing_receiver(workspace, receiver):
    workspace.ack_timeout = 0.3
    receiver.reply = lambda r: (200, "", 1.0) if r.retry_num is None else (500, "") if r.retry_num == 1 else (200, "")
    delivery = await workspace.open_home("U0CAROL")
    reqs = receiver.of_kind("event")
    assert [r.retry_num for r in reqs] == [None, 1, 2]
    assert [r.headers.get("X-Slack-Retry-Reason") for r in reqs] == [None, "http_timeout", "http_error"]
    assert len({r.data["event_id"] for r in reqs}) == 1
    assert delivery.ok and [a.error for a in delivery.attempts] == ["http_timeout", "http_error", None]
    assert reqs[0].data["event"]["type"] == "app_home_opened"

    receiver.requests.clear()
    receiver.reply = lambda r: (500, "")
    failed = await workspace.open_home("U0CAROL")
    assert [r.retry_num for r in receiver.requests] == [None, 1, 2, 3] and not failed.ok


async def test_duplicate_and_redelivery_keep_event_id(workspace, receiver):
    first = await workspace.deliver_event({"type": "app_mention", "user": "U0BOB", "text": "x", "channel": "C1", "ts": "1.1"}, duplicate=True)
    again = await workspace.redeliver(first.event_id)
    ids = [r.data["event_id"] for r in receiver.of_kind("event")]
    assert ids == [first.event_id] * 3 and again.ok


async def test_block_actions_payload_and_response_url(workspace, receiver, client):
    posted = await client.chat_postMessage(channel="general", text="Approve?", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Approve?"}},
        {"type": "actions", "block_id": "gate", "elements": [
            {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Yes"}, "value": "v1", "style": "primary"},
            {"type": "static_select", "action_id": "pick", "options": [
                {"text": {"type": "plain_text", "text": "A"}, "value": "a"}, {"text": {"type": "plain_text", "text": "B"}, "value": "b"}]},
        ]},
    ])
    await workspace.click("U0ALICE", "general", posted["ts"], "approve")
    await workspace.click("U0ALICE", "general", posted["ts"], "pick", value="b")
    click, pick = [r.data for r in receiver.of_kind("interactive")]
    assert click["type"] == "block_actions" and click["user"]["id"] == "U0ALICE"
    assert click["actions"][0] | {"action_ts": None} == {
        "action_id": "approve", "block_id": "gate", "type": "button", "value": "v1", "style": "primary",
        "text": {"type": "plain_text", "text": "Yes"}, "action_ts": None}
    assert click["message"]["ts"] == posted["ts"] and click["message"]["blocks"][1]["block_id"] == "gate"
    assert click["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": posted["channel"], "is_ephemeral": False}
    assert click["channel"]["name"] == "general" and click["trigger_id"] and click["api_app_id"] == "A0LUMEN"
    assert pick["actions"][0]["selected_option"]["value"] == "b"

    url = click["response_url"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"replace_original": True, "text": "Approved by alice"}) as r:
            assert r.status == 200
        assert workspace.find_message(posted["channel"], posted["ts"]).text == "Approved by alice"
        for _ in range(4):
            async with http.post(url, json={"text": "note", "replace_original": False}) as r:
                assert r.status == 200
        async with http.post(url, json={"text": "one too many"}) as r:
            assert r.status == 404 and (await r.json())["error"] == "used_url"
        workspace.response_urls.ttl = 0
        async with http.post(pick["response_url"], json={"text": "late"}) as r:
            assert r.status == 404 and (await r.json())["error"] == "expired_url"
    assert len(workspace.ephemeral_messages("general", "U0ALICE")) == 4


async def test_view_submission_errors_then_close(workspace, receiver, client):
    view = {"type": "modal", "callback_id": "new_venture", "title": {"type": "plain_text", "text": "New"},
            "submit": {"type": "plain_text", "text": "Go"}, "private_metadata": "meta", "notify_on_close": True,
            "blocks": [
                {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
                 "element": {"type": "plain_text_input", "action_id": "value"}},
                {"type": "input", "block_id": "kind", "label": {"type": "plain_text", "text": "Kind"},
                 "element": {"type": "static_select", "action_id": "pick", "options": [
                     {"text": {"type": "plain_text", "text": "Shop"}, "value": "shop"}]}},
            ]}
    opened = await client.views_open(trigger_id=workspace.triggers.issue("U0ALICE"), view=view)
    view_id = opened["view"]["id"]

    receiver.reply = lambda r: (200, {"response_action": "errors", "errors": {"name": "Too short"}})
    await workspace.submit_view("U0ALICE", view_id, {"name": "x", "kind": "shop"})
    sub = receiver.of_kind("interactive")[-1].data
    assert sub["type"] == "view_submission" and sub["view"]["callback_id"] == "new_venture"
    assert sub["view"]["private_metadata"] == "meta" and sub["view"]["hash"] == opened["view"]["hash"]
    assert sub["view"]["state"]["values"]["name"]["value"] == {"type": "plain_text_input", "value": "x"}
    assert sub["view"]["state"]["values"]["kind"]["pick"]["selected_option"]["value"] == "shop"
    assert workspace.current_modal("U0ALICE").errors == {"name": "Too short"}

    receiver.reply = lambda r: (200, "")
    await workspace.submit_view("U0ALICE", values={"name": {"value": "Acme"}})
    assert workspace.current_modal("U0ALICE") is None

    await client.views_open(trigger_id=workspace.triggers.issue("U0ALICE"), view=view)
    closed = await workspace.close_view("U0ALICE")
    assert closed.ok and receiver.of_kind("interactive")[-1].data["type"] == "view_closed"


async def test_assistant_thread_started_and_reply_in_thread(workspace, receiver):
    thread = await workspace.open_assistant_thread("U0DAN", context_channel="general")
    started = receiver.of_kind("event")[-1].data["event"]
    assert started["type"] == "assistant_thread_started"
    assert started["assistant_thread"]["thread_ts"] == thread.thread_ts
    assert started["assistant_thread"]["context"]["channel_id"] == workspace.channel_by_name("general").id
    await workspace.send_message("U0DAN", thread.channel_id, "what's up?", thread_ts=thread.thread_ts)
    msg = receiver.of_kind("event")[-1].data["event"]
    assert msg["type"] == "message" and msg["channel_type"] == "im" and msg["thread_ts"] == thread.thread_ts


async def test_wait_for_sees_bot_reply(workspace, client):
    import asyncio

    async def reply_later():
        await asyncio.sleep(0.1)
        await client.chat_postMessage(channel="general", text="done!")

    task = asyncio.create_task(reply_later())
    msg = await workspace.wait_for(lambda: next((m for m in workspace.messages("general") if m.text == "done!"), None), timeout=2)
    assert msg.bot_id == "B0LUMEN"
    await task
    with pytest.raises(TimeoutError):
        await workspace.wait_for(lambda: False, timeout=0.1)


async def test_bolt_app_over_http():
    """Bolt's own signature check and ack handling accept devslack's HTTP deliveries."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from devslack import Workspace, start

    ws = Workspace.demo(retry_delays=(0.05,))
    ws_runner, _ = await start(ws)
    app = AsyncApp(signing_secret=ws.signing_secret, client=AsyncWebClient(token=ws.bot_token, base_url=ws.base_url + "/api/"))

    @app.command("/lumen")
    async def on_command(ack, command):
        await ack(text=f"ok: {command['text']}")

    @app.event("message")
    async def on_dm(event, say):
        await say(text=f"echo {event['text']}")

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ws.request_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"
    try:
        result = await ws.slash_command("U0BOB", "general", "/lumen", "status acme")
        assert result.status == 200 and ws.ephemeral_messages("general", "U0BOB")[-1].text == "ok: status acme"
        dm = await ws.send_message("U0BOB", "U0BOB", "hello")
        reply = await ws.wait_for(lambda: [m for m in ws.messages(dm.channel) if m.bot_id])
        assert reply[0].text == "echo hello"

        ws.forge_next_signature(secret="wrong")
        forged = await ws.slash_command("U0BOB", "general", "/lumen", "x")
        assert forged.status == 401
    finally:
        await runner.cleanup()
        await ws_runner.cleanup()


async def test_channel_message_subscription_and_no_app_fast_path(workspace, receiver):
    workspace.event_subscriptions.add("message.channels")
    await workspace.send_message("U0CAROL", "general", "hi @lumen".replace("@lumen", "<@U0LUMENBOT>"), wait=False)
    await workspace.settle()
    assert sorted(r.data["event"]["type"] for r in receiver.of_kind("event")) == ["app_mention", "message"]
    assert all(r.data["event"].get("channel_type", "channel") == "channel" for r in receiver.of_kind("event"))

    workspace.request_url = None  # nobody listening: one attempt, no retry delays
    delivery = await workspace.open_home("U0CAROL")
    assert not delivery.ok and len(delivery.attempts) == 1 and delivery.error == "connection_failed"
