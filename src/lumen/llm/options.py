"""How the gateway calls models: endpoint, timeouts, retries, concurrency.

Operators tune these through `Settings` (the `LUMEN_LLM_*` and `LUMEN_MODEL_API_BASE`
variables); tests build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lumen.settings import Settings


@dataclass(frozen=True)
class GatewayOptions:
    # An OpenAI-compatible endpoint (a proxy, vLLM, a test stub) for every non-offline model.
    api_base: str | None = None
    timeout_s: float = 60.0
    max_attempts_per_model: int = 3
    max_concurrency_per_model: int = 8
    # Caps each answer, and bounds the cost reserved against the budget before the call.
    max_output_tokens: int = 2048
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    # A Retry-After longer than this moves on to the fallback model instead of waiting.
    max_retry_after_s: float = 60.0
    # Price the offline model at its simulated table (lumen dev), so costs can be seen working.
    simulated_offline_prices: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayOptions:
        return cls(
            api_base=settings.model_api_base or None,
            timeout_s=settings.llm_timeout_s,
            max_attempts_per_model=settings.llm_max_attempts,
            max_concurrency_per_model=settings.llm_concurrency,
            max_output_tokens=settings.llm_max_tokens,
            simulated_offline_prices=settings.offline_simulated_prices,
        )
