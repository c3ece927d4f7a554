"""Time expressions in questions, relative to now in the asker's time zone.

"last quarter" is the calendar quarter before the current one, where the asker lives; "the past
two months" runs from the same day two months ago until now; "two months ago" is that calendar
month. A point ("March", "Q3 2025", "H1 2026", "2026-02-01", "last summer") can also stand in a
range ("between 2026-02-01 and 2026-02-28", "from March to May") or after "since", "before" and
"after". Ranges are half-open [start, end) in UTC, computed from local midnights, so daylight
saving moves their UTC edges; `label` says the range the way an answer should ("Q3 2026").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
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
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple of": 2, "a couple of": 2,
    "few": 3, "a few": 3, "eighteen": 18, "twenty": 20, "thirty": 30,
}
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}  # first month, northern hemisphere
UNITS = ("day", "week", "month", "quarter", "year")

_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_NUMBER = "(?:" + "|".join(sorted((re.escape(n) for n in NUMBERS), key=len, reverse=True)) + r"|\d{1,3})"
_YEAR = r"(?:20\d{2}|'\d{2})"


@dataclass(frozen=True)
class TimeRange:
    start: datetime | None  # UTC, inclusive
    end: datetime | None  # UTC, exclusive
    label: str
    matched: str = ""  # the words that said it, to strip from topic search

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Span:
    """Local calendar days [start, end); None is open."""

    start: date | None
    end: date | None
    label: str


@dataclass(frozen=True)
class _Now:
    today: date

    @property
    def quarter(self) -> int:
        return (self.today.month - 1) // 3 + 1


# --- calendar arithmetic -----------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month(year: int, month: int) -> Span:
    start = date(year, month, 1)
    return Span(start, _add_months(start, 1), f"{start:%B %Y}")


def _quarter(year: int, quarter: int) -> Span:
    start = date(year, 3 * (quarter - 1) + 1, 1)
    return Span(start, _add_months(start, 3), f"Q{quarter} {year}")


def _half(year: int, half: int) -> Span:
    start = date(year, 1 if half == 1 else 7, 1)
    return Span(start, _add_months(start, 6), f"H{half} {year}")


def _year(year: int) -> Span:
    return Span(date(year, 1, 1), date(year + 1, 1, 1), str(year))


def _week(monday: date) -> Span:
    return Span(monday, monday + timedelta(weeks=1), f"the week of {monday:%d %B %Y}")


def _day(day: date) -> Span:
    return Span(day, day + timedelta(days=1), f"{day:%d %B %Y}")


def _season(year: int, season: str) -> Span:
    start = date(year, SEASONS[season], 1)
    name = "autumn" if season == "fall" else season
    return Span(start, _add_months(start, 3), f"{name} {year}")


def _unit(now: _Now, unit: str, back: int) -> Span:
    """The calendar `unit` that is `back` units before the current one (0: the current one)."""
    today = now.today
    if unit == "day":
        return _day(today - timedelta(days=back))
    if unit == "week":
        return _week(today - timedelta(days=today.weekday(), weeks=back))
    if unit == "month":
        start = _add_months(today, -back)
        return _month(start.year, start.month)
    if unit == "quarter":
        index = today.year * 4 + now.quarter - 1 - back
        return _quarter(index // 4, index % 4 + 1)
    return _year(today.year - back)


def _rolling(now: _Now, unit: str, count: int) -> Span:
    """From the same moment `count` units ago until now."""
    today = now.today
    if unit in ("day", "week"):
        start = today - timedelta(days=count * (7 if unit == "week" else 1))
    elif unit in ("month", "quarter"):
        months = count * (3 if unit == "quarter" else 1)
        start = _add_months(today, -months).replace(day=min(today.day, 28))
    else:
        start = today.replace(year=today.year - count, day=min(today.day, 28))
    return Span(start, None, f"the past {unit}" if count == 1 else f"the past {count} {unit}s")


def _g(m: re.Match[str], name: str) -> str | None:
    """A named group's text; None when the pattern has no such group or it did not take part."""
    return m.groupdict().get(name)


def _number(word: str) -> int:
    word = word.strip()
    return int(word) if word.isdigit() else NUMBERS.get(word, 1)


def _year_of(text: str | None, fallback: int) -> int:
    if not text:
        return fallback
    text = text.strip()
    return 2000 + int(text[1:]) if text.startswith("'") else int(text)


