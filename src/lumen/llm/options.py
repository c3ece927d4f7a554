"""How the gateway calls models: endpoint, timeouts, retries, concurrency.

Read from the environment (names below) so operators can tune them without code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from lumen.errors import ConfigError

# Environment variable → field. Keep the names stable: they are documented for operators.
ENV = {
    "LUMEN_MODEL_API_BASE": "api_base",
    "LUMEN_LLM_TIMEOUT": "timeout_s",
    "LUMEN_LLM_MAX_ATTEMPTS": "max_attempts_per_model",
    "LUMEN_LLM_CONCURRENCY": "max_concurrency_per_model",
    "LUMEN_LLM_MAX_TOKENS": "max_output_tokens",
}


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayOptions:
        environ = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for var, name in ENV.items():
            raw = environ.get(var, "").strip()
            if not raw:
                continue
            kind = types[name]
            try:
                values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
            except ValueError:
                raise ConfigError(f"{var}={raw!r} is not a number") from None
            if kind in ("int", "float") and values[name] <= 0:  # type: ignore[operator]
                raise ConfigError(f"{var} must be greater than 0, got {raw}")
        return cls(**values)  # type: ignore[arg-type]
