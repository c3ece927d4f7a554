"""A load balancer in front of several replicas, as Slack sees a production deployment.

Requests go round-robin to the replicas in rotation. A replica that cannot be reached (it
was killed) leaves the rotation and the request is answered 502, as a real balancer does
for a POST it cannot safely send twice; Slack then retries an event, and a person clicks
again. `add` puts a (restarted) replica back.
"""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
SERVED_BY = "x-served-by"


class Balancer:
    def __init__(self) -> None:
        self.backends: list[str] = []
        self.url = ""
        self.failed = 0
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    def add(self, base_url: str) -> None:
        if base_url not in self.backends:
            self.backends.append(base_url)

    def remove(self, base_url: str) -> None:
        if base_url in self.backends:
            self.backends.remove(base_url)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if not self.backends:
            self.failed += 1
            return web.Response(status=503, text="no replica")
        backend = self.backends[next(self._turn) % len(self.backends)]
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        assert self._http is not None
        try:
            async with self._http.request(
                request.method, backend + request.path_qs, data=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as answer:
                payload = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                kept[SERVED_BY] = backend  # which replica answered, for whoever looks
                return web.Response(status=answer.status, body=payload, headers=kept)
        except (aiohttp.ClientError, TimeoutError):
            self.remove(backend)
            self.failed += 1
            return web.Response(status=502, text="bad gateway")

    async def start(self) -> str:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._http = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
