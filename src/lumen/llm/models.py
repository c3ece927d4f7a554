"""Model tiers: `fast` and `strong`, each a primary model and its fallbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lumen.errors import ConfigError
from lumen.settings import OFFLINE_MODEL

if TYPE_CHECKING:
    from lumen.settings import Settings

Tier = Literal["fast", "strong"]
OFFLINE_PROVIDER = OFFLINE_MODEL.split("/", 1)[0]


def parse_model_list(value: str, source: str = "model list") -> tuple[str, ...]:
    """`"openai/gpt-4o, anthropic/claude-3-5-sonnet"` → primary first, then fallbacks."""
    models: list[str] = []
    for name in value.split(","):
        name = name.strip()
        if name and name not in models:
            models.append(name)
    if not models:
        raise ConfigError(f"{source} names no model; use litellm names like openai/gpt-4o-mini")
    return tuple(models)


def is_offline(model: str) -> bool:
    return model.split("/", 1)[0] == OFFLINE_PROVIDER


@dataclass(frozen=True)
class ModelTiers:
    fast: tuple[str, ...] = (OFFLINE_MODEL,)
    strong: tuple[str, ...] = (OFFLINE_MODEL,)

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelTiers:
        return cls(
            fast=parse_model_list(settings.model_fast, "LUMEN_MODEL_FAST"),
            strong=parse_model_list(settings.model_strong, "LUMEN_MODEL_STRONG"),
        )

    def chain(self, tier: Tier, override: str | None = None) -> tuple[str, ...]:
        """The models to try in order; an override (a run's model_override) replaces the tier."""
        if override:
            return parse_model_list(override, "model override")
        if tier == "fast":
            return self.fast
        if tier == "strong":
            return self.strong
        raise ValueError(f"unknown model tier {tier!r}; use 'fast' or 'strong'")
