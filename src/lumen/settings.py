"""Every environment variable Lumen reads, in one pydantic-settings class.

The variable names are a contract with operators and scripts: keep them stable. Nothing
else in Lumen reads the environment (a test holds us to it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lumen.errors import ConfigError

OFFLINE_MODEL = "lumen-offline/playbook"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///lumen.db"


class Settings(BaseSettings):
    """Everything Lumen reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="LUMEN_DATABASE_URL")
    config_path: Path = Field(default=Path("lumen.yml"), validation_alias="LUMEN_CONFIG")
    port: int = Field(default=3000, ge=0, le=65535, validation_alias="LUMEN_PORT")
    host: str = Field(default="0.0.0.0", validation_alias="LUMEN_HOST")
    model_fast: str = Field(default=OFFLINE_MODEL, validation_alias="LUMEN_MODEL_FAST")
    model_strong: str = Field(default=OFFLINE_MODEL, validation_alias="LUMEN_MODEL_STRONG")
    # An OpenAI-compatible endpoint (a proxy, vLLM, a test stub) for every non-offline model.
    model_api_base: str | None = Field(default=None, validation_alias="LUMEN_MODEL_API_BASE")
    llm_timeout_s: float = Field(default=60.0, gt=0, validation_alias="LUMEN_LLM_TIMEOUT")
    llm_max_attempts: int = Field(default=3, gt=0, validation_alias="LUMEN_LLM_MAX_ATTEMPTS")
    llm_concurrency: int = Field(default=8, gt=0, validation_alias="LUMEN_LLM_CONCURRENCY")
    # Caps each answer, and bounds the cost reserved against the budget before the call.
    llm_max_tokens: int = Field(default=2048, gt=0, validation_alias="LUMEN_LLM_MAX_TOKENS")
    # An agent's decision context is trimmed to this many tokens of its model, at any age.
    context_tokens: int = Field(default=6000, ge=1000, validation_alias="LUMEN_CONTEXT_TOKENS")
    # Price the offline model at a simulated table (on in `lumen dev`): costs show, no money spent.
    offline_simulated_prices: bool = Field(default=False, validation_alias="LUMEN_OFFLINE_SIMULATED_PRICES")
    # Bearer token for POST /api/outcomes; the endpoint refuses every request while unset.
    api_token: str | None = Field(default=None, validation_alias="LUMEN_API_TOKEN")
    # Per person and minute, across replicas: commands (answered after the ack) and questions.
    commands_per_minute: int = Field(default=30, gt=0, validation_alias="LUMEN_COMMANDS_PER_MINUTE")
    questions_per_minute: int = Field(default=10, gt=0, validation_alias="LUMEN_QUESTIONS_PER_MINUTE")
    # Runaway guards for agents woken by events (lumen.yml `triggers:`): how deep a chain of
    # `after:` wake-ups may go, and how many runs an agent may start an hour (lumen.yml
    # `triggers.max_runs_per_hour` overrides it per agent).
    chain_depth: int = Field(default=3, ge=0, le=50, validation_alias="LUMEN_CHAIN_DEPTH")
    agent_runs_per_hour: int = Field(default=12, gt=0, validation_alias="LUMEN_AGENT_RUNS_PER_HOUR")
    # A thread's replies within this many seconds of each other wake its agent once.
    conversation_quiet_s: float = Field(default=3.0, ge=0, le=300, validation_alias="LUMEN_CONVERSATION_QUIET_S")
    # Unset: servers log at info, one-shot commands at warning (their output is the answer).
    log_level: str | None = Field(default=None, validation_alias="LUMEN_LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(default="console", validation_alias="LUMEN_LOG_FORMAT")

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def normalized_database_url(self) -> str:
        return normalize_database_url(self.database_url)

    def chose(self, field: str) -> bool:
        """Did the operator set this field (in the environment, or by a command-line option)?"""
        return field in self.model_fields_set


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus explicit overrides; a bad value names its variable."""
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"])
            lines.append(f"{variable}={error.get('input')!r}: {error['msg']}")
        raise ConfigError("environment: " + "; ".join(lines)) from None
    updates = {key: value for key, value in overrides.items() if value is not None}
    return settings.model_copy(update=updates) if updates else settings


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `sqlite:///x.db`) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url
