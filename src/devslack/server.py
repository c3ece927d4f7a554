"""aiohttp application wiring and a runner that supports port 0."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from . import ui
from .appkey import WORKSPACE
from .files import handle_file, handle_upload
from .faults import Listener
from .response_url import handle_response_url
from .webapi import handle_api
from .workspace import Workspace

STATIC = Path(__file__).parent / "static"


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _permalink(request: web.Request) -> web.Response:
    """Permalinks (chat.getPermalink) open the page on that channel, and on the thread when
    they carry a ``thread_ts`` (a reply, or a parent linked as its thread), as Slack does."""
    thread_ts = request.query.get("thread_ts")
    raise web.HTTPFound(f"/#{request.match_info['channel']}" + (f"/{thread_ts}" if thread_ts else ""))


def create_app(workspace: Workspace) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[WORKSPACE] = workspace
    app.router.add_route("*", "/api/{method}", handle_api)
    app.router.add_post("/response/{token:.+}", handle_response_url)
    app.router.add_post("/upload/{file_id}", handle_upload)
    app.router.add_get("/files/{file_id}", handle_file)
    app.router.add_get("/socket-mode", workspace.socket_hub.handle)
    app.router.add_get("/archives/{channel}/{p}", _permalink)
    ui.add_routes(app)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC)

    async def _cleanup(_: web.Application) -> None:
        await workspace.aclose()

    app.on_shutdown.append(_cleanup)
    return app


async def start(workspace: Workspace, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve ``workspace``; returns (runner, base_url). ``port=0`` picks a free port.
    Stop with ``await runner.cleanup()``."""
    runner = web.AppRunner(create_app(workspace), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    workspace.listener = Listener(runner, host, bound_port, site)
    public_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    workspace.base_url = f"http://{public_host}:{bound_port}"
    return runner, workspace.base_url
