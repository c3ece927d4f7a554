"""HTTP mode verifies every request: forged or stale signatures get 401 and run nothing."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select

from lumen.db.models import SlackEventReceipt
from lumen.devmode import DevStack
from tests.slack.support import all_response_url_payloads

SIDE_EFFECTS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish", "views.open")


async def receipts(stack: DevStack) -> int:
    async with stack.container.db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(SlackEventReceipt))).scalar_one()


def from_the_app(stack: DevStack) -> list:
    ws = stack.workspace
    return [m for m in ws.ephemeral_messages("venture-acme", "U0ALICE") if m.user == ws.bot.id]


def side_effect_calls(stack: DevStack) -> list[str]:
    return [c.method for c in stack.workspace.calls if c.method in SIDE_EFFECTS]


async def test_forged_and_stale_slash_commands_are_rejected(stack: DevStack) -> None:
    ws = stack.workspace
    ws.forge_next_signature(secret="not-the-signing-secret")
    forged = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "status")
    ws.forge_next_signature(timestamp_skew=-(5 * 60 + 30))
    stale = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "status")
    assert forged.status == 401 and stale.status == 401
    assert ws.deliveries[-1].transport == "http"

    # A valid command afterwards is answered; it was queued after the rejected ones, so by the
    # time its answer is shown anything the forged ones had started would have shown too.
    # (`status all`, loaded for the first time: answered on the response_url after the ack.)
    valid = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "status all")
    assert (valid.status, valid.body) == (200, "")
    from_app = await ws.wait_for(lambda: from_the_app(stack), timeout=5)
    assert len(all_response_url_payloads(ws)) == 1
    assert len(from_app) == 1 and from_app[0].text.startswith("Lumen status")
    # What Slack shows the user for the rejected two: its own failure notice, not an answer.
    notices = [m for m in ws.ephemeral_messages("venture-acme", "U0ALICE") if m.user == "USLACKBOT"]
    assert [("dispatch_failed" in m.text) for m in notices] == [True, True]
    assert side_effect_calls(stack) == []


async def test_forged_and_stale_events_are_rejected_before_dedupe(stack: DevStack) -> None:
    ws = stack.workspace
    mention = f"<@{ws.bot.id}> are you there?"
    # Events are retried (3 times): forge every attempt.
    ws.forge_next_signature(secret="not-the-signing-secret", times=4)
    await ws.send_message("U0ALICE", "venture-acme", mention)
    forged = ws.deliveries[-1]
    ws.forge_next_signature(timestamp_skew=600, times=4)
    await ws.send_message("U0ALICE", "venture-acme", mention)
    stale = ws.deliveries[-1]
    for delivery in (forged, stale):
        assert delivery.kind == "events_api"
        assert [a.status for a in delivery.attempts] == [401, 401, 401, 401]
    assert await receipts(stack) == 0
    assert side_effect_calls(stack) == []
    assert all(m.user != ws.bot.id for m in ws.messages("venture-acme"))


async def test_request_without_signature_headers_is_rejected(stack: DevStack) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "EvUNSIGNED",
            "team_id": "T0DEV",
            "event": {"type": "app_mention", "user": "U0ALICE", "text": "<@U0LUMENBOT> hi",
                      "channel": "C0NOPE", "ts": "1.000100"},
        }
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.app_url}/slack/events", data=body, headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 401
        form = "command=%2Flumen&text=status&user_id=U0ALICE&response_url=http%3A%2F%2F127.0.0.1%3A9%2F"
        async with http.post(
            f"{stack.app_url}/slack/events",
            data=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": "1",
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        ) as resp:
            assert resp.status == 401
    assert await receipts(stack) == 0
    assert side_effect_calls(stack) == []
