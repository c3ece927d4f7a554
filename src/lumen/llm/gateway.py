"""The LLM gateway: every model call in Lumen goes through `Gateway`.

A call names a tier (or a model override). For each model of the tier in turn, the gateway
reserves the estimated cost against the agent's budget, waits for a slot under the model's
concurrency limit, calls litellm with a timeout, settles the spend row with the real cost,
and retries transient failures with backoff before falling back to the next model.
`call_tool` adds a pydantic-validated tool call, asking the model again when it is invalid.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from lumen.db.session import Database
from lumen.domain.budgets import Limits
from lumen.llm import costs
from lumen.llm._litellm import litellm
from lumen.llm.errors import BudgetExceeded, InvalidModelOutput, LLMUnavailable
from lumen.llm.labels import SpendMetrics
from lumen.llm.ledger import Attribution, BudgetAlerts, Calibrating, SpendLedger
from lumen.llm.models import ModelTiers, Tier, is_offline
from lumen.llm.options import GatewayOptions
from lumen.llm.result import Attempt, CallResult, ToolResult
from lumen.llm.retry import Failure, backoff_delay, classify
from lumen.llm.tokens import prompt_tokens_for_budget
from lumen.llm.tools import parse_tool_arguments, tool_spec
from lumen.log import get_logger

if TYPE_CHECKING:
    from lumen.settings import Settings

M = TypeVar("M", bound=BaseModel)
Messages = list[dict[str, Any]]

log = get_logger("lumen.llm")

# litellm raises its own timeout a moment before ours; ours catches a provider that hangs anyway.
_TIMEOUT_GRACE_S = 0.5
# How often a call waiting for a new model's first bill looks again.
_CALIBRATION_POLL_S = 0.05


@dataclass
class _Sent:
    """One request's outcome: a response, or the failure that replaced it."""

    attempt: Attempt
    response: Any = None
    failure: Failure | None = None