def _latest_year(now: _Now, first_month: int) -> int:
    """The year of the most recent such month (or quarter, half, season) that has begun."""
    return now.today.year if first_month <= now.today.month else now.today.year - 1


# --- points: one stretch of the calendar ------------------------------------------------------------
# Each is (pattern, resolver). Patterns use named groups only; the resolvers read them.

Resolver = Callable[[re.Match[str], _Now], Span | None]


def _iso(m: re.Match[str], now: _Now) -> Span | None:
    try:
        return _day(date(int(_g(m, "y")), int(_g(m, "mo")), int(_g(m, "d"))))
    except ValueError:
        return None


def _month_day(m: re.Match[str], now: _Now) -> Span | None:
    month = MONTHS[_g(m, "mname").rstrip(".")]
    day = int(_g(m, "dd"))
    year = _year_of(_g(m, "yy"), now.today.year)
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not _g(m, "yy") and found > now.today:
        found = found.replace(year=year - 1)
    return _day(found)


def _named_month(m: re.Match[str], now: _Now) -> Span | None:
    month = MONTHS[_g(m, "mname").rstrip(".")]
    which = (_g(m, "which") or "").strip()
    if _g(m, "yy"):
        year = _year_of(_g(m, "yy"), now.today.year)
    elif which == "this":
        year = now.today.year
    elif which in ("last", "previous"):
        year = now.today.year if month < now.today.month else now.today.year - 1
    else:
        year = _latest_year(now, month)
    return _month(year, month)


def _quarter_point(m: re.Match[str], now: _Now) -> Span | None:
    quarter = int(_g(m, "q")) if _g(m, "q") else ORDINALS[_g(m, "qord")]
    which = (_g(m, "which") or "").strip()
    if _g(m, "yy"):
        year = _year_of(_g(m, "yy"), now.today.year)
    elif _g(m, "rel"):
        year = now.today.year - (1 if _g(m, "rel") in ("last", "previous") else 0)
    elif which == "this":
        year = now.today.year
    else:
        year = _latest_year(now, 3 * (quarter - 1) + 1)
    return _quarter(year, quarter)


def _half_point(m: re.Match[str], now: _Now) -> Span | None:
    half = int(_g(m, "h")) if _g(m, "h") else (1 if _g(m, "hord") == "first" else 2)
    if _g(m, "yy"):
        year = _year_of(_g(m, "yy"), now.today.year)
    elif _g(m, "rel"):
        year = now.today.year - (1 if _g(m, "rel") in ("last", "previous") else 0)
    else:
        year = _latest_year(now, 1 if half == 1 else 7)
    return _half(year, half)


def _season_point(m: re.Match[str], now: _Now) -> Span | None:
    season = _g(m, "season")
    first = SEASONS[season]
    which = (_g(m, "which") or "").strip()
    if _g(m, "yy"):
        year = _year_of(_g(m, "yy"), now.today.year)
    elif which == "this":
        year = now.today.year
    elif which in ("last", "previous", "past"):
        # The most recent one that has ended.
        year = now.today.year if _add_months(date(now.today.year, first, 1), 3) <= now.today else now.today.year - 1
    else:
        year = _latest_year(now, first)
    return _season(year, season)


def _part_of(m: re.Match[str], now: _Now) -> Span | None:
    """"early 2026", "late last year", "the end of March", "the start of the quarter"."""
    part = _g(m, "part")
    if _g(m, "pyear"):
        whole = _year(_year_of(_g(m, "pyear"), now.today.year))
    elif _g(m, "pmonth"):
        month = MONTHS[_g(m, "pmonth").rstrip(".")]
        whole = _month(_year_of(_g(m, "pmyear"), _latest_year(now, month)), month)
    else:
        unit = _g(m, "punit")
        back = 1 if _g(m, "prel") in ("last", "previous") else 0
        whole = _unit(now, unit, back)
    if whole.start is None or whole.end is None:
        return None
    name = {"early": "early", "start": "early", "beginning": "early", "mid": "mid", "middle": "mid",
            "late": "late", "end": "late"}[part or "mid"]
    if whole.label.isdigit():  # a year: January–April, May–August, September–December
        cuts = [whole.start, whole.start.replace(month=5), whole.start.replace(month=9), whole.end]
    elif whole.label.startswith("Q"):  # a quarter: its three months
        cuts = [whole.start, _add_months(whole.start, 1), _add_months(whole.start, 2), whole.end]
    else:  # a month: the 1st–10th, 11th–20th, 21st to its end
        cuts = [whole.start, whole.start.replace(day=11), whole.start.replace(day=21), whole.end]
    index = {"early": 0, "mid": 1, "late": 2}[name]
    return Span(cuts[index], cuts[index + 1], f"{name} {whole.label}")


