"""Month-end projections against generated spend histories: steady, noisy, changing pace."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from lumen.domain.forecast import daily_totals, project_month


def _history(start: date, days: int, per_day) -> dict[date, Decimal]:  # type: ignore[no-untyped-def]
    return {start + timedelta(days=k): Decimal(str(round(max(0.0, per_day(k)), 4))) for k in range(days)}


def test_a_steady_spend_projects_exactly_and_with_no_spread() -> None:
    history = _history(date(2026, 4, 1), 14, lambda k: 2.0)  # April 1–14, $2 a day
    p = project_month(history, datetime(2026, 4, 15, 0, 0, tzinfo=UTC), budget_usd=Decimal(100))
    assert p.spent_usd == Decimal(28)
    assert p.expected_usd == Decimal(60)  # 30 days × $2
    assert p.low_usd == p.high_usd == p.expected_usd
    assert not p.crosses_budget and p.days_seen == 7


def test_the_range_holds_the_real_month_end_about_four_times_in_five() -> None:
    """Months of iid noisy days: the 80 % band, drawn mid-month, holds the real total ~80 % of the time."""
    rng = random.Random(14)
    inside = 0
    trials = 400
    for _ in range(trials):
        days = [max(0.0, rng.gauss(3.0, 1.0)) for _ in range(31)]  # a 31-day month
        history = {date(2026, 5, 1) + timedelta(days=k): Decimal(str(round(v, 4))) for k, v in enumerate(days[:16])}
        p = project_month(history, datetime(2026, 5, 17, 0, 0, tzinfo=UTC))
        actual = Decimal(str(round(sum(days), 4)))
        inside += p.low_usd <= actual <= p.high_usd
    assert 0.7 <= inside / trials <= 0.9, inside / trials


def test_a_change_of_pace_shows_within_a_week() -> None:
    # $1 a day for two weeks, then $5 a day for a week: the rate follows the last week.
    history = _history(date(2026, 6, 1), 21, lambda k: 1.0 if k < 14 else 5.0)
    p = project_month(history, datetime(2026, 6, 22, 0, 0, tzinfo=UTC), budget_usd=Decimal(60))
    assert p.daily_rate_usd == Decimal(5)
    assert p.expected_usd == Decimal(14 + 35 + 9 * 5)  # 94
    assert p.crosses_budget  # the budget is $60: warn now, at $49 spent


def test_early_in_the_month_the_rate_reaches_into_last_month() -> None:
    history = _history(date(2026, 6, 24), 9, lambda k: 4.0)  # June 24 – July 2
    p = project_month(history, datetime(2026, 7, 3, 0, 0, tzinfo=UTC), budget_usd=Decimal(200))
    assert p.spent_usd == Decimal(8)  # July 1 and 2 only
    assert p.daily_rate_usd == Decimal(4) and p.days_seen == 7
    assert p.expected_usd == Decimal(124)


def test_a_new_history_is_a_rough_guess_and_says_so() -> None:
    now = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
    p = project_month({date(2026, 8, 1): Decimal("1.5")}, now, budget_usd=Decimal(40))
    assert p.rough and p.daily_rate_usd == Decimal(3)  # $1.50 in half a day
    assert p.low_usd < p.expected_usd < p.high_usd
    assert p.expected_usd == Decimal("1.5") + Decimal(3) * Decimal("30.5")
    assert p.crosses_budget and p.may_cross_budget
    nothing = project_month({}, now)
    assert nothing.expected_usd == nothing.spent_usd == 0 and not nothing.crosses_budget


def test_daily_totals_sum_rows_by_utc_day() -> None:
    rows = [
        (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), Decimal("1")),
        (datetime(2026, 3, 2, 0, 30, tzinfo=UTC), Decimal("2")),
        (datetime(2026, 3, 2, 22, 0, tzinfo=UTC), Decimal("0.5")),
    ]
    assert daily_totals(rows) == {date(2026, 3, 1): Decimal(1), date(2026, 3, 2): Decimal("2.5")}