class Gateway:
    def __init__(
        self,
        db: Database,
        tiers: ModelTiers | None = None,
        options: GatewayOptions | None = None,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        platform_budget: Limits | None = None,
        alerts: BudgetAlerts | None = None,
    ) -> None:
        self.tiers = tiers or ModelTiers()
        self.options = options or GatewayOptions()
        self.ledger = SpendLedger(db, platform_budget, alerts)
        self.metrics = SpendMetrics(db)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        options: GatewayOptions | None = None,
        *,
        platform_budget: Limits | None = None,
        alerts: BudgetAlerts | None = None,
    ) -> Gateway:
        """Tiers from LUMEN_MODEL_FAST/STRONG; options from the LUMEN_LLM_* variables."""
        return cls(
            db,
            ModelTiers.from_settings(settings),
            options or GatewayOptions.from_settings(settings),
            platform_budget=platform_budget,
            alerts=alerts,
        )

    def price(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """What a call of this size would cost on `model` today (the offline model: 0, or its
        simulated price in lumen dev)."""
        simulated = self.options.simulated_offline_prices
        if is_offline(model):  # priced here: no need to import litellm (seconds) for it
            return costs.estimate_cost(None, model, prompt_tokens, completion_tokens, simulated=simulated)  # type: ignore[arg-type]
        return costs.estimate_cost(litellm(), model, prompt_tokens, completion_tokens, simulated=simulated)

    # --- the two kinds of call -------------------------------------------------------

    async def complete(
        self,
        tier: Tier,
        messages: Messages,
        *,
        attribution: Attribution,
        model: str | None = None,
        max_tokens: int | None = None,
        timeout_s: float | None = None,
        **params: Any,
    ) -> CallResult:
        """A plain text answer."""
        attempts: list[Attempt] = []
        chain = self.tiers.chain(tier, model)
        used, response = await self._call_chain(
            chain, messages, params, attribution, max_tokens, timeout_s, attempts
        )
        return CallResult(
            model=used,
            messages=list(messages),
            text=_text(response),
            attempts=tuple(attempts),
        )

    async def call_tool(
        self,
        tier: Tier,
        messages: Messages,
        *,
        tool_model: type[M],
        tool_name: str,
        attribution: Attribution,
        tool_description: str | None = None,
        max_invalid_retries: int = 2,
        model: str | None = None,
        max_tokens: int | None = None,
        timeout_s: float | None = None,
        alternatives: Mapping[str, type[BaseModel]] | None = None,
    ) -> ToolResult[Any]:
        """Force a call of `tool_name` and return its arguments validated by `tool_model`.

        With `alternatives` (other tool names and their models), the model must call one of
        them all, and the result's `tool_name` says which; its value is that tool's model.
        Invalid or missing arguments are sent back to the model with what was wrong, at most
        `max_invalid_retries` times; then InvalidModelOutput is raised and nothing is returned.
        """
        models: dict[str, type[BaseModel]] = {tool_name: tool_model, **(alternatives or {})}
        params: dict[str, Any] = {
            "tools": [
                tool_spec(m, name, tool_description if name == tool_name else None) for name, m in models.items()
            ],
            "tool_choice": (
                {"type": "function", "function": {"name": tool_name}} if len(models) == 1 else "required"
            ),
        }
        wanted = " or ".join(f"`{name}`" for name in models)
        attempts: list[Attempt] = []
        reasons: list[str] = []
        conversation = list(messages)
        chain = self.tiers.chain(tier, model)
        used, raw = chain[0], None
        for _ in range(max_invalid_retries + 1):
            used, response = await self._call_chain(
                chain, conversation, params, attribution, max_tokens, timeout_s, attempts
            )
            call = _tool_call(response, models)
            raw = call["function"]["arguments"] if call else None
            if call is None:
                reason = f"the model answered without calling {wanted}"
            else:
                called = call["function"]["name"]
                value, reason = parse_tool_arguments(models[called], raw)
                if reason is None and raw is not None:
                    return ToolResult(
                        model=used,
                        messages=conversation,
                        text=_text(response),
                        value=value,
                        tool_name=called,
                        tool_arguments=raw,
                        attempts=tuple(attempts),
                        invalid_outputs=tuple(reasons),
                    )
            reasons.append(reason)
            log.warning("lumen.llm.invalid_output", model=used, reason=reason, **_ids(attribution))
            conversation = conversation + _correction(response, wanted, reason)
            # Ask the model that answered to fix its own answer; keep the rest as fallbacks.
            chain = chain[chain.index(used) :]
        raise InvalidModelOutput(used, tool_name, reasons[-1], raw=raw, attempts=tuple(attempts))

    # --- retries and fallbacks ----------------------------------------------------------

    async def _call_chain(
        self,
        chain: tuple[str, ...],
        messages: Messages,
        params: dict[str, Any],
        attribution: Attribution,
        max_tokens: int | None,
        timeout_s: float | None,
        attempts: list[Attempt],
    ) -> tuple[str, Any]:
        options = self.options
        timeout = timeout_s or options.timeout_s
        last_reason = "no model was tried"
        for position, model in enumerate(chain):
            for attempt_no in range(options.max_attempts_per_model):
                try:
                    sent = await self._send(
                        model, messages, params, attribution, max_tokens, timeout
                    )
                except BudgetExceeded as exc:
                    exc.attempts = tuple(attempts)
                    await self.metrics.call(attribution, model, "stopped")
                    raise
                attempts.append(sent.attempt)
                if sent.failure is None:
                    return model, sent.response
                failure = sent.failure
                last_reason = f"{model}: {failure.reason}"
                last_try = attempt_no + 1 >= options.max_attempts_per_model
                if not failure.retryable or last_try:
                    break
                delay = failure.retry_after_s
                if delay is None:
                    delay = backoff_delay(
                        attempt_no, options.backoff_base_s, options.backoff_max_s, self._rng
                    )
                elif delay > options.max_retry_after_s:
                    break  # the provider asks for a long pause: the fallback answers sooner
                log.info(
                    "lumen.llm.retry",
                    model=model,
                    reason=failure.reason,
                    delay_s=round(delay, 3),
                    **_ids(attribution),
                )
                await self._sleep(delay)
            if position + 1 < len(chain):
                log.warning(
                    "lumen.llm.fallback",
                    model=model,
                    to=chain[position + 1],
                    reason=last_reason,
                    **_ids(attribution),
                )
        raise LLMUnavailable(chain, last_reason, attempts=tuple(attempts))

    async def _send(
        self,
        model: str,
        messages: Messages,
        params: dict[str, Any],
        attribution: Attribution,
        max_tokens: int | None,
        timeout: float,
    ) -> _Sent:
        """One request: reserve, call under the model's slot limit, settle."""
        lm = litellm()
        max_tokens = max_tokens or self.options.max_output_tokens
        # The prompt in the model's own tokens, and the whole output cap: the most it may bill.
        prompt_estimate = prompt_tokens_for_budget(model, messages, params.get("tools"))
        simulated = self.options.simulated_offline_prices
        estimate = costs.estimate_cost(lm, model, prompt_estimate, max_tokens, simulated=simulated)
        # A free model has nothing to reserve: check the budget, and write one settled row after.
        free = is_offline(model) and estimate == 0
        if free:
            await self.ledger.check(attribution, model, estimate)
            spend_id, reserved = None, Decimal(0)
        else:
            spend_id, reserved = await self._reserve(attribution, model, estimate, timeout)

        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "timeout": timeout,
            "num_retries": 0,  # retries are ours: see _call_chain
            "max_retries": 0,
            "drop_params": True,  # a provider without tool_choice still gets the tools
            **params,
        }
        if self.options.api_base and not is_offline(model):
            kwargs["api_base"] = self.options.api_base

        started = time.monotonic()
        response, failure, sent = None, None, False
        try:
            async with self._slot(model):
                started, sent = time.monotonic(), True
                response = await asyncio.wait_for(
                    lm.acompletion(**kwargs), timeout + _TIMEOUT_GRACE_S
                )
        except asyncio.CancelledError:
            # Cut off (a stop): the provider bills what it received, by an amount we will never
            # see, so a sent request is booked at its reservation, the most it could cost.
            booked = reserved if sent and spend_id is not None else Decimal(0)
            await asyncio.shield(self._settle(spend_id, attribution, model, 0, 0, booked, _since(started)))
            await asyncio.shield(self.metrics.call(attribution, model, "cut_off", cost_usd=booked))
            log.warning("lumen.llm.call_cut_off", model=model, booked_usd=str(booked), **_ids(attribution))
            raise
        except Exception as exc:
            failure = classify(exc, timeout)
        latency_ms = _since(started)  # measured once: the attempt and the ledger say the same

        if failure is not None:
            spend_id = await self._settle(spend_id, attribution, model, 0, 0, Decimal(0), latency_ms)
            await self.metrics.call(attribution, model, "failed")
            log.info(
                "lumen.llm.call_failed",
                model=model,
                reason=failure.reason,
                latency_ms=latency_ms,
                **_ids(attribution),
            )
            return _Sent(
                Attempt(model, False, failure.reason, latency_ms, spend_id=spend_id),
                failure=failure,
            )

        prompt_tokens, completion_tokens = costs.usage_tokens(response)
        cost = costs.response_cost(lm, model, response, simulated=simulated)
        if spend_id is not None and cost > reserved:
            # Settled at what was billed: the next reservation pays for the difference first,
            # and the model's calibration now covers it.
            log.warning(
                "lumen.llm.overage", model=model, reserved_usd=str(reserved), billed_usd=str(cost), **_ids(attribution)
            )
        spend_id = await self._settle(spend_id, attribution, model, prompt_tokens, completion_tokens, cost, latency_ms)
        await self.metrics.call(
            attribution, model, "answered", cost_usd=cost, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        log.info(
            "lumen.llm.call",
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=str(cost),
            latency_ms=latency_ms,
            **_ids(attribution),
        )
        attempt = Attempt(
            model, True, None, latency_ms, prompt_tokens, completion_tokens, cost, spend_id
        )
        return _Sent(attempt, response=response)

    async def _reserve(
        self, attribution: Attribution, model: str, estimate: Decimal, timeout: float
    ) -> tuple[int, Decimal]:
        """Reserve against every envelope; a model that has never billed waits for its first bill
        (at most a call's timeout: then it reserves uncalibrated)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reservation = await self.ledger.reserve_call(
                    attribution, model, estimate, probe=time.monotonic() < deadline
                )
                return reservation.spend_id, reservation.reserved_usd
            except Calibrating:
                await asyncio.sleep(_CALIBRATION_POLL_S)

    async def _settle(
        self,
        spend_id: int | None,
        attribution: Attribution,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: Decimal,
        latency_ms: int,
    ) -> int:
        """Settle the reserved row with what the call used, or write the row a free call skipped.
        The latency is the call's, measured once: the ledger and the log agree."""
        figures = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost_usd": cost,
            "latency_ms": latency_ms,
        }
        if spend_id is None:
            return await self.ledger.record(attribution, model, **figures)
        await self.ledger.settle(spend_id, **figures)
        return spend_id

    def _slot(self, model: str) -> asyncio.Semaphore:
        slot = self._slots.get(model)
        if slot is None:
            slot = self._slots[model] = asyncio.Semaphore(self.options.max_concurrency_per_model)
        return slot


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- reading responses -----------------------------------------------------------------


