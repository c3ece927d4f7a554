"""Backend of the web page: small JSON endpoints under /ui/api and live change push over /ui/ws.

Page actions are fire-and-forget (deliveries run in the background) so a slow app never
freezes the page; results arrive through /ui/ws like everything else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from .appkey import WORKSPACE

# Open page sockets, closed on shutdown so the server does not wait for browsers to leave.
UI_SOCKETS: web.AppKey[set] = web.AppKey("devslack_ui_sockets", set)


def _ws(request: web.Request):
    return request.app[WORKSPACE]


def _message_json(msg) -> dict[str, Any]:
    out = msg.to_slack()
    # Blocks devslack derived from the text are not richer than the text: render the mrkdwn instead.
    out.update(channel=msg.channel, ephemeral=bool(msg.ephemeral_user), text_only=msg.generated_blocks)
    return out


def _view_json(view) -> dict[str, Any] | None:
    if view is None:
        return None
    out = view.to_slack()
    out.update(errors=view.errors, opened_from_style=view.opened_from_style)
    return out


async def bootstrap(request: web.Request) -> web.Response:
    ws = _ws(request)
    for user in ws.humans():  # every human has a DM with the app, as in Slack
        ws.dm_with(user.id)
    return web.json_response({
        "team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.domain, "timezone": ws.timezone},
        "bot": {"id": ws.bot.id, "name": ws.bot.name, "bot_id": ws.bot.bot_id},
        "users": [{"id": u.id, "name": u.name, "real_name": u.real_name, "is_bot": u.is_bot} for u in ws.users.values()],
        "channels": [
            {"id": c.id, "name": c.name, "is_private": c.is_private, "is_im": c.is_im, "im_user": c.im_user, "members": c.members, "topic": c.topic}
            for c in ws.channels.values()
        ],
        "usergroups": [{"id": g.id, "handle": g.handle} for g in ws.usergroups.values()],
    })


async def messages(request: web.Request) -> web.Response:
    ws, q = _ws(request), request.query
    thread_ts = q.get("thread_ts") or None
    msgs = ws.visible_messages(q["channel"], q["user"], thread_ts)
    out: dict[str, Any] = {"messages": [_message_json(m) for m in msgs]}
    thread = ws.assistant_threads.get((q["channel"], thread_ts)) if thread_ts else None
    if thread is not None:
        out["assistant"] = {"status": thread.status, "title": thread.title, "prompts": thread.prompts, "prompts_title": thread.prompts_title}
    return web.json_response(out)


async def views(request: web.Request) -> web.Response:
    ws, user = _ws(request), request.query["user"]
    return web.json_response({
        "modal": _view_json(ws.current_modal(user)),
        "home": _view_json(ws.home_views.get(user)),
        "stack_depth": len(ws.modal_stacks.get(user) or []),
    })


async def _body(request: web.Request) -> dict:
    return await request.json()


async def compose(request: web.Request) -> web.Response:
    """Composer input: ``/cmd args`` runs a slash command, anything else is a message."""
    ws, b = _ws(request), await _body(request)
    text = (b.get("text") or "").strip()
    if not text:
        return web.json_response({"ok": False, "error": "no_text"})
    if text.startswith("/") and not b.get("thread_ts"):
        command, _, rest = text.partition(" ")
        ws.in_background(ws.slash_command(b["user"], b["channel"], command, rest.strip()))
    else:
        ws.in_background(ws.send_message(b["user"], b["channel"], ws.mentionify(text), b.get("thread_ts") or None))
    return web.json_response({"ok": True})


async def action(request: web.Request) -> web.Response:
    ws, b = _ws(request), await _body(request)
    if b.get("view_id"):
        job = ws.click_in_view(b["user"], b["view_id"], b["action_id"], b.get("value"), values=b.get("values"))
    else:
        job = ws.click(b["user"], b["channel"], b["ts"], b["action_id"], b.get("value"))
    ws.in_background(job)
    return web.json_response({"ok": True})


async def view_submit(request: web.Request) -> web.Response:
    ws, b = _ws(request), await _body(request)
    ws.in_background(ws.submit_view(b["user"], b.get("view_id"), b.get("values") or {}))
    return web.json_response({"ok": True})


async def view_close(request: web.Request) -> web.Response:
    ws, b = _ws(request), await _body(request)
    ws.in_background(ws.close_view(b["user"], b.get("view_id")))
    return web.json_response({"ok": True})


async def client_start(request: web.Request) -> web.Response:
    """A page (re)loaded as this user: like a Slack client restarting, it drops the user's
    open modals, which lived in the old client only (the app is not told)."""
    ws, b = _ws(request), await _body(request)
    if ws.modal_stacks.get(b["user"]):
        ws.close_modal(b["user"], clear=True)
    return web.json_response({"ok": True})


async def home_open(request: web.Request) -> web.Response:
    ws, b = _ws(request), await _body(request)
    ws.in_background(ws.open_home(b["user"]))
    return web.json_response({"ok": True})


async def assistant_open(request: web.Request) -> web.Response:
    ws, b = _ws(request), await _body(request)
    thread = await asyncio.wait_for(asyncio.shield(ws.in_background(ws.open_assistant_thread(b["user"], b.get("context_channel")))), 10)
    return web.json_response({"ok": True, "channel": thread.channel_id, "thread_ts": thread.thread_ts})


async def live(request: web.Request) -> web.StreamResponse:
    """Pushes every state change as JSON; the page re-fetches what it displays."""
    ws = _ws(request)
    sock = web.WebSocketResponse(heartbeat=20)
    await sock.prepare(request)
    request.app[UI_SOCKETS].add(sock)
    queue: asyncio.Queue = asyncio.Queue()
    unsubscribe = ws.subscribe(queue.put_nowait)

    async def pump() -> None:
        while True:
            change = await queue.get()
            await sock.send_str(json.dumps(change))

    pusher = asyncio.ensure_future(pump())
    try:
        async for msg in sock:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        unsubscribe()
        pusher.cancel()
        request.app[UI_SOCKETS].discard(sock)
    return sock


async def _close_sockets(app: web.Application) -> None:
    for sock in list(app[UI_SOCKETS]):
        await sock.close()


def add_routes(app: web.Application) -> None:
    app[UI_SOCKETS] = set()
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ui/api/bootstrap", bootstrap)
    app.router.add_get("/ui/api/messages", messages)
    app.router.add_get("/ui/api/views", views)
    app.router.add_post("/ui/api/compose", compose)
    app.router.add_post("/ui/api/action", action)
    app.router.add_post("/ui/api/view/submit", view_submit)
    app.router.add_post("/ui/api/view/close", view_close)
    app.router.add_post("/ui/api/home/open", home_open)
    app.router.add_post("/ui/api/client/start", client_start)
    app.router.add_post("/ui/api/assistant/open", assistant_open)
    app.router.add_get("/ui/ws", live)
