"""What wakes an agent besides its schedule, as declared in lumen.yml, and the pure rules
behind trigger keys. No I/O: the agents feature and the API act on these.

    triggers:
      after: [ceo]                 # when the ceo's run ends well (a chain)
      on_outcome: true             # when an outcome is recorded for the venture
      webhook: true                # POST /api/triggers/<venture>/<role>
      when: {new_outcomes: 1}      # scheduled wake-ups only when this holds (else skipped)
      max_runs_per_hour: 6         # this agent's ceiling (default: LUMEN_AGENT_RUNS_PER_HOUR)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ROLE = r"^[a-z][a-z0-9_-]{1,30}$"
# Without an Idempotency-Key, the same webhook body within this window (and the one before) is one run.
WEBHOOK_WINDOW_SECONDS = 300
# What the agent is shown of a trigger's input (the run keeps all of it).
SHOWN_INPUT_CHARS = 4000


class Conditions(BaseModel):
    """`when:` — every condition given must hold at the scheduled time, or the wake-up is skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_outcomes: int | None = Field(default=None, ge=1, description="At least this many outcomes recorded for the venture since the agent's last run.")
    new_decisions: int | None = Field(default=None, ge=1, description="At least this many decisions by the venture's other agents since the agent's last run.")

    @property
    def empty(self) -> bool:
        return self.new_outcomes is None and self.new_decisions is None


class TriggersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after: tuple[str, ...] = ()
    on_outcome: bool = False
    webhook: bool = False
    when: Conditions | None = None
    max_runs_per_hour: int | None = Field(default=None, ge=1, le=3600)

    @field_validator("after", mode="before")
    @classmethod
    def _one_role_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("after")
    @classmethod
    def _roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for role in value:
            if not re.match(ROLE, role):
                raise ValueError(f"{role!r} is not an agent role")
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        # `when: new_outcomes` means at least one.
        if isinstance(value, str):
            return {value: 1}
        if isinstance(value, list):
            return {name: 1 for name in value}
        return value


@dataclass(frozen=True)
class TriggerLimits:
    """The runaway guards: how deep a chain may go, and how many runs an agent may start an hour."""

    max_depth: int = 3
    runs_per_hour: int = 12

    def ceiling(self, triggers: dict[str, Any] | None) -> int:
        own = (triggers or {}).get("max_runs_per_hour")
        return int(own) if own else self.runs_per_hour


def chain_key(venture: str, role: str, upstream_run_id: int) -> str:
    return f"after:{venture}/{role}:{upstream_run_id}"


def outcome_key(venture: str, role: str, outcome_id: int) -> str:
    return f"outcome:{venture}/{role}:{outcome_id}"


def webhook_keys(venture: str, role: str, body: dict[str, Any], idempotency_key: str | None, now: datetime) -> tuple[str, ...]:
    """The key of a webhook call, first, then any older key that counts as the same call.

    With an `Idempotency-Key` header, that key. Without, a hash of the body and a time window:
    the same body again within the window, or the window before it, is the same call.
    """
    prefix = f"webhook:{venture}/{role}:"
    if idempotency_key:
        return (prefix + "key:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40],)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]
    window = int(now.astimezone(timezone.utc).timestamp()) // WEBHOOK_WINDOW_SECONDS
    return (f"{prefix}body:{digest}:{window}", f"{prefix}body:{digest}:{window - 1}")


def unstorable(value: Any) -> str | None:
    """What in a decoded JSON body no database keeps (NaN, a NUL, half a surrogate pair), or None."""
    try:
        return _unstorable(value, "body")
    except RecursionError:
        return "body: nested too deep"


def _unstorable(value: Any, where: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: {value} is not a number JSON keeps"
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where}: a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where}: an unpaired surrogate"
    if isinstance(value, dict):
        for key, item in value.items():
            if (problem := _unstorable(key, where) or _unstorable(item, f"{where}.{key}"[:200])) is not None:
                return problem
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (problem := _unstorable(item, f"{where}[{index}]"[:200])) is not None:
                return problem
    return None


def shown_input(value: Any, limit: int = SHOWN_INPUT_CHARS) -> Any:
    """A trigger's input as the agent sees it: whole when short, else its JSON cut short."""
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) <= limit:
        return value
    return text[:limit] + f"… ({len(text) - limit} more characters)"
