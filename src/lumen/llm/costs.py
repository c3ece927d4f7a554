"""Tokens and dollars: estimates before a call (for the budget), real figures after it."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from types import ModuleType
from typing import Any

from lumen.llm.models import is_offline
from lumen.llm.offline_prices import simulated_cost

# A rough, dependency-free token estimate; tokenizers would cost an import and may download.
CHARS_PER_TOKEN = 4
_LEDGER_PRECISION = Decimal("0.00000001")  # the ledger's precision: Numeric(18, 8)


def estimate_tokens(value: Any) -> int:
    """Tokens in a text, a message, or a list of messages (content, parts and tool calls)."""
    return max(1, math.ceil(_chars(value) / CHARS_PER_TOKEN))


def _chars(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        return sum(_chars(item) for item in value)
    if isinstance(value, dict):
        return sum(_chars(v) for k, v in value.items() if k not in ("role", "type", "id"))
    if hasattr(value, "model_dump"):
        return _chars(value.model_dump())
    return len(json.dumps(value, default=str))


def to_money(value: float | Decimal | None) -> Decimal:
    if value is None:
        return Decimal(0)
    return Decimal(str(value)).quantize(_LEDGER_PRECISION)


def estimate_cost(
    lm: ModuleType, model: str, prompt_tokens: int, completion_tokens: int, *, simulated: bool = False
) -> Decimal:
    """The most this call should cost, from litellm's price table; 0 for an unpriced model.
    The offline model is free, or priced at its simulated table when `simulated`."""
    if is_offline(model):
        return to_money(simulated_cost(prompt_tokens, completion_tokens)) if simulated else Decimal(0)
    try:
        prompt_cost, completion_cost = lm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:
        # Unknown price: the budget cannot foresee it; settle records what the provider reports.
        return Decimal(0)
    return to_money(prompt_cost + completion_cost)


def response_cost(lm: ModuleType, model: str, response: Any, *, simulated: bool = False) -> Decimal:
    """What the call cost: litellm's `response_cost`, else its price table, else 0 (the
    offline model: 0, or its simulated price when `simulated`)."""
    if is_offline(model):
        return to_money(simulated_cost(*usage_tokens(response))) if simulated else Decimal(0)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    if cost is None:
        try:
            cost = lm.completion_cost(completion_response=response, model=model)
        except Exception:
            cost = None
    return to_money(cost)


def usage_tokens(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(
        getattr(usage, "completion_tokens", 0) or 0
    )