def _message(response: Any) -> Any:
    choices = getattr(response, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def _text(response: Any) -> str:
    message = _message(response)
    content = getattr(message, "content", None) if message is not None else None
    return content if isinstance(content, str) else ""


def _tool_calls(response: Any) -> list[dict[str, Any]]:
    message = _message(response)
    calls = getattr(message, "tool_calls", None) or []
    plain = []
    for call in calls:
        function = getattr(call, "function", None)
        plain.append(
            {
                "id": getattr(call, "id", None) or "call_0",
                "type": "function",
                "function": {
                    "name": getattr(function, "name", None),
                    "arguments": getattr(function, "arguments", None),
                },
            }
        )
    return plain


def _tool_call(response: Any, names: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first call of one of the offered tools."""
    return next((c for c in _tool_calls(response) if c["function"]["name"] in names), None)


def _correction(response: Any, wanted: str, reason: str) -> Messages:
    """The refused answer, then what was wrong with it, in the shape providers accept."""
    instruction = (
        f"That was refused: {reason}. Call {wanted} again, once, with arguments that "
        "match its JSON schema exactly."
    )
    calls = _tool_calls(response)
    if not calls:
        return [
            {"role": "assistant", "content": _text(response) or "(no answer)"},
            {"role": "user", "content": instruction},
        ]
    # Every tool call must be answered by a tool message before the model may speak again.
    return [
        {"role": "assistant", "content": _text(response) or None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": instruction} for c in calls),
    ]


def _ids(attribution: Attribution) -> dict[str, Any]:
    return {
        "run_id": attribution.run_id,
        "agent_id": attribution.agent_id,
        "venture_id": attribution.venture_id,
        "purpose": attribution.purpose,
    }