def _relative(m: re.Match[str], now: _Now) -> Span | None:
    """"last quarter", "this month", "previous year", "next quarter", "the year before last"."""
    unit = _g(m, "runit")
    back = {"last": 1, "previous": 1, "prior": 1, "this": 0, "current": 0, "next": -1}[_g(m, "rwhich")]
    if "before last" in m.group(0):
        back = 2
    return _unit(now, unit, back)


def _ago(m: re.Match[str], now: _Now) -> Span | None:
    return _unit(now, _g(m, "aunit"), _number(_g(m, "acount")))


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(m: re.Match[str], now: _Now) -> Span | None:
    """"last Friday", "on Monday": the most recent such day (before today for "last")."""
    target = WEEKDAYS.index(_g(m, "wday") or "monday")
    back = (now.today.weekday() - target) % 7
    if back == 0 and (_g(m, "wwhich") or "").strip() == "last":
        back = 7
    return _day(now.today - timedelta(days=back))


def _bare_year(m: re.Match[str], now: _Now) -> Span | None:
    year = int(_g(m, "byear"))
    # A number that is not a plausible year of this history ("2000 sign-ups") is not a time.
    return _year(year) if now.today.year - 15 <= year <= now.today.year + 1 else None


def _named_day(m: re.Match[str], now: _Now) -> Span | None:
    name = _g(m, "dname") or "today"
    day = _day(now.today - timedelta(days=1 if name == "yesterday" else 0))
    return Span(day.start, day.end, name)


def _day_month_first(m: re.Match[str], now: _Now) -> Span | None:
    if _g(m, "mname"):
        return _month_day(m, now)
    fake = {"mname": _g(m, "mname2"), "dd": _g(m, "dd2"), "yy": _g(m, "yy2")}
    month = MONTHS[fake["mname"].rstrip(".")]
    year = _year_of(fake["yy"], now.today.year)
    try:
        found = date(year, month, int(fake["dd"]))
    except ValueError:
        return None
    if not fake["yy"] and found > now.today:
        found = found.replace(year=year - 1)
    return _day(found)


POINTS: list[tuple[str, Resolver]] = [
    (r"(?P<y>20\d{2})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})", _iso),
    (rf"(?P<mname>{_MONTH})\s+(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<yy>{_YEAR}))?"
     r"|(?P<dd2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mname2>" + _MONTH + rf")(?:,?\s+(?P<yy2>{_YEAR}))?", _day_month_first),
    (rf"(?:(?P<part>early|mid|middle|late|start|beginning|end)(?:-|\s+)(?:of\s+)?(?:the\s+)?"
     rf"(?:(?P<pyear>{_YEAR})|(?P<pmonth>{_MONTH})(?:\s+(?P<pmyear>{_YEAR}))?|(?:(?P<prel>last|previous|this|current)\s+)?(?P<punit>month|quarter|year)))",
     _part_of),
    (rf"(?:the\s+)?(?:(?P<qord>first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter|q(?P<q>[1-4]))"
     rf"(?:(?:\s+of|,)?\s+(?:(?P<yy>{_YEAR})|(?P<rel>last|this|previous)\s+year))?", _quarter_point),
    (rf"(?:(?P<which>this|last|previous)\s+)?(?:the\s+)?(?:(?P<hord>first|second)\s+half|h(?P<h>[12]))"
     rf"(?:(?:\s+of|,)?\s+(?:(?P<yy>{_YEAR})|(?P<rel>last|this|previous)\s+year))?", _half_point),
    (rf"(?:(?:this\s+)?(?P<which>this|last|previous|past)\s+)?(?P<season>spring|summer|fall|autumn|winter)(?:\s+(?:of\s+)?(?P<yy>{_YEAR}))?",
     _season_point),
    (r"(?:the\s+)?(?P<rwhich>last|previous|prior|this|current|next)\s+(?P<runit>day|week|month|quarter|year)(?P<before_last>\s+before\s+last)?",
     _relative),
    (r"(?:the\s+)?(?P<runit>year|quarter|month|week)\s+before\s+(?P<rwhich>last)(?P<before_last>)", _relative),
    (rf"(?P<acount>{_NUMBER})\s+(?P<aunit>day|week|month|quarter|year)s?\s+ago", _ago),
    (rf"(?:(?P<which>this|last|previous)\s+)?(?P<mname>{_MONTH})(?:,?\s+(?P<yy>{_YEAR}))?", _named_month),
    (r"(?P<byear>20\d{2})(?!\s*(?:%|\$|k\b|people|users|customers|sign))", _bare_year),
    (r"(?P<dname>today|yesterday)", _named_day),
    (r"(?:(?P<wwhich>last|this|on|past)\s+)(?P<wday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)", _weekday),
]


