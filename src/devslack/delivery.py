"""Delivering slash commands, events and interactions to the app — over HTTP or Socket Mode.

Mirrors Slack's rules: 3 s ack deadline, events retried up to 3 times with
X-Slack-Retry-Num / X-Slack-Retry-Reason and the same event_id; commands and
interactions are never retried.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp

from .signing import signature_headers

if TYPE_CHECKING:
    from .workspace import Workspace

SLASH, EVENTS, INTERACTIVE = "slash_commands", "events_api", "interactive"


@dataclass
class Attempt:
    retry_num: int
    status: int | None  # HTTP status (socket mode: 200 once acked); None if no answer
    body: str
    error: str | None  # Slack's retry reason: http_timeout, connection_failed, http_error
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delivery:
    """One payload sent to the app, with every attempt made. ``status``/``body`` are the final answer."""

    kind: str
    payload: dict
    transport: str = "none"  # http | socket | none
    event_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    @property
    def body(self) -> str:
        return self.attempts[-1].body if self.attempts else ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        return self.attempts[-1].error if self.attempts else "not_delivered"

    def json(self) -> Any:
        """The ack body parsed as JSON; None when empty or plain text."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None


class Deliverer:
    def __init__(self, workspace: "Workspace") -> None:
        self.ws = workspace
        self.history: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def deliver(self, kind: str, payload: dict, *, event_id: str | None = None, retry: bool | None = None) -> Delivery:
        delivery = Delivery(kind=kind, payload=payload, event_id=event_id)
        self.history.append(delivery)
        retry = (kind == EVENTS) if retry is None else retry
        if not self.ws.socket_hub.connected and not self.ws.request_url:
            retry = False  # no app attached (page-only demo): nothing to retry against
        delays = list(self.ws.retry_delays) if retry else []
        reason = None
        for retry_num in range(len(delays) + 1):
            if retry_num:
                await asyncio.sleep(delays[retry_num - 1])
            attempt = await self._attempt(delivery, retry_num, reason)
            delivery.attempts.append(attempt)
            if delivery.ok or attempt.headers.get("x-slack-no-retry") == "1":
                break
            reason = attempt.error or "http_error"
        return delivery

    async def _attempt(self, delivery: Delivery, retry_num: int, reason: str | None) -> Attempt:
        hub = self.ws.socket_hub
        if hub.connected:
            delivery.transport = "socket"
            return await hub.send(delivery.kind, delivery.payload, retry_num, reason, self.ws.ack_timeout)
        if self.ws.request_url:
            delivery.transport = "http"
            return await self._post(delivery, retry_num, reason)
        return Attempt(retry_num, None, "", "connection_failed", 0.0)

    async def _post(self, delivery: Delivery, retry_num: int, reason: str | None) -> Attempt:
        if delivery.kind == EVENTS:
            body, ctype = json.dumps(delivery.payload), "application/json"
        elif delivery.kind == INTERACTIVE:
            body, ctype = urlencode({"payload": json.dumps(delivery.payload)}), "application/x-www-form-urlencoded"
        else:
            body, ctype = urlencode(delivery.payload), "application/x-www-form-urlencoded"
        headers = {"Content-Type": ctype, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        headers.update(self._signature(body))
        if retry_num:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason or "http_error"})
        started = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=self.ws.ack_timeout)
            async with self._http().post(self.ws.request_url, data=body.encode(), headers=headers, timeout=timeout) as resp:
                text = await resp.text()
                error = None if 200 <= resp.status < 300 else "http_error"
                hdrs = {k.lower(): v for k, v in resp.headers.items()}
                return Attempt(retry_num, resp.status, text, error, time.monotonic() - started, hdrs)
        except asyncio.TimeoutError:
            return Attempt(retry_num, None, "", "http_timeout", time.monotonic() - started)
        except aiohttp.ClientError:
            return Attempt(retry_num, None, "", "connection_failed", time.monotonic() - started)

    def _signature(self, body: str) -> dict[str, str]:
        secret, skew = self.ws.signing_secret, 0
        forgery = self.ws._forgery
        if forgery is not None and forgery.times > 0:
            secret, skew = forgery.secret or secret, forgery.timestamp_skew
            forgery.times -= 1
        return signature_headers(secret, body, int(time.time()) + skew)
