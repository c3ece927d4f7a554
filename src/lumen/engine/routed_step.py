"""A model call routed by task complexity (domain.routing), as journaled steps.

With a `fixed` policy (or a run's model override) it is exactly `call_model` on the configured
tier: the same single step as before routing existed. With `auto`:

  route:<name>     which tier, and why: a rule, the fast model (a `route` call), the same
                   model on both tiers (nothing to route), or the prices (a fast try that
                   cannot pay: the fast tier over half the strong tier's price for the prompt)
  <name>:fast      the fast tier's try, kept even when it failed validation (paid is paid)
  escalate:<name>  why the fast answer was not taken (invalid, or low confidence)
  <name>           the strong tier's call, as `call_model` journals it

Every step is journaled, so a replayed run pays for none of them again, and `lumen runs show`
lists the route taken.

Why ask the fast model where the rules are unsure, rather than try it directly (a cascade)?
With p the share of those tasks the fast tier can do and a the routing call's accuracy, per
task the routing call costs r + p(1-a)(s-f) - (1-p)a·f more than the cascade (f, s, r: the
fast try, the strong call, the routing call). r is small (features, not context: ~0.2 % of the
spend), so by cost alone (p = 1/2, a = 0.8) the cascade wins once s/f is above ~5, as it is
for most tier pairs.
It is kept because of what a cascade lets through: on a hard task the fast model is sometimes
wrong *and* confident, which no validation catches, and only the routing call keeps most hard
tasks away from it. On benchmarks/routing_savings.py (seed 7, 1,000 tasks) a cascade saved 44 %
instead of 39 %, but 11 of the 73 hard tasks it kept on the fast tier were wrong: 96.6 % valid
against 97.0 % with the routing call and 97.6 % on the strong tier alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, Literal, Protocol, TypeVar, Union

from pydantic import BaseModel

from lumen.db.models import StepKind
from lumen.domain.routing import ROUTE_TASK, Route, RouteTask, RoutingPolicy, low_confidence, route_messages, too_dear_to_try
from lumen.engine.journal import StepResult
from lumen.engine.llm_step import AttemptRecord, LLMCall, call_model
from lumen.engine.runs import add_cost
from lumen.llm import Attribution, BudgetExceeded, Gateway, LLMError, Tier
from lumen.llm.costs import estimate_tokens
from lumen.log import get_logger

M = TypeVar("M", bound=BaseModel)
O = TypeVar("O", bound=BaseModel)

log = get_logger("lumen.route")


class Steps(Protocol):
    """What routing needs of a journal; `Unjournaled` stands in where there is no run (Ask)."""

    async def step(
        self,
        kind: StepKind,
        name: str,
        action: Callable[[], Awaitable[StepResult[O]]],
        output_type: type[O],
        **kwargs: Any,
    ) -> O: ...

    async def note(self, kind: StepKind, name: str, output: O) -> O: ...

    def next_recorded(self) -> str | None: ...


class Unjournaled:
    """Runs each step's action, and keeps nothing: for calls made outside any run."""

    def next_recorded(self) -> str | None:
        return None

    async def step(self, kind: StepKind, name: str, action: Callable[[], Awaitable[StepResult[O]]], output_type: type[O], **kwargs: Any) -> O:
        return (await action()).output

    async def note(self, kind: StepKind, name: str, output: O) -> O:
        return output


class RouteChoice(BaseModel):
    """The `route:<name>` step: the tier chosen for a task, by what, and why."""

    task: str
    tier: Literal["fast", "strong"]
    by: Literal["rule", "model", "same_model", "price", "fallback"]
    why: str
    model: str | None = None  # the routing call's model, when one was asked
    cost_usd: Decimal = Decimal(0)


class FastTry(BaseModel, Generic[M]):
    """The `<name>:fast` step: the fast tier's answer, or why it gave none."""

    call: LLMCall[M] | None = None
    error: str | None = None
    cost_usd: Decimal = Decimal(0)
    attempts: list[AttemptRecord] = []


class Escalation(BaseModel):
    """The `escalate:<name>` step: why the fast answer was not taken."""

    from_model: str | None = None
    reason: str


def same_model(gateway: Gateway) -> bool:
    return gateway.tiers.chain("fast")[0] == gateway.tiers.chain("strong")[0]


