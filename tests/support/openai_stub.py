"""A local OpenAI-compatible chat server with scripted answers, for the LLM gateway tests.

It speaks `POST /v1/chat/completions` (and `/chat/completions`) over real HTTP, so litellm's
OpenAI client, retries and error mapping are exercised exactly as against a provider.
Each request takes the next scripted behaviour (for its model, or for any model); when the
script is empty it answers with the model's default behaviour, or a plain text answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Behaviour:
    """One scripted answer: text, a tool call, an HTTP error, optionally after a delay."""

    kind: str  # "text" | "tool_call" | "error"
    text: str = ""
    tool_name: str = ""
    tool_arguments: str = ""  # sent verbatim, so it may be invalid JSON on purpose
    status: int = 200
    retry_after: str | None = None
    delay_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None  # None: any model


def text(
    content: str,
    *,
    delay_s: float = 0.0,
    model: str | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> Behaviour:
    return Behaviour(
        "text",
        text=content,
        delay_s=delay_s,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def tool_call(name: str, arguments: dict[str, Any] | str, *, model: str | None = None) -> Behaviour:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return Behaviour("tool_call", tool_name=name, tool_arguments=raw, model=model)


def error(status: int, *, retry_after: str | None = None, model: str | None = None) -> Behaviour:
    return Behaviour("error", status=status, retry_after=retry_after, model=model)


def rate_limited(retry_after: str | None = "1", *, model: str | None = None) -> Behaviour:
    return error(429, retry_after=retry_after, model=model)


def slow(seconds: float, content: str = "too late", *, model: str | None = None) -> Behaviour:
    return text(content, delay_s=seconds, model=model)


def invalid_json_tool_call(name: str, *, model: str | None = None) -> Behaviour:
    return tool_call(name, '{"decisions": [ {"title": "unterminated', model=model)


@dataclass(frozen=True)
class Billing:
    """A provider that counts and bills its own way: its tokenizer yields `chars_per_token`
    characters a token (of the request's messages and tools, as JSON), and it bills
    `output_over_ask` times the `max_tokens` asked for (reasoning tokens, a provider that
    ignores the cap), whatever it writes."""

    chars_per_token: float = 4.0
    output_over_ask: float | None = None

    def usage(self, body: dict[str, Any], output_chars: int) -> tuple[int, int]:
        sent = len(json.dumps(body.get("messages", []))) + len(json.dumps(body.get("tools", [])))
        prompt = max(1, math.ceil(sent / self.chars_per_token))
        asked = body.get("max_tokens") or body.get("max_completion_tokens")
        if self.output_over_ask is not None and asked:
            return prompt, math.ceil(int(asked) * self.output_over_ask)
        return prompt, max(1, math.ceil(output_chars / self.chars_per_token))


@dataclass
class ReceivedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


@dataclass
class OpenAIStub:
    """Start it with `await stub.start()` in the test's loop; `stub.base_url` is the api_base."""

    script: deque[Behaviour] = field(default_factory=deque)
    defaults: dict[str | None, Behaviour] = field(default_factory=dict)
    requests: list[ReceivedRequest] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    billing: Billing | None = None  # None: about 4 characters a token, as before
    # Answers computed from the request (a benchmark's model of a provider), before the script.
    responder: Callable[[dict[str, Any]], Behaviour] | None = None
    _runner: web.AppRunner | None = None
    _port: int = 0
    _ids: itertools.count = field(default_factory=itertools.count)

    # --- scripting -------------------------------------------------------------

    def enqueue(self, *behaviours: Behaviour) -> OpenAIStub:
        self.script.extend(behaviours)
        return self

    def set_default(self, behaviour: Behaviour, *, model: str | None = None) -> OpenAIStub:
        """What a model answers once the script holds nothing for it."""
        self.defaults[model] = behaviour
        return self

    def requests_for(self, model: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.model == model]

    # --- server ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    async def start(self) -> OpenAIStub:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        # Do not wait for scripted slow answers still sleeping when the test ends.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _next(self, model: str) -> Behaviour:
        for behaviour in self.script:
            if behaviour.model in (None, model):
                self.script.remove(behaviour)
                return behaviour
        return self.defaults.get(model) or self.defaults.get(None) or text("stub answer")

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(
            ReceivedRequest(request.path, body, dict(request.headers), time.monotonic())
        )
        behaviour = self.responder(body) if self.responder is not None else self._next(str(body.get("model", "")))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if behaviour.delay_s:
                await asyncio.sleep(behaviour.delay_s)
            if behaviour.kind == "error":
                headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                payload = {
                    "error": {
                        "message": f"stub says {behaviour.status}",
                        "type": "stub_error",
                        "code": str(behaviour.status),
                    }
                }
                return web.json_response(payload, status=behaviour.status, headers=headers)
            return web.json_response(self._completion(body, behaviour))
        finally:
            self.in_flight -= 1

    def _completion(self, body: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": behaviour.text or None}
        finish = "stop"
        if behaviour.kind == "tool_call":
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {
                        "name": behaviour.tool_name,
                        "arguments": behaviour.tool_arguments,
                    },
                }
            ]
            finish = "tool_calls"
        prompt_chars = len(json.dumps(body.get("messages", [])))
        output_chars = len(behaviour.text) + len(behaviour.tool_arguments)
        if self.billing is not None:
            billed_prompt, billed_completion = self.billing.usage(body, output_chars)
        else:
            billed_prompt, billed_completion = max(1, prompt_chars // 4), max(1, output_chars // 4)
        prompt_tokens = behaviour.prompt_tokens or billed_prompt
        completion_tokens = behaviour.completion_tokens or billed_completion
        return {
            "id": f"chatcmpl-stub-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
