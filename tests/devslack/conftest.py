"""Fixtures for devslack tests: a running workspace on an ephemeral port, a signature-checking
receiver standing in for the app, and a slack_sdk client pointed at the workspace."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from devslack import Workspace, start


@dataclass
class Received:
    kind: str  # "event" | "slash" | "interactive"
    headers: dict[str, str]
    raw: str
    data: dict[str, Any]  # JSON event envelope, slash form, or decoded interaction payload
    signature_valid: bool
    at: float = field(default_factory=time.monotonic)

    @property
    def retry_num(self) -> int | None:
        value = self.headers.get("X-Slack-Retry-Num")
        return int(value) if value is not None else None


Reply = Callable[[Received], Any]  # returns (status, body) or (status, body, delay) or None


class Receiver:
    """A tiny aiohttp 'app': verifies signatures like Bolt, records requests, answers via ``reply``."""

    def __init__(self, secret: str = "dev-signing-secret") -> None:
        self.verifier = SignatureVerifier(secret)
        self.requests: list[Received] = []
        self.reply: Reply = lambda r: None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        headers = {k: v for k, v in request.headers.items()}
        valid = self.verifier.is_valid_request(raw, headers)
        if request.content_type == "application/json":
            kind, data = "event", json.loads(raw)
        else:
            form = dict(parse_qsl(raw))
            kind, data = ("interactive", json.loads(form["payload"])) if "payload" in form else ("slash", form)
        rec = Received(kind, headers, raw, data, valid)
        self.requests.append(rec)
        answer = self.reply(rec) or (200, "")
        status, body, *delay = answer
        if delay:
            await asyncio.sleep(delay[0])
        if isinstance(body, (dict, list)):
            return web.json_response(body, status=status)
        return web.Response(status=status, text=body)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/slack/events"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def of_kind(self, kind: str) -> list[Received]:
        return [r for r in self.requests if r.kind == kind]

    async def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 5.0) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.requests:
                if predicate(r):
                    return r
            await asyncio.sleep(0.02)
        raise TimeoutError("receiver: no matching request")


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def workspace(receiver):
    ws = Workspace.demo(request_url=receiver.url, retry_delays=(0.05, 0.05, 0.05))
    runner, _ = await start(ws)
    yield ws
    await runner.cleanup()


@pytest.fixture
async def client(workspace):
    return AsyncWebClient(token=workspace.bot_token, base_url=workspace.base_url + "/api/")
