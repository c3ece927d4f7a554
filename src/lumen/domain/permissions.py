"""Who may do what to a venture's agents: the permission rules of lumen.yml. Pure rules.

Each action names who may take it: `admins` (the workspace's Lumen admins), `approvers` (the
venture's gate approvers), `members` (the members of the venture's channel), `everyone`, or
Slack user IDs. A venture may set its own list for an action; the platform's list is the
default. Reading an answer (status, brain, Ask) is a matter of privacy, not of permission.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

Action = Literal["pause", "resume", "wake", "force", "outcomes"]
ACTIONS: tuple[Action, ...] = ("pause", "resume", "wake", "force", "outcomes")
GROUPS = ("admins", "approvers", "members", "everyone")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")

# Resuming resets the circuit breaker and forcing wakes a paused agent: both are for the
# people who answer for the venture. Pausing, waking and reporting outcomes are for its team.
DEFAULTS: dict[Action, tuple[str, ...]] = {
    "pause": ("admins", "approvers", "members"),
    "resume": ("admins", "approvers"),
    "wake": ("admins", "approvers", "members"),
    "force": ("admins",),
    "outcomes": ("admins", "approvers", "members"),
}
_NAMES = {"admins": "Lumen's admins", "approvers": "{venture}'s approvers", "members": "the members of #{channel}", "everyone": "everyone"}
_VERBS: dict[Action, str] = {
    "pause": "pause", "resume": "resume", "wake": "wake", "force": "force a wake-up of", "outcomes": "record outcomes for",
}


def _who(value: tuple[str, ...]) -> tuple[str, ...]:
    for entry in value:
        if entry not in GROUPS and not _USER.match(entry):
            raise ValueError(f"{entry!r} is neither one of {', '.join(GROUPS)} nor a Slack user ID (like U0123ABCD)")
    return value


class PermissionRules(BaseModel):
    """`permissions:` in lumen.yml, for the platform or one venture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admins: tuple[str, ...] = ()  # the platform's only: user IDs
    pause: tuple[str, ...] | None = None
    resume: tuple[str, ...] | None = None
    wake: tuple[str, ...] | None = None
    force: tuple[str, ...] | None = None
    outcomes: tuple[str, ...] | None = None

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for user in value:
            if not _USER.match(user):
                raise ValueError(f"{user!r} is not a Slack user ID (like U0123ABCD)")
        return value

    _check = field_validator("pause", "resume", "wake", "force", "outcomes")(lambda cls, v: v if v is None else _who(v))


def who_may(action: Action, platform: PermissionRules, venture: PermissionRules | None = None) -> tuple[str, ...]:
    """The groups and users allowed `action`: the venture's list, else the platform's, else the default."""
    for rules in (venture, platform):
        chosen = getattr(rules, action) if rules is not None else None
        if chosen is not None:
            return chosen
    return DEFAULTS[action]


def refusal(action: Action, allowed: tuple[str, ...], venture: str, channel: str) -> str:
    """Who may, said plainly (no mentions: it is shown to the one refused, and escaped)."""
    names = [_NAMES[g].format(venture=venture, channel=channel) for g in allowed if g in _NAMES]
    people = [u for u in allowed if u not in _NAMES]
    if people:
        names.append(f"{len(people)} named {'person' if len(people) == 1 else 'people'}")
    listed = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1] if names else "nobody"
    return f"Only {listed} may {_VERBS[action]} {venture}'s agents."
