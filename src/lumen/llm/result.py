"""What a gateway call returns: the answer, and everything the journal needs about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """One request to one model, successful or not, with its settled spend row."""

    model: str
    ok: bool
    error: str | None = None
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    spend_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "ok": self.ok,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": str(self.cost_usd),
            "spend_id": self.spend_id,
        }


@dataclass(frozen=True, kw_only=True)
class CallResult:
    """The answer of `complete`: the model's text, and every attempt it took."""

    model: str  # the model that gave the accepted answer
    messages: list[dict[str, Any]]  # the request messages of that call, as sent
    text: str  # the assistant's text ("" when it only called the tool)
    attempts: tuple[Attempt, ...] = ()

    @property
    def prompt_tokens(self) -> int:
        return sum(a.prompt_tokens for a in self.attempts)

    @property
    def completion_tokens(self) -> int:
        return sum(a.completion_tokens for a in self.attempts)

    @property
    def cost_usd(self) -> Decimal:
        return sum((a.cost_usd for a in self.attempts), Decimal(0))

    @property
    def latency_ms(self) -> int:
        return sum(a.latency_ms for a in self.attempts)



@dataclass(frozen=True, kw_only=True)
class ToolResult(CallResult, Generic[T]):
    """The answer of `call_tool`: the tool's arguments, validated."""

    value: T
    tool_name: str
    tool_arguments: str  # the raw JSON the model wrote
    # Why earlier answers were refused, in order.
    invalid_outputs: tuple[str, ...] = field(default_factory=tuple)
