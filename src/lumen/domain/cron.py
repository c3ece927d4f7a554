"""Cron expressions: validation and the next fire time, in a time zone.

Standard cron counts weekdays from Sunday = 0 (7 is Sunday too), while
APScheduler 3 counts from Monday = 0 and `CronTrigger.from_crontab` passes the
numbers through unchanged. So we rewrite the weekday field into names first:
"0 9 * * 1-5" must mean Monday to Friday.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday_number(token: str) -> int:
    token = token.lower()
    if token in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"{token!r} is not a weekday (0-7 or sun-sat)")


def standard_weekdays(field: str) -> str:
    """Rewrite a standard cron weekday field as explicit APScheduler weekday names."""
    if field == "*":
        return "*"
    days: list[int] = []
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step must be positive in {part!r}")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low_text, high_text = span.split("-", 1)
            low, high = _weekday_number(low_text), _weekday_number(high_text)
            if high_text.strip() == "7":
                high = 7  # "5-7" is Friday to Sunday
            if high < low:
                raise ValueError(f"range {span!r} runs backwards")
        else:
            low = high = _weekday_number(span)
        days += [day % 7 for day in range(low, high + 1, step)]
    return ",".join(WEEKDAY_NAMES[d] for d in sorted(set(days)))


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expression!r} is not a five-field cron expression (minute hour day month weekday)"
        )
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=standard_weekdays(weekday),
        timezone=ZoneInfo(timezone),
    )


# Any moment will do: cron has no year, so an expression that fires at all fires within
# 28 years of any start (Feb 29 on a Monday, say).
_SOME_MOMENT = datetime(2001, 1, 1, tzinfo=ZoneInfo("UTC"))


def validate_cron(expression: str) -> None:
    """Raise ValueError with a readable reason if the expression is not five-field cron, or
    names no date that exists (Feb 30, Apr 31): such a schedule would never run."""
    try:
        trigger = cron_trigger(expression)
    except ValueError as exc:
        message = str(exc)
        if expression in message:
            raise
        raise ValueError(f"{expression!r} is not a valid cron expression: {message}") from None
    if trigger.get_next_fire_time(None, _SOME_MOMENT) is None:
        raise ValueError(f"{expression!r} never fires: no month has that day")


def next_fire_time(expression: str, timezone: str, after: datetime) -> datetime | None:
    return cron_trigger(expression, timezone).get_next_fire_time(None, after)
