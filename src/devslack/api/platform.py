"""auth.test, apps.connections.open and the assistant.threads.* methods."""

from __future__ import annotations

from . import ApiError, Request, method


@method("auth.test")
async def auth_test(req: Request) -> dict:
    ws = req.ws
    return {
        "url": f"{ws.base_url}/",
        "team": ws.team_name,
        "user": ws.bot.name,
        "team_id": ws.team_id,
        "user_id": ws.bot.id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


@method("apps.connections.open", token="app")
async def connections_open(req: Request) -> dict:
    ws_url = req.ws.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return {"url": f"{ws_url}/socket-mode?ticket={req.ws.socket_hub.issue_ticket()}&app_id={req.ws.app_id}"}


def _thread(req: Request):
    channel = req.ws.resolve_channel(req.require("channel_id", "channel_not_found"))
    if channel is None:
        raise ApiError("channel_not_found")
    thread_ts = req.require("thread_ts", "invalid_arguments")
    return req.ws.assistant_thread(channel.id, thread_ts)


@method("assistant.threads.setStatus")
async def set_status(req: Request) -> dict:
    thread = _thread(req)
    thread.status = req.get("status", "") or ""
    req.ws.assistant_changed(thread)
    return {}


@method("assistant.threads.setSuggestedPrompts")
async def set_prompts(req: Request) -> dict:
    thread = _thread(req)
    prompts = req.json("prompts") or []
    if not isinstance(prompts, list) or not prompts:
        raise ApiError("invalid_arguments")
    thread.prompts, thread.prompts_title = prompts, req.get("title", "") or ""
    req.ws.assistant_changed(thread)
    return {}


@method("assistant.threads.setTitle")
async def set_title(req: Request) -> dict:
    thread = _thread(req)
    thread.title = req.require("title", "invalid_arguments")
    req.ws.assistant_changed(thread)
    return {}
