"""Web API through slack_sdk's AsyncWebClient: shapes, errors, limits, rate limiting, outage."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient


async def test_auth_test_and_token_errors(workspace, client):
    resp = await client.auth_test()
    assert resp["user_id"] == "U0LUMENBOT" and resp["bot_id"] == "B0LUMEN" and resp["team_id"] == "T0DEV"

    bad = AsyncWebClient(token="xoxb-wrong", base_url=workspace.base_url + "/api/")
    with pytest.raises(SlackApiError) as e:
        await bad.auth_test()
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:
        await AsyncWebClient(base_url=workspace.base_url + "/api/").auth_test()
    assert e.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as e:
        await client.api_call("nope.nothing")
    assert e.value.response["error"] == "unknown_method"
    assert e.value.response.status_code == 200


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_update_delete_and_history(workspace, client):
    general = workspace.channel_by_name("general")
    r1 = await client.chat_postMessage(channel="#general", text="hello")
    assert r1["channel"] == general.id and r1["message"]["bot_id"] == "B0LUMEN"
    r2 = await client.chat_postMessage(channel=general.id, text="second", blocks=[{"type": "divider"}])
    assert float(r2["ts"]) > float(r1["ts"])
    reply = await client.chat_postMessage(channel=general.id, text="in thread", thread_ts=r1["ts"])

    upd = await client.chat_update(channel=general.id, ts=r1["ts"], text="hello, edited")
    assert upd["message"]["text"] == "hello, edited" and "edited" in upd["message"]

    hist = await client.conversations_history(channel=general.id)
    assert [m["ts"] for m in hist["messages"]] == [r2["ts"], r1["ts"]]  # newest first, no replies
    assert hist["messages"][1]["reply_count"] == 1
    replies = await client.conversations_replies(channel=general.id, ts=r1["ts"])
    assert [m["ts"] for m in replies["messages"]] == [r1["ts"], reply["ts"]]

    link = await client.chat_getPermalink(channel=general.id, message_ts=r1["ts"])
    assert link["permalink"].startswith(workspace.base_url + "/archives/")

    await client.chat_delete(channel=general.id, ts=r2["ts"])
    assert [m.ts for m in workspace.messages("general", include_replies=False)] == [r1["ts"]]

    for call, error in [
        (client.chat_update(channel=general.id, ts="1.000001", text="x"), "message_not_found"),
        (client.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found"),
        (client.chat_postMessage(channel=general.id), "no_text"),
        (client.chat_postMessage(channel=general.id, blocks=[{"type": "divider"}] * 51), "invalid_blocks"),
    ]:
        with pytest.raises(SlackApiError) as e:
            await call
        assert e.value.response["error"] == error
    assert [c.method for c in workspace.calls].count("chat.postMessage") == 6


async def test_user_messages_cannot_be_updated_and_private_channels(workspace, client):
    msg = await workspace.send_message("U0BOB", "general", "mine")
    with pytest.raises(SlackApiError) as e:
        await client.chat_update(channel=msg.channel, ts=msg.ts, text="hijack")
    assert e.value.response["error"] == "cant_update_message"

    secret = workspace.ensure_channel("secret", members=["U0ALICE"], is_private=True, with_bot=False)
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel=secret.id, text="hi")
    assert e.value.response["error"] == "not_in_channel"
    listed = await client.conversations_list(types="public_channel,private_channel")
    assert "secret" not in [c["name"] for c in listed["channels"]]

    small = workspace.ensure_channel("small", members=["U0ALICE"])
    with pytest.raises(SlackApiError) as e:
        await client.chat_postEphemeral(channel=small.id, user="U0BOB", text="psst")
    assert e.value.response["error"] == "user_not_in_channel"
    eph = await client.chat_postEphemeral(channel=small.id, user="U0ALICE", text="psst")
    assert workspace.ephemeral_messages("small", "U0ALICE")[0].ts == eph["message_ts"]
    assert workspace.messages("small") == []


async def test_dm_by_user_id_and_directory(workspace, client):
    posted = await client.chat_postMessage(channel="U0CAROL", text="hi carol")
    opened = await client.conversations_open(users="U0CAROL")
    assert posted["channel"] == opened["channel"]["id"] and posted["channel"].startswith("D")

    assert (await client.users_info(user="U0ALICE"))["user"]["name"] == "alice"
    assert (await client.users_lookupByEmail(email="bob@example.com"))["user"]["id"] == "U0BOB"
    assert len((await client.users_list())["members"]) == 5
    groups = await client.usergroups_list(include_users=True)
    assert groups["usergroups"][0]["users"] == ["U0ALICE"]
    assert (await client.usergroups_users_list(usergroup="S0LEADS"))["users"] == ["U0ALICE"]
    assert (await client.team_info())["team"]["id"] == "T0DEV"
    assert (await client.bots_info(bot="B0LUMEN"))["bot"]["user_id"] == "U0LUMENBOT"
    info = await client.conversations_info(channel=workspace.channel_by_name("general").id)
    assert info["channel"]["is_member"] is True
    members = await client.conversations_members(channel="general")
    assert "U0BOB" in members["members"]
    with pytest.raises(SlackApiError) as e:
        await client.users_info(user="U0NOBODY")
    assert e.value.response["error"] == "user_not_found"


async def test_form_encoded_token_param_and_get(workspace):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{workspace.base_url}/api/chat.postMessage",
                             data={"token": "xoxb-dev-token", "channel": "general", "text": "form",
                                   "blocks": '[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]'}) as r:
            body = await r.json()
        assert body["ok"] and body["message"]["blocks"][0]["type"] == "section"
        async with http.get(f"{workspace.base_url}/api/conversations.history",
                            params={"channel": body["channel"]}, headers={"Authorization": "Bearer xoxb-dev-token"}) as r:
            assert (await r.json())["messages"][0]["text"] == "form"


async def test_rate_limit_429_then_sdk_retry_handler_succeeds(workspace, client):
    workspace.rate_limit("chat.postMessage", times=1, retry_after=0)
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="general", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "0"
    assert e.value.response["error"] == "ratelimited"

    workspace.rate_limit("chat.postMessage", times=1, retry_after=0)
    retrying = AsyncWebClient(token=workspace.bot_token, base_url=workspace.base_url + "/api/",
                              retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    resp = await retrying.chat_postMessage(channel="general", text="eventually")
    assert resp["ok"]
    assert [c.status for c in workspace.calls_to("chat.postMessage")] == [429, 429, 200]


async def test_outage_returns_503(workspace, client):
    workspace.outage(True)
    with pytest.raises(SlackApiError) as e:
        await client.auth_test()
    assert e.value.response.status_code == 503
    workspace.outage(False)
    assert (await client.auth_test())["ok"]


async def test_trigger_id_single_use_and_expiry(workspace, client, receiver):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    result = await workspace.slash_command("U0ALICE", "general", "/lumen", "new")
    trigger = receiver.of_kind("slash")[-1].data["trigger_id"]
    assert result.status == 200
    opened = await client.views_open(trigger_id=trigger, view=modal)
    assert opened["view"]["id"].startswith("V") and workspace.current_modal("U0ALICE").id == opened["view"]["id"]
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id=trigger, view=modal)
    assert e.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id="123.456.abc", view=modal)
    assert e.value.response["error"] == "invalid_trigger_id"

    workspace.triggers.ttl = 0.05
    stale = workspace.triggers.issue("U0ALICE")
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id=stale, view=modal)
    assert e.value.response["error"] == "expired_trigger_id"


async def test_views_update_push_publish(workspace, client):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "One"}, "blocks": [], "external_id": "ext-1"}
    v = (await client.views_open(trigger_id=workspace.triggers.issue("U0BOB"), view=modal))["view"]
    with pytest.raises(SlackApiError) as e:
        await client.views_update(view_id=v["id"], hash="stale", view=modal)
    assert e.value.response["error"] == "hash_conflict"
    updated = await client.views_update(external_id="ext-1", hash=v["hash"], view={**modal, "title": {"type": "plain_text", "text": "Two"}})
    assert updated["view"]["title"]["text"] == "Two"
    pushed = await client.views_push(trigger_id=workspace.triggers.issue("U0BOB"), view=modal)
    assert pushed["view"]["root_view_id"] == v["id"] and len(workspace.modal_stacks["U0BOB"]) == 2

    home = await client.views_publish(user_id="U0BOB", view={"type": "home", "blocks": [{"type": "divider"}]})
    assert home["view"]["type"] == "home" and workspace.home_views["U0BOB"].id == home["view"]["id"]


async def test_assistant_methods_are_recorded(workspace, client):
    thread = await workspace.open_assistant_thread("U0DAN")
    await client.assistant_threads_setStatus(channel_id=thread.channel_id, thread_ts=thread.thread_ts, status="is thinking...")
    await client.assistant_threads_setTitle(channel_id=thread.channel_id, thread_ts=thread.thread_ts, title="Plans")
    await client.assistant_threads_setSuggestedPrompts(channel_id=thread.channel_id, thread_ts=thread.thread_ts,
                                                       prompts=[{"title": "Status", "message": "status acme"}])
    assert (thread.status, thread.title, thread.prompts[0]["title"]) == ("is thinking...", "Plans", "Status")


async def test_app_token_only_for_connections_open(workspace, client):
    app_client = AsyncWebClient(token=workspace.app_token, base_url=workspace.base_url + "/api/")
    url = (await app_client.apps_connections_open(app_token=workspace.app_token))["url"]
    assert url.startswith("ws://127.0.0.1:") and "/socket-mode?ticket=" in url
    with pytest.raises(SlackApiError) as e:
        await client.apps_connections_open(app_token=workspace.bot_token)
    assert e.value.response["error"] == "not_allowed_token_type"
