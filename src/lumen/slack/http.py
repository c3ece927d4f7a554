"""The aiohttp server: Slack at /slack/events, plus /healthz, /readyz and /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.async_app import AsyncApp

from lumen.services import Services
from lumen.slack.metrics import HTTP_LATENCY

SLACK_PATH = "/slack/events"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _timing(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        path = request.path if request.path in (SLACK_PATH, "/readyz") else "other"
        HTTP_LATENCY.labels(path=path).observe(time.perf_counter() - started)


def build_web_app(bolt: AsyncApp, services: Services) -> web.Application:
    from lumen.api import add_api_routes

    db = services.db
    app = bolt.web_app(path=SLACK_PATH)
    app.middlewares.append(_timing)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        if await db.ping():
            return web.json_response({"ok": True, "database": "reachable"})
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    add_api_routes(app, services)
    return app
