"""A model call as one journaled step: the one definition of an LLM step's shape.

The step's input holds the conversation as last sent (the prompt is stored once); its
output holds the validated tool arguments, what the model wrote, and every attempt with
its tokens and cost. A replay reads the step back and pays nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar, Union

from pydantic import BaseModel

from lumen.db.models import StepKind
from lumen.engine.journal import Journal, StepResult
from lumen.engine.runs import add_cost
from lumen.llm import Attribution, Gateway, Tier, ToolResult

M = TypeVar("M", bound=BaseModel)


class AttemptRecord(BaseModel):
    model: str
    ok: bool
    error: str | None = None
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    spend_id: int | None = None


class LLMCall(BaseModel, Generic[M]):
    """A journaled tool call: its validated value, and what it took to get it."""

    model: str
    value: M
    text: str = ""
    tool_name: str
    tool_arguments: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    latency_ms: int = 0
    attempts: list[AttemptRecord] = []
    invalid_outputs: list[str] = []

    @classmethod
    def of(cls, result: ToolResult[M]) -> LLMCall[M]:
        return cls(
            model=result.model,
            value=result.value,
            text=result.text,
            tool_name=result.tool_name,
            tool_arguments=result.tool_arguments,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=result.cost_usd,
            latency_ms=result.latency_ms,
            attempts=[AttemptRecord(**vars(a)) for a in result.attempts],
            invalid_outputs=list(result.invalid_outputs),
        )


async def call_model(
    journal: Journal,
    gateway: Gateway,
    *,
    tool_name: str,
    tool_model: type[M],
    messages: Sequence[dict[str, Any]],
    tier: Tier,
    attribution: Attribution,
    model_override: str | None = None,
    step_name: str | None = None,
    alternatives: Mapping[str, type[BaseModel]] | None = None,
) -> LLMCall[Any]:
    """Call `tool_name` once per run (or per `step_name`), ever, and journal it; its cost is
    added to the run's. With `alternatives`, the model calls one of all the tools, and the
    call's `tool_name` says which (its value is that tool's model, read back the same way)."""
    values = (tool_model, *(alternatives or {}).values())
    output_type = LLMCall[Union[values]] if len(values) > 1 else LLMCall[tool_model]  # type: ignore[valid-type]

    async def action() -> StepResult[LLMCall[Any]]:
        result = await gateway.call_tool(
            tier,
            list(messages),
            tool_model=tool_model,
            tool_name=tool_name,
            attribution=attribution,
            model=model_override,
            alternatives=alternatives,
        )
        return StepResult(output=output_type.of(result), cost_usd=result.cost_usd, input={"messages": result.messages})

    return await journal.step(
        StepKind.LLM_CALL, step_name or tool_name, action, output_type, run_values=lambda out: add_cost(out.cost_usd)
    )
