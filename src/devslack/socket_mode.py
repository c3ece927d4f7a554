"""Socket Mode server side: tickets from apps.connections.open, the /socket-mode WebSocket,
envelopes out and acks in — the protocol slack_sdk's SocketModeClient speaks."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid

from aiohttp import WSMsgType, web

from .delivery import EVENTS, Attempt


class SocketHub:
    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.connections: list[web.WebSocketResponse] = []
        self.received: list[dict] = []  # every frame the app sent (acks), for assertions
        self._tickets: dict[str, float] = {}
        self._pending: dict[str, asyncio.Future] = {}

    @property
    def connected(self) -> bool:
        return any(not c.closed for c in self.connections)

    def issue_ticket(self) -> str:
        ticket = secrets.token_hex(16)
        self._tickets[ticket] = time.monotonic()
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        issued = self._tickets.pop(request.query.get("ticket", ""), None)  # tickets are single use
        if issued is None or time.monotonic() - issued > 300:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)  # autoping answers the SDK's "sdk-ping-pong" pings
        await ws.prepare(request)
        self.connections.append(ws)
        await ws.send_str(json.dumps({
            "type": "hello",
            "num_connections": len([c for c in self.connections if not c.closed]),
            "debug_info": {"host": "applink-devslack", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
        return ws

    def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        self.received.append(frame)
        fut = self._pending.pop(frame.get("envelope_id", ""), None)
        if fut is not None and not fut.done():
            fut.set_result(frame)

    async def send(self, kind: str, payload: dict, retry_num: int, reason: str | None, timeout: float) -> Attempt:
        conn = next(c for c in reversed(self.connections) if not c.closed)  # newest connection wins
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != EVENTS,
        }
        if kind == EVENTS:
            envelope.update(retry_attempt=retry_num, retry_reason=reason or "")
        fut = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = fut
        started = time.monotonic()
        try:
            await conn.send_str(json.dumps(envelope))
            ack = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return Attempt(retry_num, None, "", "timeout", time.monotonic() - started)
        except (ConnectionError, RuntimeError):
            return Attempt(retry_num, None, "", "connection_failed", time.monotonic() - started)
        finally:
            self._pending.pop(envelope_id, None)
        body = json.dumps(ack["payload"]) if ack.get("payload") is not None else ""
        return Attempt(retry_num, 200, body, None, time.monotonic() - started)

    async def disconnect_all(self, reason: str = "refresh_requested") -> None:
        """Ask every client to reconnect, as Slack does periodically (``{"type": "disconnect"}``)."""
        for conn in list(self.connections):
            if not conn.closed:
                await conn.send_str(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-devslack"}}))

    async def close(self) -> None:
        for conn in list(self.connections):
            await conn.close()
        self.connections.clear()
