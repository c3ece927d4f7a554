"""The `lumen.yml` schema: ventures, agents, playbooks and the gate policy. Pure validation.

Reading the file is `lumen.config`'s job; here a mapping becomes typed, frozen models or
a pydantic ValidationError that names the field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from lumen.domain.cron import validate_cron
from lumen.domain.permissions import PermissionRules
from lumen.domain.routing import RoutingPolicy
from lumen.domain.triggers import TriggersConfig

SLUG = r"^[a-z][a-z0-9-]{1,38}$"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_REF = re.compile(r"^(#[a-z0-9._-]+|[CG][A-Z0-9]{2,})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlaybookAction(_Strict):
    """One move an agent may make: once (a launch), or again and again (`repeatable`, a test)."""

    title: str = Field(min_length=3, max_length=150)
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    rationale: str = Field(default="", max_length=2000)
    expected_effect: str = Field(default="", max_length=500)
    amount_usd: Decimal | None = Field(default=None, ge=0)
    role: str | None = Field(default=None, description="Only this role plays the action.")
    repeatable: bool = Field(default=False, description="May be made again; otherwise once.")


class VerifyByRole(_Strict):
    """`verify: {role: cfo}`: another of the venture's roles checks this agent's proposals."""

    role: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")


class AgentConfig(_Strict):
    role: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    schedule: str = Field(description="Five-field cron, in the venture's time zone.")
    model_tier: Literal["fast", "strong"] = "strong"
    budget_usd_month: Decimal = Field(default=Decimal("20"), ge=0)
    # Optional: a daily envelope too, so one bad day cannot spend the month.
    budget_usd_day: Decimal | None = Field(default=None, ge=0)
    # Which tier each wake-up's decision takes (domain.routing); None: the workspace's policy.
    routing: RoutingPolicy | None = None
    # Event and conditional wake-ups besides the schedule (domain/triggers.py).
    triggers: TriggersConfig = Field(default_factory=TriggersConfig)
    # Optional: a check of each proposal before it propagates (see domain/verdicts.py).
    verify: Literal["fast"] | VerifyByRole | None = None

    @field_validator("schedule")
    @classmethod
    def _cron_has_five_fields(cls, value: str) -> str:
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
    permissions: PermissionRules | None = None
    # Envelopes for the whole venture (every agent, its synthesis and questions), on top of
    # each agent's own; unset means only the agents' envelopes apply.
    budget_usd_month: Decimal | None = Field(default=None, ge=0)
    budget_usd_day: Decimal | None = Field(default=None, ge=0)
    # The weekly brain synthesis, in the venture's time zone (default: Monday 06:00).
    synthesis_schedule: str = "0 6 * * 1"

    @field_validator("synthesis_schedule")
    @classmethod
    def _synthesis_cron(cls, value: str) -> str:
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
        for agent in self.agents:
            unknown = sorted(set(agent.triggers.after) - set(roles))
            if unknown:
                raise ValueError(f"agent {agent.role!r}: triggers.after names no agent of this venture: {unknown}")
        return self

    @model_validator(mode="after")
    def _verifiers_exist(self) -> VentureConfig:
        roles = {agent.role for agent in self.agents}
        for agent in self.agents:
            if isinstance(agent.verify, VerifyByRole) and agent.verify.role not in roles:
                raise ValueError(
                    f"agent {agent.role}: verify.role {agent.verify.role!r} is not an agent of this venture "
                    f"(its agents: {', '.join(sorted(roles))})"
                )
        return self


class WorkspaceConfig(_Strict):
    timezone: str = "UTC"
    platform_channel: str = "lumen-platform"
    # The cross-venture synthesis, in the workspace's time zone (default: Monday 07:00).
    platform_synthesis_schedule: str = "0 7 * * 1"
    # Envelopes for every model call Lumen makes, whoever it is for.
    budget_usd_month: Decimal | None = Field(default=None, ge=0)
    budget_usd_day: Decimal | None = Field(default=None, ge=0)
    # Routing by task complexity for synthesis, Ask, and agents without their own `routing`.
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)

    _tz = field_validator("timezone")(lambda cls, v: VentureConfig._known_zone(v))
    _cron = field_validator("platform_synthesis_schedule")(lambda cls, v: validate_cron(v) or v)


class LumenConfig(_Strict):
    version: Literal[1] = 1
    workspace: WorkspaceConfig = Field(default_factory=WorkspaceConfig)
    gates: GatePolicyConfig = Field(default_factory=GatePolicyConfig)
    permissions: PermissionRules = Field(default_factory=PermissionRules)
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
        from lumen.domain.gates import effective_rules  # gates reads these models: import late

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
