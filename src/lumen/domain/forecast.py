"""Month-end projections of spend, with a range from how much recent days varied. Pure.

The rate is the mean of the last complete days (a week by default, reaching into last month
early in a month), so a change of pace shows within days rather than being averaged away by
the whole month. Days are taken as independent draws: the rest of the month (m days) adds
`rate × m`, give or take an 80 % prediction band, `t × spread × √(m + m²/n)`: the days' own
variation, plus the error of a rate taken from only n days (Student's t for small n). With
fewer than three days seen the spread is unknown; the band is then ±50 % of the rate, and the
projection says it is rough.
"""

from __future__ import annotations

import calendar
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

Z_80 = 1.28
# Student's t, 90th percentile (two-sided 80 %), by degrees of freedom; beyond the table, ~z.
_T_80 = {1: 3.078, 2: 1.886, 3: 1.638, 4: 1.533, 5: 1.476, 6: 1.440, 7: 1.415, 8: 1.397, 9: 1.383, 10: 1.372}
WINDOW_DAYS = 7
_CENT = Decimal("0.0001")


@dataclass(frozen=True)
class Projection:
    spent_usd: Decimal  # so far this month
    expected_usd: Decimal  # at month end
    low_usd: Decimal
    high_usd: Decimal
    daily_rate_usd: Decimal
    days_seen: int  # complete days behind the rate
    budget_usd: Decimal | None = None

    @property
    def crosses_budget(self) -> bool:
        """The expected month end is over the budget: warn now, not at 100 %."""
        return self.budget_usd is not None and self.expected_usd > self.budget_usd

    @property
    def may_cross_budget(self) -> bool:
        return self.budget_usd is not None and self.high_usd > self.budget_usd

    @property
    def rough(self) -> bool:
        return self.days_seen < 3


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 6))).quantize(_CENT)


@dataclass(frozen=True)
class _Pace:
    """What the month so far says: spent, the daily rate, and how much days varied."""

    spent: Decimal
    rate: float
    days_seen: int
    stdev: float | None  # None: fewer than three days seen, the spread is unknown
    days_left: float  # to the month's end, from now

    def margin(self, days_ahead: float) -> float:
        """Half the 80 % band of the spend still to come over `days_ahead` days."""
        if self.stdev is None:
            return 0.5 * self.rate * days_ahead
        n = self.days_seen
        return _T_80.get(n - 1, Z_80) * self.stdev * math.sqrt(days_ahead + days_ahead**2 / n)


def _pace(daily: dict[date, Decimal], now: datetime, window: int) -> _Pace:
    now = now.astimezone(UTC)
    today = now.date()
    first = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    spent = sum((v for d, v in daily.items() if first <= d <= today), Decimal(0))
    elapsed_today = (now - datetime(today.year, today.month, today.day, tzinfo=UTC)).total_seconds() / 86400
    days_left = (days_in_month - today.day) + (1 - elapsed_today)

    # Complete days, newest first, as far back as the window (before today, any month).
    seen_days = sorted((d for d in daily if d < today), reverse=True)
    oldest = min(seen_days) if seen_days else today
    recent = [float(daily.get(today - timedelta(days=k), Decimal(0))) for k in range(1, window + 1) if today - timedelta(days=k) >= oldest]
    if len(recent) >= 3:
        return _Pace(spent, statistics.fmean(recent), len(recent), statistics.stdev(recent), days_left)
    if recent:
        rate = statistics.fmean(recent)
    elif elapsed_today > 0.05:  # the first hours of any history: extrapolate today
        rate = float(daily.get(today, Decimal(0))) / elapsed_today
    else:
        rate = 0.0
    return _Pace(spent, rate, len(recent), None, days_left)


def project_month(daily: dict[date, Decimal], now: datetime, budget_usd: Decimal | None = None, window: int = WINDOW_DAYS) -> Projection:
    """Project this UTC month's spend from `daily` (spend per UTC day; missing days spent 0).

    `daily` may reach back into last month; only this month counts as spent."""
    pace = _pace(daily, now, window)
    margin = pace.margin(pace.days_left)
    expected = float(pace.spent) + pace.rate * pace.days_left
    low = max(float(pace.spent), expected - margin)
    return Projection(
        spent_usd=pace.spent,
        expected_usd=_money(expected),
        low_usd=_money(low),
        high_usd=_money(expected + margin),
        daily_rate_usd=_money(pace.rate),
        days_seen=pace.days_seen,
        budget_usd=budget_usd,
    )


@dataclass(frozen=True)
class PathPoint:
    """Where the month's spend is expected to stand at `at` (the end of a UTC day, or now)."""

    at: datetime
    expected_usd: Decimal
    low_usd: Decimal
    high_usd: Decimal


def forecast_path(daily: dict[date, Decimal], now: datetime, window: int = WINDOW_DAYS) -> list[PathPoint]:
    """The projection day by day, from now to the month's end: the band widens as it reaches
    further ahead (the same rate and spread as `project_month`, whose last point it matches)."""
    now = now.astimezone(UTC)
    pace = _pace(daily, now, window)
    today = now.date()
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    points = [PathPoint(now, _money(float(pace.spent)), _money(float(pace.spent)), _money(float(pace.spent)))]
    for day in range(today.day, days_in_month + 1):
        end = datetime(today.year, today.month, day, tzinfo=UTC) + timedelta(days=1)
        ahead = (end - now).total_seconds() / 86400
        expected = float(pace.spent) + pace.rate * ahead
        margin = pace.margin(ahead)
        points.append(PathPoint(end, _money(expected), _money(max(float(pace.spent), expected - margin)), _money(expected + margin)))
    return points


def daily_totals(points: Sequence[tuple[datetime, Decimal]]) -> dict[date, Decimal]:
    """Spend rows (when, how much) summed per UTC day."""
    out: dict[date, Decimal] = {}
    for at, cost in points:
        day = at.astimezone(UTC).date()
        out[day] = out.get(day, Decimal(0)) + Decimal(cost)
    return out
