"""What the gateway raises. Messages are written for the operator who reads a failed run."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from lumen.errors import LumenError

if TYPE_CHECKING:
    from lumen.domain.budgets import Envelope
    from lumen.llm.result import Attempt


class LLMError(LumenError):
    """A model call did not produce a usable answer."""

    def __init__(self, message: str, *, attempts: tuple[Attempt, ...] = ()) -> None:
        super().__init__(message)
        # The calls made before giving up: the journal records them and their cost.
        self.attempts = attempts

    @property
    def cost_usd(self) -> Decimal:
        return sum((a.cost_usd for a in self.attempts), Decimal(0))


class LLMUnavailable(LLMError):
    """Every model of the tier failed after its retries."""

    def __init__(
        self, models: tuple[str, ...], last_reason: str, *, attempts: tuple[Attempt, ...] = ()
    ) -> None:
        self.models = models
        self.last_reason = last_reason
        super().__init__(
            f"No model answered: tried {', '.join(models)} ({len(attempts)} calls). "
            f"Last error: {last_reason}. Check the provider's status, the API key "
            "variable and LUMEN_MODEL_API_BASE, or add a fallback model to the tier.",
            attempts=attempts,
        )


class InvalidModelOutput(LLMError):
    """The model kept answering with something the schema refuses; nothing was stored."""

    def __init__(
        self,
        model: str,
        tool_name: str,
        reason: str,
        *,
        raw: str | None,
        attempts: tuple[Attempt, ...] = (),
    ) -> None:
        self.model = model
        self.tool_name = tool_name
        self.reason = reason
        self.raw = raw
        super().__init__(
            f"{model} did not return valid `{tool_name}` arguments after "
            f"{len(attempts)} calls: {reason}",
            attempts=attempts,
        )


class BudgetExceeded(LLMError):
    """An envelope (the agent's, its venture's or the platform's) would be exceeded; the
    model was not called."""

    def __init__(
        self,
        envelope: Envelope,
        spent_usd: Decimal,
        estimate_usd: Decimal,
        model: str,
        *,
        attempts: tuple[Attempt, ...] = (),
    ) -> None:
        self.envelope = envelope
        self.agent_id = envelope.subject_id if envelope.scope == "agent" else None
        self.budget_usd = envelope.limit_usd
        self.spent_usd = spent_usd
        self.estimate_usd = estimate_usd
        self.model = model
        who = {"agent": "Agent", "venture": "Venture"}.get(envelope.scope)
        subject = f"{who} {envelope.subject_id}" if who else "The platform"
        field = {
            "agent": "the agent's budget_usd_",
            "venture": "the venture's budget_usd_",
            "platform": "workspace.budget_usd_",
        }[envelope.scope] + envelope.period
        super().__init__(
            f"{subject} would exceed its {'monthly' if envelope.period == 'month' else 'daily'} budget: ${spent_usd:.4f} spent or "
            f"reserved this {envelope.period} (UTC) + ${estimate_usd:.4f} estimated for {model} > "
            f"${envelope.limit_usd:.2f}. The model was not called. Raise {field} in "
            f"lumen.yml, or wait for next {envelope.period}.",
            attempts=attempts,
        )

    @property
    def pauses_agent(self) -> bool:
        """Only the agent's own monthly envelope pauses it; the rest reopen by themselves
        (a new day) or are not the agent's to answer for (its venture's, the platform's)."""
        return self.envelope.scope == "agent" and self.envelope.period == "month"
