"""Time expressions at the edges that break them: quarter and year ends, and daylight saving.

Every expected range is written by hand as local wall-clock days in the asker's zone and turned
into UTC with zoneinfo here, never computed by the code under test. "Now" sits just before or
after an edge, where UTC and the local calendar disagree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lumen.domain.timeparse import parse_time_range

UTC = timezone.utc
LA = "America/Los_Angeles"
NY = "America/New_York"
SYDNEY = "Australia/Sydney"  # daylight saving the other way round: ends in April, starts in October


def midnight(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def parsed(text: str, now: datetime, tz: str) -> tuple[datetime | None, datetime | None, str]:
    found = parse_time_range(text, now, tz)
    assert found is not None, text
    return found.start, found.end, found.label


def span(first: date, after: date | None, tz: str) -> tuple[datetime, datetime | None]:
    return midnight(first, tz), midnight(after, tz) if after else None


# 02:00 UTC on 1 October 2026 is 19:00 on 30 September in Los Angeles: still Q3 there.
Q_EDGE = datetime(2026, 10, 1, 2, tzinfo=UTC)
# 05:00 UTC on 1 January 2027 is 21:00 on 31 December 2026 in Los Angeles, and 14:00 on 1 January in Tokyo.
Y_EDGE = datetime(2027, 1, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "now", "tz", "first", "after", "label"),
    [
        # "two months ago": the calendar month, counted from the local month.
        ("two months ago", Q_EDGE, LA, date(2026, 7, 1), date(2026, 8, 1), "July 2026"),
        ("two months ago", Q_EDGE, "UTC", date(2026, 8, 1), date(2026, 9, 1), "August 2026"),
        ("a month ago", Y_EDGE, LA, date(2026, 11, 1), date(2026, 12, 1), "November 2026"),
        ("a month ago", Y_EDGE, "Asia/Tokyo", date(2026, 12, 1), date(2027, 1, 1), "December 2026"),
        ("3 weeks ago", Y_EDGE, LA, date(2026, 12, 7), date(2026, 12, 14), "the week of 07 December 2026"),
        ("a quarter ago", Q_EDGE, LA, date(2026, 4, 1), date(2026, 7, 1), "Q2 2026"),
        ("a year ago", Y_EDGE, LA, date(2025, 1, 1), date(2026, 1, 1), "2025"),
        # Half years.
        ("H1 2026", Q_EDGE, LA, date(2026, 1, 1), date(2026, 7, 1), "H1 2026"),
        ("h2 2025", Q_EDGE, LA, date(2025, 7, 1), date(2026, 1, 1), "H2 2025"),
        ("the first half of 2025", Q_EDGE, NY, date(2025, 1, 1), date(2025, 7, 1), "H1 2025"),
        ("the second half of last year", Y_EDGE, LA, date(2025, 7, 1), date(2026, 1, 1), "H2 2025"),
        ("the second half of last year", Y_EDGE, "Asia/Tokyo", date(2026, 7, 1), date(2027, 1, 1), "H2 2026"),
        # Since the start of a unit, and "to date".
        ("since the start of the year", Y_EDGE, LA, date(2026, 1, 1), None, "since 01 January 2026"),
        ("since the start of the year", Y_EDGE, "Asia/Tokyo", date(2027, 1, 1), None, "since 01 January 2027"),
        ("since the beginning of the quarter", Q_EDGE, LA, date(2026, 7, 1), None, "since 01 July 2026"),
        ("since the beginning of the quarter", Q_EDGE, "Europe/Berlin", date(2026, 10, 1), None, "since 01 October 2026"),
        ("year to date", Y_EDGE, LA, date(2026, 1, 1), None, "since 01 January 2026"),
        ("YTD", Y_EDGE, "Asia/Tokyo", date(2027, 1, 1), None, "since 01 January 2027"),
        ("this quarter so far", Q_EDGE, LA, date(2026, 7, 1), None, "since 01 July 2026"),
        ("since last summer", Q_EDGE, LA, date(2026, 6, 1), None, "since summer 2026"),  # just ended
        ("since Q3 2025", Q_EDGE, LA, date(2025, 7, 1), None, "since Q3 2025"),
        ("after Q1", Q_EDGE, LA, date(2026, 4, 1), None, "after Q1 2026"),
        ("before March 2026", Q_EDGE, LA, None, date(2026, 3, 1), "before March 2026"),
        # Between two points: dates, months, quarters; the end day is included.
        ("between 2026-02-01 and 2026-02-28", Q_EDGE, LA, date(2026, 2, 1), date(2026, 3, 1), "01 Feb 2026 to 28 Feb 2026"),
        ("from 2025-12-24 to 2026-01-02", Y_EDGE, LA, date(2025, 12, 24), date(2026, 1, 3), "24 Dec 2025 to 02 Jan 2026"),
        ("between February and April 2025", Q_EDGE, LA, date(2025, 2, 1), date(2025, 5, 1), "February 2025 to April 2025"),
        ("from March to May", Q_EDGE, LA, date(2026, 3, 1), date(2026, 6, 1), "March 2026 to May 2026"),
        ("between Q1 and Q2 2026", Q_EDGE, LA, date(2026, 1, 1), date(2026, 7, 1), "Q1 2026 to Q2 2026"),
        # Seasons, parts of a year, named days.
        ("last summer", Q_EDGE, LA, date(2026, 6, 1), date(2026, 9, 1), "summer 2026"),
        ("last summer", datetime(2026, 8, 15, tzinfo=UTC), LA, date(2025, 6, 1), date(2025, 9, 1), "summer 2025"),
        ("early 2026", Q_EDGE, LA, date(2026, 1, 1), date(2026, 5, 1), "early 2026"),
        ("the end of last year", Y_EDGE, LA, date(2025, 9, 1), date(2026, 1, 1), "late 2025"),
        ("on March 3", Q_EDGE, LA, date(2026, 3, 3), date(2026, 3, 4), "03 March 2026"),
        ("last friday", Q_EDGE, LA, date(2026, 9, 25), date(2026, 9, 26), "25 September 2026"),
        ("the year before last", Y_EDGE, LA, date(2024, 1, 1), date(2025, 1, 1), "2024"),
        ("Q3 '25", Q_EDGE, LA, date(2025, 7, 1), date(2025, 10, 1), "Q3 2025"),
        ("the third quarter of 2025", Q_EDGE, LA, date(2025, 7, 1), date(2025, 10, 1), "Q3 2025"),
        # Rolling windows end now; "recently" is the past month.
        ("in the last 30 days", Q_EDGE, LA, date(2026, 8, 31), None, "the past 30 days"),
        ("over the past year", Q_EDGE, LA, date(2025, 9, 28), None, "the past year"),
        ("recently", Q_EDGE, LA, date(2026, 8, 28), None, "the past month"),
    ],
)
def test_expressions_at_quarter_and_year_edges(
    text: str, now: datetime, tz: str, first: date | None, after: date | None, label: str
) -> None:
    start, end, said = parsed(text, now, tz)
    assert start == (midnight(first, tz) if first else None)
    assert end == (midnight(after, tz) if after else None)
    assert said == label


# Los Angeles: daylight saving starts on Sunday 8 March 2026 (02:00 → 03:00) and ends on
# Sunday 1 November 2026. Sydney: it ends on Sunday 5 April 2026 and starts on 4 October 2026.
@pytest.mark.parametrize(
    ("text", "now", "tz", "first", "after", "hours"),
    [
        ("between 2026-03-07 and 2026-03-09", datetime(2026, 6, 1, tzinfo=UTC), LA, date(2026, 3, 7), date(2026, 3, 10), 71),
        ("yesterday", datetime(2026, 3, 9, 12, tzinfo=UTC), LA, date(2026, 3, 8), date(2026, 3, 9), 23),
        ("yesterday", datetime(2026, 11, 2, 12, tzinfo=UTC), LA, date(2026, 11, 1), date(2026, 11, 2), 25),
        ("H2 2026", datetime(2026, 12, 1, tzinfo=UTC), LA, date(2026, 7, 1), date(2027, 1, 1), 184 * 24 + 1),
        ("two months ago", datetime(2026, 5, 15, tzinfo=UTC), LA, date(2026, 3, 1), date(2026, 4, 1), 31 * 24 - 1),
        ("a month ago", datetime(2026, 5, 15, tzinfo=UTC), SYDNEY, date(2026, 4, 1), date(2026, 5, 1), 30 * 24 + 1),
        ("this month", datetime(2026, 4, 30, 14, 30, tzinfo=UTC), SYDNEY, date(2026, 5, 1), date(2026, 6, 1), 31 * 24),
        ("last week", datetime(2026, 10, 8, tzinfo=UTC), SYDNEY, date(2026, 9, 28), date(2026, 10, 5), 7 * 24 - 1),
    ],
)
def test_daylight_saving_moves_the_utc_edges(text: str, now: datetime, tz: str, first: date, after: date, hours: int) -> None:
    start, end, _ = parsed(text, now, tz)
    assert (start, end) == span(first, after, tz)
    assert start is not None and end is not None
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(
    "text",
    ["what did acme try?", "hiring plans for may", "did sales fall?", "spring cleaning ideas", "2000 signups",
     "the march to profitability", "what is the plan of record"],
)
def test_words_that_only_look_like_time(text: str) -> None:
    assert parse_time_range(text, Q_EDGE, LA) is None


def test_the_expression_is_reported_so_it_is_not_searched_for() -> None:
    found = parse_time_range("what did acme do between 2026-02-01 and 2026-02-28 on pricing", Q_EDGE, LA)
    assert found is not None and found.matched == "between 2026-02-01 and 2026-02-28"
