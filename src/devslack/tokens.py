"""Short-lived credentials Slack hands to the app: trigger ids and response URLs."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from .ids import trigger_id as new_trigger_id


class TriggerError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class _Trigger:
    user_id: str
    issued: float
    used: bool = False
    source_style: str | None = None  # the style of the button whose click issued it


class TriggerIds:
    """Trigger ids: valid ``ttl`` seconds (Slack: 3 s) and exchangeable once."""

    def __init__(self, ttl: float = 3.0) -> None:
        self.ttl = ttl
        self._issued: dict[str, _Trigger] = {}

    def issue(self, user_id: str, *, source_style: str | None = None) -> str:
        tid = new_trigger_id()
        self._issued[tid] = _Trigger(user_id, time.monotonic(), source_style=source_style)
        return tid

    def source_style(self, trigger_id: str | None) -> str | None:
        trig = self._issued.get(trigger_id or "")
        return trig.source_style if trig else None

    def exchange(self, trigger_id: str | None) -> str:
        """Consume a trigger id and return its user id, or raise TriggerError with Slack's error code."""
        trig = self._issued.get(trigger_id or "")
        if trig is None:
            raise TriggerError("invalid_trigger_id")
        if trig.used:
            raise TriggerError("exchanged_trigger_id")
        if time.monotonic() - trig.issued > self.ttl:
            raise TriggerError("expired_trigger_id")
        trig.used = True
        return trig.user_id


@dataclass
class ResponseUrl:
    token: str
    user_id: str
    channel_id: str
    issued: float
    source_ts: str | None = None  # the message whose button was clicked (block_actions)
    source_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0
    log: list[dict] = field(default_factory=list)  # every payload posted to it (for assertions)


class ResponseUrls:
    """response_url tokens: Slack allows 5 uses within 30 minutes."""

    def __init__(self, max_uses: int = 5, ttl: float = 30 * 60) -> None:
        self.max_uses, self.ttl = max_uses, ttl
        self.by_token: dict[str, ResponseUrl] = {}

    def issue(self, user_id: str, channel_id: str, **kw) -> ResponseUrl:
        token = f"T0DEV/{secrets.randbelow(10**12)}/{secrets.token_urlsafe(18)}"
        ru = ResponseUrl(token=token, user_id=user_id, channel_id=channel_id, issued=time.monotonic(), **kw)
        self.by_token[token] = ru
        return ru

    def use(self, token: str) -> ResponseUrl:
        """Count one use; raise TriggerError-like errors Slack answers with HTTP 404."""
        ru = self.by_token.get(token)
        if ru is None:
            raise TriggerError("invalid_url")
        if time.monotonic() - ru.issued > self.ttl:
            raise TriggerError("expired_url")
        if ru.uses >= self.max_uses:
            raise TriggerError("used_url")
        ru.uses += 1
        return ru
