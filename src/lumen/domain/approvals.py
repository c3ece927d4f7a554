"""Pure rules for approvals: quorum, expiry, reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Tally:
    approvals: int
    rejections: int
    quorum: int

    @property
    def approved(self) -> bool:
        return self.approvals >= self.quorum

    @property
    def rejected(self) -> bool:
        # One rejection is a veto: a human who says no must not be outvoted silently.
        return self.rejections > 0

    @property
    def missing(self) -> int:
        return max(0, self.quorum - self.approvals)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


def next_reminder(last: datetime, every_hours: float, expires_at: datetime) -> datetime | None:
    """When to remind next; None when the gate expires before then."""
    upcoming = last + timedelta(hours=every_hours)
    return upcoming if upcoming < expires_at else None
