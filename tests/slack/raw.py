"""Requests to Slack's endpoint as raw bytes, signed (or not) like Slack signs them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from devslack.signing import signature
from lumen.devmode import DevStack

FORM = "application/x-www-form-urlencoded"


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


async def post(
    stack: DevStack,
    body: bytes | str,
    *,
    content_type: str = FORM,
    sign: bool = True,
    timestamp: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    raw = body.encode() if isinstance(body, str) else body
    sent = {"Content-Type": content_type}
    if sign:
        ts = timestamp if timestamp is not None else str(int(time.time()))
        sent |= {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(stack.workspace.signing_secret, ts, raw)}
    sent |= headers or {}
    async with aiohttp.ClientSession() as http, http.post(f"{stack.app_url}/slack/events", data=raw, headers=sent) as resp:
        return Answer(resp.status, await resp.text())


def command_form(stack: DevStack, text: str, *, user: str = "U0ALICE", channel: str = "venture-acme") -> str:
    """A `/lumen` form as Slack sends it, with a fresh trigger and response_url."""
    from devslack.payloads import slash_command

    ws = stack.workspace
    u, ch = ws._user(user), ws._channel(channel)
    ru = ws.response_urls.issue(u.id, ch.id)
    return urlencode(slash_command(ws, u, ch, "/lumen", text, ws.triggers.issue(u.id), ws.response_url_for(ru.token)))


def interaction_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})
