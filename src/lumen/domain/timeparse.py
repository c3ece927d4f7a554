"""Time expressions in questions, relative to now in the asker's time zone.

"last quarter" is the calendar quarter before the current one, where the asker
lives. Ranges are half-open [start, end) in UTC; `label` says the range the way
an answer should ("Q3 2026", "since 1 March 2026").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
UNIT_DAYS = {"day": 1, "week": 7}
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))


@dataclass(frozen=True)
class TimeRange:
    start: datetime | None  # UTC, inclusive
    end: datetime | None  # UTC, exclusive
    label: str
    matched: str = ""  # the words that said it, to strip from topic search

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


def _quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter(year: int, quarter: int, tz: ZoneInfo, matched: str) -> TimeRange:
    start = _quarter_start(year, quarter)
    return TimeRange(_at(start, tz), _at(_add_months(start, 3), tz), f"Q{quarter} {year}", matched)


def _month(year: int, month: int, tz: ZoneInfo, matched: str) -> TimeRange:
    start = date(year, month, 1)
    return TimeRange(_at(start, tz), _at(_add_months(start, 1), tz), f"{start:%B %Y}", matched)


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else NUMBERS.get(word)


def parse_time_range(text: str, now: datetime, tz_name: str) -> TimeRange | None:
    """The first time expression in `text`, or None when the question names no time."""
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    today = local.date()
    q_now = (today.month - 1) // 3 + 1
    lowered = text.lower()

    def found(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, lowered)

    if m := found(r"\b(\d{4})-(\d{2})-(\d{2})\s*(?:to|until|-|–|and)\s*(\d{4})-(\d{2})-(\d{2})\b"):
        a = date(int(m[1]), int(m[2]), int(m[3]))
        b = date(int(m[4]), int(m[5]), int(m[6]))
        return TimeRange(_at(a, tz), _at(b + timedelta(days=1), tz), f"{a:%d %b %Y} to {b:%d %b %Y}", m[0])
    if m := found(r"\b(?:on\s+)?(\d{4})-(\d{2})-(\d{2})\b"):
        day = date(int(m[1]), int(m[2]), int(m[3]))
        if found(r"\bsince\s+" + re.escape(m[0])):
            return TimeRange(_at(day, tz), None, f"since {day:%d %B %Y}", "since " + m[0])
        return TimeRange(_at(day, tz), _at(day + timedelta(days=1), tz), f"{day:%d %B %Y}", m[0])
    if m := found(r"\b(last|this|previous|current|next)\s+quarter\b"):
        offset = {"last": -1, "previous": -1, "this": 0, "current": 0, "next": 1}[m[1]]
        index = today.year * 4 + q_now - 1 + offset
        return _quarter(index // 4, index % 4 + 1, tz, m[0])
    if m := found(r"\b(?:in\s+)?q([1-4])(?:\s+(?:of\s+)?(\d{4}))?\b"):
        quarter = int(m[1])
        year = int(m[2]) if m[2] else (today.year if quarter <= q_now else today.year - 1)
        return _quarter(year, quarter, tz, m[0])
    if m := found(r"\b(last|this|previous|current)\s+month\b"):
        offset = -1 if m[1] in ("last", "previous") else 0
        start = _add_months(today.replace(day=1), offset)
        return _month(start.year, start.month, tz, m[0])
    if m := found(r"\b(last|this|previous|current)\s+year\b"):
        year = today.year - (1 if m[1] in ("last", "previous") else 0)
        return TimeRange(_at(date(year, 1, 1), tz), _at(date(year + 1, 1, 1), tz), str(year), m[0])
    if m := found(r"\b(last|this|previous|current)\s+week\b"):
        monday = today - timedelta(days=today.weekday()) - (timedelta(weeks=1) if m[1] in ("last", "previous") else timedelta(0))
        return TimeRange(_at(monday, tz), _at(monday + timedelta(weeks=1), tz), f"the week of {monday:%d %B %Y}", m[0])
    if m := found(r"\b(?:past|last|previous)\s+(\d+|" + "|".join(NUMBERS) + r")\s+(day|week|month|year)s?\b"):
        count = _number(m[1]) or 1
        unit = m[2]
        if unit in UNIT_DAYS:
            start_day = today - timedelta(days=count * UNIT_DAYS[unit])
        elif unit == "month":
            start_day = _add_months(today.replace(day=1), -count).replace(day=min(today.day, 28))
        else:
            start_day = today.replace(year=today.year - count, day=min(today.day, 28))
        return TimeRange(_at(start_day, tz), None, f"the past {count} {unit}{'s' if count > 1 else ''}", m[0])
    if m := found(r"\b(?:past|last)\s+(day|week|month|year)\b"):
        return parse_time_range(text.lower().replace(m[0], f"past 1 {m[1]}"), now, tz_name)
    if m := found(r"\bsince\s+(" + MONTH_NAMES + r")(?:\s+(\d{4}))?\b"):
        month = MONTHS[m[1]]
        year = int(m[2]) if m[2] else (today.year if month <= today.month else today.year - 1)
        start = date(year, month, 1)
        return TimeRange(_at(start, tz), None, f"since {start:%B %Y}", m[0])
    if m := found(r"\b(?:in\s+)?(" + MONTH_NAMES + r")\s+(\d{4})\b"):
        return _month(int(m[2]), MONTHS[m[1]], tz, m[0])
    if m := found(r"\bin\s+(" + MONTH_NAMES + r")\b"):
        month = MONTHS[m[1]]
        year = today.year if month <= today.month else today.year - 1
        return _month(year, month, tz, m[0])
    if m := found(r"\b(?:in|during)\s+(\d{4})\b"):
        year = int(m[1])
        return TimeRange(_at(date(year, 1, 1), tz), _at(date(year + 1, 1, 1), tz), str(year), m[0])
    if m := found(r"\bsince\s+(\d{4})\b"):
        year = int(m[1])
        return TimeRange(_at(date(year, 1, 1), tz), None, f"since {year}", m[0])
    if m := found(r"\b(today|yesterday)\b"):
        day = today - timedelta(days=1 if m[1] == "yesterday" else 0)
        return TimeRange(_at(day, tz), _at(day + timedelta(days=1), tz), m[1], m[0])
    return None