_POINT_RES = [(re.compile(p), r) for p, r in POINTS]
# One alternation of every point, for the range and "since" rules (groups renamed away).
_ANY_POINT = "(?:" + "|".join(re.sub(r"\?P<\w+>", "", p) for p, _ in POINTS) + ")"
# Month names that are also everyday words only count with a year or a time word before them.
_WORDY_MONTHS = {"may", "mar", "march", "jan", "sep", "dec", "aug", "oct", "nov", "jun", "apr", "feb", "jul"}
_TIME_LEAD = re.compile(r"(?:in|during|since|from|between|until|till|before|after|by|of|this|last|previous|past|through|to|and|over|early|late|mid|end|start|beginning)\s+(?:the\s+)?$")


def _point(text: str, now: _Now) -> Span | None:
    """The point that `text` is, whole."""
    for pattern, resolve in _POINT_RES:
        m = pattern.fullmatch(text.strip())
        if m:
            return resolve(m, now)
    return None


def _range(a: Span, b: Span) -> Span | None:
    if a.start is None or b.end is None or b.end <= a.start:
        return None
    if a.label[:1].isdigit() and b.label[:1].isdigit() and len(a.label.split()) == 3 == len(b.label.split()):
        label = f"{a.start:%d %b %Y} to {b.end - timedelta(days=1):%d %b %Y}"  # two days: short month names
    else:
        label = f"{a.label} to {b.label}"
    return Span(a.start, b.end, label)


# --- rules over the whole question ---------------------------------------------------------------------


_compiled = cache(re.compile)  # the patterns are built once, then reused on every question
_LEAD = re.compile(r"(?:\b(?:on|in|during)\s+)$")


def _finditer(pattern: str, text: str) -> Iterator[re.Match[str]]:
    return _compiled(pattern).finditer(text)


@dataclass(frozen=True)
class _Found:
    span: Span
    at: int
    matched: str