async def call_routed(
    steps: Steps,
    gateway: Gateway,
    *,
    policy: RoutingPolicy,
    route: Route,
    task: str,
    summary: str,
    tool_name: str,
    tool_model: type[M],
    messages: Sequence[dict[str, Any]],
    attribution: Attribution,
    fixed_tier: Tier,
    model_override: str | None = None,
    step_name: str | None = None,
    confidence: Callable[[M], float | None] = lambda value: getattr(value, "confidence", None),
    alternatives: Mapping[str, type[BaseModel]] | None = None,
) -> LLMCall[M]:
    """The call on the tier the task needs; `route` is the rules' verdict on it and `summary`
    the features the routing model reads where they are unsure. Its cost includes routing
    and any fast try that was escalated."""
    name = step_name or tool_name
    recorded = steps.next_recorded()
    # A run resumed from its journal takes the path it took then, whatever lumen.yml says now.
    fixed = recorded == name if recorded is not None else not policy.auto or bool(model_override)
    if fixed:
        return await call_model(
            steps, gateway, tool_name=tool_name, tool_model=tool_model, messages=messages,  # type: ignore[arg-type]
            tier=fixed_tier, attribution=attribution, model_override=model_override, step_name=step_name,
            alternatives=alternatives,
        )

    async def choose() -> StepResult[RouteChoice]:
        choice = await _choose(gateway, policy, route, task, summary, attribution, messages)
        return StepResult(output=choice, cost_usd=choice.cost_usd)

    choice = await steps.step(StepKind.STATE, f"route:{name}", choose, RouteChoice, run_values=lambda out: add_cost(out.cost_usd))
    log.info("lumen.route.chosen", task=task, tier=choice.tier, by=choice.by, why=choice.why, run_id=attribution.run_id)
    spent = choice.cost_usd
    if choice.tier == "fast":
        tried = await _fast_try(steps, gateway, name, tool_name, tool_model, messages, attribution, alternatives)
        spent += tried.cost_usd
        reason = tried.error or (low_confidence(confidence(tried.call.value), policy) if tried.call else "no answer")
        recorded = steps.next_recorded()
        if recorded is not None:  # replaying: escalated then, or not, whatever the floor is now
            reason = (reason or "escalated when first run") if recorded == f"escalate:{name}" else None
        if reason is None and tried.call is not None:
            return _with_cost(tried.call, spent)
        model = tried.call.model if tried.call else (tried.attempts[-1].model if tried.attempts else None)
        await steps.note(StepKind.STATE, f"escalate:{name}", Escalation(from_model=model, reason=reason or "no answer"))
        log.info("lumen.route.escalated", task=task, reason=reason, run_id=attribution.run_id)
    call = await call_model(
        steps, gateway, tool_name=tool_name, tool_model=tool_model, messages=messages,  # type: ignore[arg-type]
        tier="strong", attribution=attribution, step_name=step_name, alternatives=alternatives,
    )
    return _with_cost(call, spent)


async def _choose(
    gateway: Gateway, policy: RoutingPolicy, route: Route, task: str, summary: str, attribution: Attribution,
    messages: Sequence[dict[str, Any]],
) -> RouteChoice:
    if same_model(gateway):
        return RouteChoice(task=task, tier="strong", by="same_model", why="both tiers are the same model")
    if route.verdict != "strong" and (dear := _too_dear(gateway, messages)):
        return RouteChoice(task=task, tier="strong", by="price", why=dear)
    if route.verdict != "unsure":
        return RouteChoice(task=task, tier=route.verdict, by="rule", why=route.why)
    if not policy.ask_model:
        return RouteChoice(task=task, tier="strong", by="rule", why=f"{route.why}; the rules cannot tell")
    asked = Attribution(purpose="route", run_id=attribution.run_id, agent_id=attribution.agent_id, venture_id=attribution.venture_id)
    try:
        result = await gateway.call_tool(
            "fast", route_messages(task, summary), tool_model=RouteTask, tool_name=ROUTE_TASK,
            attribution=asked, max_invalid_retries=1, max_tokens=200,
        )
    except BudgetExceeded:
        raise
    except LLMError as exc:  # garbage or no answer: the safe side
        return RouteChoice(task=task, tier="strong", by="fallback", why=f"the routing call failed: {str(exc)[:200]}", cost_usd=exc.cost_usd)
    why = f"{route.why}; the fast model: {result.value.reason or result.value.tier}"[:500]
    return RouteChoice(task=task, tier=result.value.tier, by="model", why=why, model=result.model, cost_usd=result.cost_usd)


def _too_dear(gateway: Gateway, messages: Sequence[dict[str, Any]]) -> str | None:
    """The two tiers' prices for this prompt and the output cap the gateway reserves."""
    tokens, cap = estimate_tokens(list(messages)), gateway.options.max_output_tokens
    fast, strong = (gateway.price(gateway.tiers.chain(t)[0], tokens, cap) for t in ("fast", "strong"))  # type: ignore[arg-type]
    return too_dear_to_try(fast, strong)


async def _fast_try(
    steps: Steps, gateway: Gateway, name: str, tool_name: str, tool_model: type[M],
    messages: Sequence[dict[str, Any]], attribution: Attribution,
    alternatives: Mapping[str, type[BaseModel]] | None = None,
) -> FastTry[M]:
    values = (tool_model, *(alternatives or {}).values())
    value_type = Union[values] if len(values) > 1 else tool_model  # type: ignore[valid-type]
    output_type = FastTry[value_type]  # type: ignore[valid-type]
    call_type = LLMCall[value_type]  # type: ignore[valid-type]

    async def action() -> StepResult[FastTry[M]]:
        try:
            result = await gateway.call_tool(
                "fast", list(messages), tool_model=tool_model, tool_name=tool_name, attribution=attribution,
                max_invalid_retries=0,  # one try: a wrong answer goes to the strong tier, not back
                alternatives=alternatives,
            )
        except BudgetExceeded:
            raise
        except LLMError as exc:  # invalid output, or the fast tier down: the strong tier answers
            attempts = [AttemptRecord(**vars(a)) for a in exc.attempts]
            output = output_type(error=f"the fast tier failed: {str(exc)[:300]}", cost_usd=exc.cost_usd, attempts=attempts)
            return StepResult(output=output, cost_usd=exc.cost_usd, input={"messages": list(messages)})
        call = call_type.of(result)
        output = output_type(call=call, cost_usd=call.cost_usd, attempts=call.attempts)
        return StepResult(output=output, cost_usd=call.cost_usd, input={"messages": result.messages})

    return await steps.step(StepKind.LLM_CALL, f"{name}:fast", action, output_type, run_values=lambda out: add_cost(out.cost_usd))


def _with_cost(call: LLMCall[M], spent: Decimal) -> LLMCall[M]:
    return call.model_copy(update={"cost_usd": call.cost_usd + spent}) if spent else call
