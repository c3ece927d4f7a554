"""Socket Mode with slack_sdk's aiohttp SocketModeClient, and a Bolt AsyncApp end to end."""

from __future__ import annotations


import pytest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from devslack import Workspace, start


@pytest.fixture
async def socket_workspace():
    ws = Workspace.demo(socket_mode=True, retry_delays=(0.05, 0.05, 0.05))
    runner, _ = await start(ws)
    yield ws
    await runner.cleanup()


async def test_sdk_socket_mode_client_receives_and_acks(socket_workspace):
    ws = socket_workspace
    client = SocketModeClient(app_token=ws.app_token, web_client=AsyncWebClient(base_url=ws.base_url + "/api/"), ping_interval=1)
    seen: list[SocketModeRequest] = []

    async def listener(c: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        payload = {"text": f"pong: {req.payload.get('text')}"} if req.type == "slash_commands" else None
        await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))

    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        await ws.wait_for(lambda: ws.socket_hub.connected, timeout=3)
        result = await ws.slash_command("U0ALICE", "general", "/lumen", "status acme")
        assert result.transport == "socket" and result.status == 200
        assert result.json() == {"text": "pong: status acme"}
        assert ws.ephemeral_messages("general", "U0ALICE")[-1].text == "pong: status acme"
        assert seen[0].type == "slash_commands" and seen[0].accepts_response_payload
        assert seen[0].payload["command"] == "/lumen"

        delivered = await ws.send_message("U0BOB", "general", "hi <@U0LUMENBOT>")
        assert delivered.text.startswith("hi")
        assert seen[-1].type == "events_api" and seen[-1].retry_attempt == 0
        assert seen[-1].payload["event"]["type"] == "app_mention"

        # Slack asks clients to reconnect now and then; the SDK fetches a new URL and carries on.
        opened_before = len(ws.calls_to("apps.connections.open"))
        await ws.socket_disconnect()
        await ws.wait_for(lambda: len(ws.calls_to("apps.connections.open")) > opened_before and ws.socket_hub.connected, timeout=5)
        again = await ws.slash_command("U0ALICE", "general", "/lumen", "again")
        assert again.json() == {"text": "pong: again"}
    finally:
        await client.close()


async def test_socket_event_retried_when_not_acked(socket_workspace):
    ws = socket_workspace
    ws.ack_timeout = 0.2
    client = SocketModeClient(app_token=ws.app_token, web_client=AsyncWebClient(base_url=ws.base_url + "/api/"))
    seen: list[SocketModeRequest] = []

    async def listener(c: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        if req.retry_attempt:  # ignore the first try, ack the retry
            await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        await ws.wait_for(lambda: ws.socket_hub.connected, timeout=3)
        delivery = await ws.open_home("U0BOB")
        assert delivery.ok and [(r.retry_attempt, r.retry_reason) for r in seen] == [(0, ""), (1, "timeout")]
        assert seen[0].payload["event_id"] == seen[1].payload["event_id"]
    finally:
        await client.close()


async def test_bolt_app_over_socket_mode(socket_workspace):
    """The real thing: a Bolt AsyncApp cannot tell devslack from Slack."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp

    ws = socket_workspace
    app = AsyncApp(client=AsyncWebClient(token=ws.bot_token, base_url=ws.base_url + "/api/"))

    @app.command("/lumen")
    async def on_command(ack, command, client):
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view={
            "type": "modal", "callback_id": "ask", "title": {"type": "plain_text", "text": "Ask"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [{"type": "input", "block_id": "q", "label": {"type": "plain_text", "text": "Question"},
                        "element": {"type": "plain_text_input", "action_id": "v"}}]})

    @app.view("ask")
    async def on_submit(ack, view, body, client):
        await ack()
        await client.chat_postMessage(channel="general", text=f"Q: {view['state']['values']['q']['v']['value']}", blocks=[
            {"type": "actions", "elements": [{"type": "button", "action_id": "ok", "text": {"type": "plain_text", "text": "OK"}}]}])

    @app.action("ok")
    async def on_ok(ack, respond):
        await ack()
        await respond(text="Thanks!", replace_original=True)

    @app.event("app_mention")
    async def on_mention(event, say):
        await say(text=f"hi <@{event['user']}>", thread_ts=event["ts"])

    handler = AsyncSocketModeHandler(app, ws.app_token)
    handler.client.web_client = AsyncWebClient(base_url=ws.base_url + "/api/")
    await handler.connect_async()
    try:
        await ws.wait_for(lambda: ws.socket_hub.connected, timeout=3)
        await ws.slash_command("U0ALICE", "general", "/lumen")
        modal = await ws.wait_for(lambda: ws.current_modal("U0ALICE"))
        await ws.submit_view("U0ALICE", modal.id, {"q": "why?"})
        posted = await ws.wait_for(lambda: next((m for m in ws.messages("general") if m.text == "Q: why?"), None))
        await ws.click("U0ALICE", "general", posted.ts, "ok")
        await ws.wait_for(lambda: posted.text == "Thanks!")

        mention = await ws.send_message("U0BOB", "general", "hello <@U0LUMENBOT>")
        reply = await ws.wait_for(lambda: [m for m in ws.thread(mention.channel, mention.ts) if m.bot_id])
        assert reply[0].text == "hi <@U0BOB>"
    finally:
        await handler.close_async()