def _candidates(text: str, now: _Now) -> list[_Found]:
    found: list[_Found] = []

    def add(m: re.Match[str], span: Span | None) -> None:
        if span is not None:
            found.append(_Found(span, m.start(), m.group(0)))

    # Ranges between two points.
    for m in _finditer(rf"\b(?:between|from)\s+(?P<a>{_ANY_POINT})\s+(?:and|to|through|thru|until|till|-|–)\s+(?P<b>{_ANY_POINT})\b", text):
        a, b = _point(_g(m, "a"), now), _point(_g(m, "b"), now)
        if a is not None and b is not None:
            # "between March and May 2026": a month without a year takes the other side's year.
            if b.start is not None and a.start is not None and a.start > b.start and not re.search(r"\d{4}|'\d{2}", _g(m, "a")):
                a = _point(f"{m['a']} {b.start.year}", now) or a
            add(m, _range(a, b))
    for m in _finditer(rf"\b(?P<a>{_ANY_POINT})\s*(?:to|through|thru|until|till|-|–)\s*(?P<b>{_ANY_POINT})\b", text):
        a, b = _point(_g(m, "a"), now), _point(_g(m, "b"), now)
        if a is not None and b is not None and re.search(r"\d", _g(m, "a") + _g(m, "b")):
            add(m, _range(a, b))
    # Open ranges.
    starts = {"the start", "the beginning", "start", "beginning"}
    for m in _finditer(r"\b(?:since|from)\s+(?:the\s+)?(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(?P<u>year|quarter|month|week)\b", text):
        span = _unit(now, _g(m, "u"), 0)
        add(m, Span(span.start, None, f"since {span.start:%d %B %Y}") if span.start else None)
    for m in _finditer(r"\b(?:(?P<u>year|quarter|month|week)[\s-]+to[\s-]+date|(?P<u2>y|q|m)td|so\s+far\s+this\s+(?P<u3>year|quarter|month|week)|this\s+(?P<u4>year|quarter|month|week)\s+so\s+far)\b", text):
        unit = _g(m, "u") or _g(m, "u3") or _g(m, "u4") or {"y": "year", "q": "quarter", "m": "month"}[_g(m, "u2")]
        span = _unit(now, unit, 0)
        add(m, Span(span.start, None, f"since {span.start:%d %B %Y}") if span.start else None)
    opening = r"since|after|starting(?:\s+(?:from|in|on))?|beginning(?:\s+(?:from|in|on))?"
    for m in _finditer(rf"\b(?P<w>{opening})\s+(?:(?:in|on)\s+)?(?P<a>{_ANY_POINT})\b(?!\s+(?:to|and|until|till|through)\b)"
                         rf"|\bfrom\s+(?P<a2>{_ANY_POINT})\s+(?:on|onwards?|forwards?)\b", text):
        written = _g(m, "a") or _g(m, "a2") or ""
        if written.strip() in starts:
            continue
        a = _point(written, now)
        if a is None or a.start is None:
            continue
        if (_g(m, "w") or "") == "after":
            add(m, Span(a.end, None, f"after {a.label}") if a.end else None)
        else:
            add(m, Span(a.start, None, _since_label(a)))
    for m in _finditer(rf"\b(?:before|until|till|prior\s+to)\s+(?P<a>{_ANY_POINT})\b", text):
        a = _point(_g(m, "a"), now)
        if a is not None and a.start is not None:
            add(m, Span(None, a.start, f"before {a.label}"))
    # Rolling windows: "the past two months", "in the last 3 days", "over the past year".
    for m in _finditer(rf"\b(?:(?:over|in|within|during)\s+)?(?:the\s+)?(?:past|last|previous|recent)\s+(?P<n>{_NUMBER})\s+(?P<u>day|week|month|quarter|year)s?\b", text):
        add(m, _rolling(now, _g(m, "u"), _number(_g(m, "n"))))
    for m in _finditer(r"\b(?:(?:over|in|within|during)\s+)?(?:the\s+past|past|the\s+last)\s+(?P<u>day|week|month|quarter|year)\b", text):
        add(m, _rolling(now, _g(m, "u"), 1))
    for m in _finditer(r"(?<!most )\b(?:recently|lately|of\s+late|(?:in\s+)?recent\s+(?:weeks|times|days)|recent)\b(?!\s+(?:months|years|quarters))", text):
        add(m, _rolling(now, "month", 1))
    # Points on their own.
    for pattern, resolve in _POINT_RES:
        for m in _finditer(r"\b(?:" + pattern.pattern + r")\b", text):
            if resolve is _named_month and not _month_stands_for_time(text, m):
                continue
            if resolve is _season_point and not (_g(m, "which") or _g(m, "yy") or _TIME_LEAD.search(text[: m.start()])):
                continue  # "did sales fall?", "spring cleaning"
            lead = _LEAD.search(text[: m.start()])
            span = resolve(m, now)
            if span is not None and lead:
                found.append(_Found(span, lead.start(), lead.group(0) + m.group(0)))
            elif span is not None:
                found.append(_Found(span, m.start(), m.group(0)))
    return found


def _month_stands_for_time(text: str, m: re.Match[str]) -> bool:
    name = _g(m, "mname").rstrip(".")
    if _g(m, "yy") or _g(m, "which"):
        return True
    if name not in _WORDY_MONTHS:
        return True
    return bool(_TIME_LEAD.search(text[: m.start()]))


def _since_label(a: Span) -> str:
    if a.label.startswith(("Q", "H")) or a.label[:1].isdigit() and len(a.label) == 4:
        return f"since {a.label}"
    if a.start is not None and a.label[:1].isdigit():
        return f"since {a.start:%d %B %Y}"
    return f"since {a.label}"


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text)


def parse_time_range(text: str, now: datetime, tz_name: str) -> TimeRange | None:
    """The time expression in `text` (the first, and of those the longest), or None."""
    tz = ZoneInfo(tz_name)
    lowered = _normalise(text)
    found = _candidates(lowered, _Now(now.astimezone(tz).date()))
    if not found:
        return None
    best = min(found, key=lambda f: (f.at, -len(f.matched)))  # ties: the rule listed first
    span = best.span
    return TimeRange(_at(span.start, tz), _at(span.end, tz), span.label, best.matched.strip())


def _at(day: date | None, tz: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)
