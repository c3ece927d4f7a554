"""A command Lumen cannot even record (its database is unreachable) is refused, not acked:
Slack then tells the person it failed, instead of Lumen answering 200 and dropping it."""

from __future__ import annotations

from lumen.devmode import DevStack
from tests.slack.support import response_url_payloads
from tests.slack.test_http_endpoints import take_database_away


async def test_a_command_that_cannot_be_recorded_is_not_answered_200(stack: DevStack) -> None:
    ws = stack.workspace
    first = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "help")
    assert first.status == 200
    await ws.wait_for(lambda: response_url_payloads(ws, first), timeout=10)

    await take_database_away(stack)
    refused = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "status")
    assert refused.status == 500 and refused.body == ""
