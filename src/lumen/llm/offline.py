"""The offline model: a litellm custom provider, `lumen-offline/<name>`, free and deterministic.

Only `lumen.llm._litellm` imports this module, since it needs litellm itself. What the model
writes is decided in `offline_playbook`; this file only speaks litellm's provider protocol.
"""

from __future__ import annotations

import hashlib
import json
import time
from types import ModuleType
from typing import Any

from litellm import CustomLLM, ModelResponse
from pydantic import ValidationError

from lumen.llm.context_block import parse_context_block
from lumen.llm.costs import estimate_tokens
from lumen.llm.models import OFFLINE_PROVIDER
from lumen.llm.offline_playbook import OFFLINE_MARK, respond


class OfflineModel(CustomLLM):
    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return build_response(model, messages, kwargs.get("optional_params") or {})

    async def acompletion(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> ModelResponse:  # type: ignore[override]
        return build_response(model, messages, kwargs.get("optional_params") or {})


def build_response(
    model: str, messages: list[Any], optional_params: dict[str, Any]
) -> ModelResponse:
    tool_names = [
        tool.get("function", {}).get("name")
        for tool in optional_params.get("tools") or []
        if isinstance(tool, dict)
    ]
    try:
        ctx = parse_context_block(messages)
        answer = respond(ctx, tool_names)
    except (ValueError, ValidationError) as exc:  # json errors are ValueErrors too
        answer = {"text": f"{OFFLINE_MARK}The <lumen-context> block is malformed: {exc}"}

    # Same prompt, same answer: ids derive from the prompt, not from a clock or a counter.
    digest = hashlib.sha256(
        json.dumps(_plain(messages), sort_keys=True, default=str).encode()
    ).hexdigest()
    message: dict[str, Any] = {"role": "assistant", "content": answer.get("text")}
    finish_reason = "stop"
    if "tool" in answer:
        message["tool_calls"] = [
            {
                "id": f"call_offline_{digest[:16]}",
                "type": "function",
                "function": {"name": answer["tool"], "arguments": answer["arguments"]},
            }
        ]
        finish_reason = "tool_calls"
    prompt_tokens = estimate_tokens(_plain(messages))
    completion_tokens = estimate_tokens(answer.get("text") or answer.get("arguments") or "")
    response = ModelResponse(
        id=f"chatcmpl-offline-{digest[:24]}",
        created=int(time.time()),
        model=model,
        choices=[{"index": 0, "message": message, "finish_reason": finish_reason}],
        usage={
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    )
    response._hidden_params["response_cost"] = 0.0
    return response


def _plain(messages: list[Any]) -> list[Any]:
    return [m.model_dump() if hasattr(m, "model_dump") else m for m in messages]


def register_offline_provider(litellm: ModuleType) -> None:
    """Make `lumen-offline/<name>` callable through litellm. Safe to call twice."""
    if any(entry.get("provider") == OFFLINE_PROVIDER for entry in litellm.custom_provider_map):
        return
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        {"provider": OFFLINE_PROVIDER, "custom_handler": OfflineModel()},
    ]
    # litellm also re-reads the map on each call; this makes the provider known right away.
    litellm.utils.custom_llm_setup()
