"""HTTP front of the Web API: POST/GET /api/{method}; auth, faults (outage, slowness, rate limits), call log."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from .api import METHODS, ApiError, Request, load_all
from .appkey import WORKSPACE

log = logging.getLogger(__name__)
load_all()


def _json(data: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.text()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError("invalid_json") from None
                if isinstance(body, dict):
                    params.update(body)
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params


def bearer_token(request: web.Request, params: dict) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return params.pop("token", None) or None


async def handle_api(request: web.Request) -> web.Response:
    ws = request.app[WORKSPACE]
    method = request.match_info["method"]
    try:
        params = await read_params(request)
    except ApiError as e:
        return _json({"ok": False, "error": e.error})
    token = bearer_token(request, params)
    params.pop("token", None)
    call = ws.record_call(method, params, token)

    faults = ws.faults
    if faults.status is not None:
        call.status = faults.status
        await faults.late()
        error = "service_unavailable" if faults.status == 503 else "internal_error"
        return _json({"ok": False, "error": error}, status=faults.status)
    retry_after = ws.take_rate_limit(method)
    if retry_after is None:
        retry_after = faults.window_retry_after(method)
    if retry_after is not None:
        call.status = 429
        return _json({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)})
    failure = faults.method_fault(method)
    if failure is not None:
        call.status = failure.status
        call.response = {"ok": False, "error": failure.error}
        await faults.late()
        return _json(call.response, status=failure.status)

    result = await _dispatch(ws, method, params, token)
    call.response = result
    await faults.late()  # done already: a caller that stops waiting has still posted
    return _json(result)


async def _dispatch(ws, method: str, params: dict, token: str | None) -> dict:
    entry = METHODS.get(method)
    if entry is None:
        return {"ok": False, "error": "unknown_method", "req_method": method}
    handler, kind = entry
    if not token:
        return {"ok": False, "error": "not_authed"}
    token_kind = "bot" if token == ws.bot_token else "app" if token == ws.app_token else None
    if token_kind is None:
        return {"ok": False, "error": "invalid_auth"}
    if token_kind != kind:
        return {"ok": False, "error": "not_allowed_token_type"}
    try:
        return {"ok": True, **await handler(Request(ws, method, params, token))}
    except ApiError as e:
        return {"ok": False, "error": e.error, **e.extra}
    except Exception:  # show the bug in the dev server log, answer like Slack would
        log.exception("devslack: %s failed", method)
        return {"ok": False, "error": "fatal_error"}
