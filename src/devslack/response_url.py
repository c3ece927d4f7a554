"""POST /response/{token}: the response_url endpoint (5 uses / 30 min, then 404)."""

from __future__ import annotations

import json

from aiohttp import web

from .appkey import WORKSPACE
from .tokens import TriggerError


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


async def handle_response_url(request: web.Request) -> web.Response:
    ws = request.app[WORKSPACE]
    try:
        raw = await request.text()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
    if ws.faults.status is not None and ws.faults.response_urls_down:
        await ws.faults.late()
        return web.json_response({"ok": False, "error": "service_unavailable"}, status=ws.faults.status)
    try:
        ru = ws.response_urls.use(request.match_info["token"])
    except TriggerError as e:
        return web.json_response({"ok": False, "error": e.error}, status=404)
    ru.log.append(body)
    response = _apply(ws, ru, body)
    await ws.faults.late()  # done already: a caller that stops waiting has still been answered
    return response


def _apply(ws, ru, body: dict) -> web.Response:
    source = None
    if ru.source_ts:
        source = ws.find_ephemeral(ru.channel_id, ru.source_ts, ru.user_id) if ru.source_ephemeral else ws.find_message(ru.channel_id, ru.source_ts)
    if _truthy(body.get("delete_original")):
        if source is not None:
            ws.delete_message(source)
        return web.json_response({"ok": True})
    if not body.get("text") and not body.get("blocks"):
        return web.json_response({"ok": False, "error": "no_text"}, status=400)
    replace = body.get("replace_original")
    replace = ru.source_ephemeral if replace is None else _truthy(replace)
    if replace and source is not None:
        blocks = body.get("blocks")
        ws.update_message(source, text=body.get("text") or "", blocks=blocks if blocks is not None else [])
    else:
        ws.show_response(body, user_id=ru.user_id, channel_id=ru.channel_id, thread_ts=ru.thread_ts)
    return web.json_response({"ok": True})
