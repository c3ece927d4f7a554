"""/readyz: not ready while Slack cannot be reached or refuses the token, and it says which."""

from __future__ import annotations

import aiohttp
import pytest

from lumen.devmode import DevStack
from lumen.slack import identity


async def readyz(stack: DevStack) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.app_url}/readyz") as resp:
        return resp.status, await resp.json()


async def test_readyz_follows_slack_reachable_unreachable_and_refusing_the_token(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity, "FRESH_S", 0.0)  # ask Slack on every probe
    ws = stack.workspace
    assert await readyz(stack) == (200, {"ok": True, "database": "reachable", "slack": "reachable"})

    await ws.refuse_connections(True)
    status, body = await readyz(stack)
    assert status == 503 and body["ok"] is False and body["database"] == "reachable"
    assert body["slack"].startswith("unreachable: ") and "Connect" in body["slack"], body

    await ws.refuse_connections(False)
    ws.outage(True, status=500)
    status, body = await readyz(stack)
    assert (status, body["slack"]) == (503, "unreachable: HTTP 500 internal_error")
    ws.outage(False)
    assert (await readyz(stack))[0] == 200

    ws.bot_token = "xoxb-rotated-by-an-admin"  # the token Lumen holds is no longer the bot's
    status, body = await readyz(stack)
    assert (status, body["slack"]) == (503, "token rejected: invalid_auth")
