"""Settings from the environment, and the declarative `lumen.yml`.

The environment variable names are a contract with operators and scripts:
keep them stable.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from lumen.errors import ConfigError

OFFLINE_MODEL = "lumen-offline/playbook"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Everything Lumen reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    database_url: str = Field(
        default="sqlite+aiosqlite:///lumen.db", validation_alias="LUMEN_DATABASE_URL"
    )
    config_path: Path = Field(default=Path("lumen.yml"), validation_alias="LUMEN_CONFIG")
    port: int = Field(default=3000, validation_alias="LUMEN_PORT")
    host: str = Field(default="0.0.0.0", validation_alias="LUMEN_HOST")
    model_fast: str = Field(default=OFFLINE_MODEL, validation_alias="LUMEN_MODEL_FAST")
    model_strong: str = Field(default=OFFLINE_MODEL, validation_alias="LUMEN_MODEL_STRONG")
    # Bearer token for POST /api/outcomes; the endpoint refuses every request while unset.
    api_token: str | None = Field(default=None, validation_alias="LUMEN_API_TOKEN")
    log_level: str = Field(default="info", validation_alias="LUMEN_LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(
        default="console", validation_alias=AliasChoices("LUMEN_LOG_FORMAT")
    )

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def normalized_database_url(self) -> str:
        return normalize_database_url(self.database_url)


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `sqlite:///x.db`) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


# --- lumen.yml ---------------------------------------------------------------

SLUG = r"^[a-z][a-z0-9-]{1,38}$"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_REF = re.compile(r"^(#[a-z0-9._-]+|[CG][A-Z0-9]{2,})$")

STANDARD_GATE_CATEGORIES = (
    "pricing_change",
    "stage_transition",
    "customer_commitment",
    "resource_allocation",
    "new_dependency",
    "security",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlaybookAction(_Strict):
    """One move an agent may make; the offline model plays these in order."""

    title: str = Field(min_length=3, max_length=150)
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    rationale: str = Field(default="", max_length=2000)
    expected_effect: str = Field(default="", max_length=500)
    amount_usd: Decimal | None = Field(default=None, ge=0)
    role: str | None = Field(default=None, description="Only this role plays the action.")


class AgentConfig(_Strict):
    role: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    schedule: str = Field(description="Five-field cron, in the venture's time zone.")
    model_tier: Literal["fast", "strong"] = "strong"
    budget_usd_month: Decimal = Field(default=Decimal("20"), ge=0)

    @field_validator("schedule")
    @classmethod
    def _cron_has_five_fields(cls, value: str) -> str:
        from lumen.domain.cron import validate_cron

        validate_cron(value)
        return value


class Approvers(_Strict):
    """Who may resolve a gate: user IDs, user groups, or the members of a channel."""

    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @field_validator("users")
    @classmethod
    def _users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for user in value:
            if not USER_ID.match(user):
                raise ValueError(f"{user!r} is not a Slack user ID (like U0123ABCD)")
        return value

    @field_validator("usergroups")
    @classmethod
    def _groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if not USERGROUP_ID.match(group):
                raise ValueError(f"{group!r} is not a Slack user group ID (like S0123ABCD)")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for channel in value:
            if not CHANNEL_REF.match(channel):
                raise ValueError(f"{channel!r} is neither #channel-name nor a channel ID")
        return value

    @property
    def empty(self) -> bool:
        return not (self.users or self.usergroups or self.channels)


def _coerce_approvers(value: object) -> object:
    # A bare list of user IDs is the common case; accept it as shorthand.
    if isinstance(value, list):
        return {"users": value}
    return value


ApproversField = Annotated[Approvers, Field(default_factory=Approvers)]


class GateRule(_Strict):
    """When a decision category needs a human, and which human."""

    gated: bool = True
    above_usd: Decimal | None = Field(default=None, ge=0)
    approvers: Approvers | None = None
    quorum: int | None = Field(default=None, ge=1, le=10)
    expiry_hours: float | None = Field(default=None, gt=0)
    reminder_hours: float | None = Field(default=None, gt=0)
    on_expiry: Literal["reject", "escalate"] | None = None
    backup_approvers: Approvers | None = None

    _coerce = field_validator("approvers", "backup_approvers", mode="before")(
        lambda cls, v: _coerce_approvers(v)
    )


class GatePolicyConfig(_Strict):
    approvers: Approvers = Field(default_factory=Approvers)
    quorum: int = Field(default=1, ge=1, le=10)
    expiry_hours: float = Field(default=72, gt=0)
    reminder_hours: float = Field(default=24, gt=0)
    on_expiry: Literal["reject", "escalate"] = "reject"
    backup_approvers: Approvers = Field(default_factory=Approvers)
    categories: dict[str, GateRule] = Field(default_factory=dict)

    _coerce = field_validator("approvers", "backup_approvers", mode="before")(
        lambda cls, v: _coerce_approvers(v)
    )


class VentureConfig(_Strict):
    slug: str
    name: str = Field(min_length=1, max_length=80)
    stage: str = Field(default="idea", pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    channel: str = Field(pattern=r"^#?[a-z0-9][a-z0-9._-]{0,79}$")
    timezone: str = "UTC"
    private: bool = False
    aliases: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    playbook: tuple[PlaybookAction, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    gates: dict[str, GateRule] = Field(default_factory=dict)
    # The weekly brain synthesis, in the venture's time zone (default: Monday 06:00).
    synthesis_schedule: str = "0 6 * * 1"

    @field_validator("synthesis_schedule")
    @classmethod
    def _synthesis_cron(cls, value: str) -> str:
        from lumen.domain.cron import validate_cron

        validate_cron(value)
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.match(SLUG, value):
            raise ValueError(
                f"{value!r} is not a valid slug: use 2-39 lowercase letters, digits or dashes, "
                "starting with a letter (like acme or bright-box)"
            )
        return value

    @field_validator("channel")
    @classmethod
    def _strip_hash(cls, value: str) -> str:
        return value.lstrip("#")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)")
        return value

    @model_validator(mode="after")
    def _unique_roles(self) -> VentureConfig:
        roles = [agent.role for agent in self.agents]
        duplicates = sorted({role for role in roles if roles.count(role) > 1})
        if duplicates:
            raise ValueError(f"agent roles must be unique within a venture: {duplicates}")
        return self


class WorkspaceConfig(_Strict):
    timezone: str = "UTC"
    platform_channel: str = "lumen-platform"
    # The cross-venture synthesis, in the workspace's time zone (default: Monday 07:00).
    platform_synthesis_schedule: str = "0 7 * * 1"

    _tz = field_validator("timezone")(lambda cls, v: VentureConfig._known_zone(v))


class LumenConfig(_Strict):
    version: Literal[1] = 1
    workspace: WorkspaceConfig = Field(default_factory=WorkspaceConfig)
    gates: GatePolicyConfig = Field(default_factory=GatePolicyConfig)
    ventures: tuple[VentureConfig, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _empty_sections_are_defaults(cls, data: object) -> object:
        # `gates:` with nothing under it parses as None; treat it as "use the defaults".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> LumenConfig:
        slugs = [v.slug for v in self.ventures]
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"venture slugs must be unique: {dupes}")
        channels = [v.channel for v in self.ventures]
        dupes = sorted({c for c in channels if channels.count(c) > 1})
        if dupes:
            raise ValueError(f"each venture needs its own channel: {dupes}")
        self._check_gates_have_approvers()
        return self

    def _check_gates_have_approvers(self) -> None:
        from lumen.domain.gates import effective_rules

        for venture in self.ventures:
            for category, rule in effective_rules(self.gates, venture.gates).items():
                if rule.gated and rule.approvers.empty:
                    raise ValueError(
                        f"venture {venture.slug!r}: gate {category!r} has no approver; "
                        "name users, usergroups or channels under gates.approvers "
                        f"or gates.categories.{category}.approvers"
                    )

    def venture(self, slug: str) -> VentureConfig | None:
        return next((v for v in self.ventures if v.slug == slug), None)


def _format_location(loc: tuple[object, ...], raw: object) -> str:
    """Turn pydantic's location into a readable path, naming ventures by slug."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            element = node[item] if item < len(node) else None
            slug = element.get("slug") if isinstance(element, dict) else None
            role = element.get("role") if isinstance(element, dict) else None
            label = slug or role
            parts[-1 if parts else 0 :] = [
                f"{parts[-1] if parts else ''}[{item}{'=' + label if label else ''}]"
            ]
            node = element
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_config(text: str, source: str = "lumen.yml") -> LumenConfig:
    """Parse and validate; errors name the file, the field and what is wrong."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with a 'ventures' list")
    try:
        return LumenConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {_format_location(error['loc'], raw)}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: Path) -> LumenConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file. Run `lumen init` to write an example, "
            "or point LUMEN_CONFIG at your lumen.yml."
        ) from None
    return parse_config(text, source=str(path))
