"""The workspace's faults: slow, failing, rate limiting by window, refusing connections."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


async def test_a_slow_workspace_posts_first_and_answers_late(workspace, client):
    workspace.slow(0.5)
    hasty = AsyncWebClient(token=workspace.bot_token, base_url=workspace.base_url + "/api/", timeout=0.1, retry_handlers=[])
    with pytest.raises(asyncio.TimeoutError):
        await hasty.chat_postMessage(channel="general", text="posted though nobody waited")
    # The caller gave up; the message is there all the same.
    assert [m.text for m in workspace.messages("general")] == ["posted though nobody waited"]
    workspace.slow(0)
    assert (await client.auth_test())["ok"]


async def test_one_method_fails_while_the_others_work(workspace, client):
    workspace.fail("assistant.threads.setStatus", "missing_scope")
    workspace.fail("chat.update", "internal_error", status=500, times=1)
    with pytest.raises(SlackApiError) as e:
        await client.assistant_threads_setStatus(channel_id="D1", thread_ts="1.0", status="thinking")
    assert e.value.response["error"] == "missing_scope"
    posted = await client.chat_postMessage(channel="general", text="fine")
    with pytest.raises(SlackApiError) as e:
        await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="first try")
    assert e.value.response.status_code == 500
    assert (await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="second try"))["ok"]
    workspace.fail("assistant.threads.setStatus", None)
    assert [c.status for c in workspace.calls_to("chat.update")] == [500, 200]


async def test_a_rate_limit_window_lets_so_many_calls_through_and_says_how_long_to_wait(workspace, client):
    workspace.rate_limit_window("chat.postMessage", calls=2, per=30)
    for text in ("one", "two"):
        await client.chat_postMessage(channel="general", text=text)
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="general", text="three")
    assert e.value.response.status_code == 429
    assert 1 <= int(e.value.response.headers["Retry-After"]) <= 30
    assert (await client.chat_getPermalink(channel="general", message_ts=workspace.messages("general")[0].ts))["ok"]
    workspace.rate_limit_window("chat.postMessage", calls=0)
    assert (await client.chat_postMessage(channel="general", text="three"))["ok"]


async def test_refused_connections_reach_nothing_until_the_workspace_listens_again(workspace, client):
    assert (await client.auth_test())["ok"]  # a pooled connection exists now
    await workspace.refuse_connections(True)
    bare = AsyncWebClient(token=workspace.bot_token, base_url=workspace.base_url + "/api/", retry_handlers=[])
    with pytest.raises(aiohttp.ClientConnectionError):
        await bare.auth_test()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.post(f"{workspace.base_url}/response/anything", json={"text": "x"})
    await workspace.refuse_connections(False)
    assert (await bare.auth_test())["ok"]
    assert (await client.auth_test())["ok"]


async def test_an_outage_can_answer_500_and_cover_response_urls(workspace, client):
    workspace.outage(True, status=500)
    with pytest.raises(SlackApiError) as e:
        await client.auth_test()
    assert e.value.response.status_code == 500
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{workspace.base_url}/response/anything", json={"text": "x"}) as response:
            assert response.status == 404  # the Web API is down; response_urls answer as usual
        workspace.outage(True, status=500, response_urls=True)
        async with http.post(f"{workspace.base_url}/response/anything", json={"text": "x"}) as response:
            assert response.status == 500
    workspace.outage(False)
    assert (await client.auth_test())["ok"]
