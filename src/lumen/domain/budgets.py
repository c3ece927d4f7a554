"""Budget envelopes: which limits a call must fit, and when a warning or a stop is due. Pure.

Every call is checked against each envelope that covers it (its agent's, its venture's, the
platform's; monthly, and daily where one is declared), with one reservation for all of them.
Spend counts what is settled and what is reserved; a call the provider billed above its
reservation is settled at the higher figure, so the overage is already in the spend the next
reservation must fit under: the next call pays for it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

Scope = Literal["agent", "venture", "platform"]
Period = Literal["month", "day"]

WARN_AT = Decimal("0.8")
# The worst overage seen on a model is met with this margin on top (a provider's bills vary).
CALIBRATION_MARGIN = Decimal("1.1")
# No model's estimate is scaled beyond this: a provider billing 10× its price is a fault to fix.
MAX_CALIBRATION = Decimal("10")


@dataclass(frozen=True)
class Envelope:
    scope: Scope
    period: Period
    limit_usd: Decimal
    subject_id: int | None = None  # the agent's or the venture's id; None for the platform

    @property
    def key(self) -> str:
        subject = self.scope if self.subject_id is None else f"{self.scope}:{self.subject_id}"
        return f"{subject}:{self.period}"

    def describe(self) -> str:
        return f"{'monthly' if self.period == 'month' else 'daily'} {self.scope} budget"


@dataclass(frozen=True)
class Limits:
    """What lumen.yml declares for one subject: a monthly envelope and an optional daily one."""

    month_usd: Decimal | None = None
    day_usd: Decimal | None = None

    def envelopes(self, scope: Scope, subject_id: int | None) -> list[Envelope]:
        out = []
        if self.month_usd is not None:
            out.append(Envelope(scope, "month", Decimal(self.month_usd), subject_id))
        if self.day_usd is not None:
            out.append(Envelope(scope, "day", Decimal(self.day_usd), subject_id))
        return out


@dataclass(frozen=True)
class Refusal:
    envelope: Envelope
    spent_usd: Decimal
    estimate_usd: Decimal


def period_start(now: datetime, period: Period) -> datetime:
    """The start of `now`'s UTC month or day: envelopes are kept in UTC on every replica."""
    now = now.astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1) if period == "month" else day


def period_label(now: datetime, period: Period) -> str:
    """`2026-03` or `2026-03-15`: the period an alert is posted once in."""
    now = now.astimezone(UTC)
    return now.strftime("%Y-%m") if period == "month" else now.strftime("%Y-%m-%d")


def next_period(now: datetime, period: Period) -> datetime:
    start = period_start(now, period)
    if period == "day":
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)


def first_refusal(
    envelopes: list[Envelope], spent: dict[str, Decimal], estimate_usd: Decimal
) -> Refusal | None:
    """The first envelope the estimate would overflow (exactly reaching a limit is allowed)."""
    for envelope in envelopes:
        already = spent.get(envelope.key, Decimal(0))
        if already + estimate_usd > envelope.limit_usd:
            return Refusal(envelope, already, estimate_usd)
    return None


def warnings_crossed(
    envelopes: list[Envelope], spent: dict[str, Decimal], estimate_usd: Decimal
) -> list[Envelope]:
    """The envelopes this reservation takes from under 80 % to 80 % or more."""
    crossed = []
    for envelope in envelopes:
        if envelope.limit_usd <= 0:
            continue
        threshold = envelope.limit_usd * WARN_AT
        before = spent.get(envelope.key, Decimal(0))
        if before < threshold <= before + estimate_usd:
            crossed.append(envelope)
    return crossed


def calibration(worst_ratio: Decimal | None) -> Decimal:
    """How much to scale a model's estimate, from the worst billed/estimated ratio seen on it.

    A model that has never billed more than estimated is reserved at the estimate; one that
    has is reserved at its worst ratio plus a margin, so the same overage is covered next time.
    """
    if worst_ratio is None or worst_ratio <= 1:
        return Decimal(1)
    return min(MAX_CALIBRATION, worst_ratio * CALIBRATION_MARGIN)
