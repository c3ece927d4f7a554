"""Faults a test turns on: Slack slow, failing, rate limiting, or not there at all.

Slowness and refused connections apply to the Web API and to response_urls alike, as a
Slack incident would; an outage covers response_urls when asked to. A slow
Slack does the work first and answers late (the message is posted even if the caller gave
up waiting), which is the case that tempts a client into sending twice.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class _MethodFault:
    error: str
    status: int
    times: int | None  # None: until cleared


@dataclass
class _Window:
    """Slack's per-method tiers: at most `calls` in each `per`-second window."""

    calls: int
    per: float
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> int | None:
        if now - self.started >= self.per:
            self.started, self.used = now, 0
        if self.used < self.calls:
            self.used += 1
            return None
        return max(1, math.ceil(self.started + self.per - now))


@dataclass
class Faults:
    delay: float = 0.0
    status: int | None = None  # every call answers this HTTP status
    response_urls_down: bool = False  # and so does every response_url
    methods: dict[str, _MethodFault] = field(default_factory=dict)
    windows: dict[str, _Window] = field(default_factory=dict)

    def method_fault(self, method: str) -> _MethodFault | None:
        fault = self.methods.get(method) or self.methods.get("*")
        if fault is None:
            return None
        if fault.times is not None:
            if fault.times <= 0:
                return None
            fault.times -= 1
        return fault

    def window_retry_after(self, method: str) -> int | None:
        window = self.windows.get(method)
        return window.take(time.monotonic()) if window is not None else None

    async def late(self) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)


class Listener:
    """The workspace's listening socket, which a test can close and open again on the same port."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, site: web.TCPSite) -> None:
        self.runner, self.host, self.port, self.site = runner, host, port, site

    @property
    def open(self) -> bool:
        return self.site is not None

    async def refuse(self) -> None:
        """Stop listening and drop every open connection: new ones are refused, pooled ones fail."""
        if self.site is None:
            return
        await self.site.stop()
        self.site = None
        server = self.runner.server
        for handler in server.connections if server is not None else []:
            handler.force_close()

    async def accept(self) -> None:
        if self.site is not None:
            return
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.site = site
