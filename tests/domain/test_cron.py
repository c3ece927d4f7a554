from datetime import datetime, timezone

import pytest

from lumen.domain.cron import next_fire_time, standard_weekdays, validate_cron

SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("1,3", "mon,wed"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-wed", "mon,tue,wed"),
    ],
)
def test_weekdays_follow_standard_cron(field: str, names: str) -> None:
    assert standard_weekdays(field) == names


def test_weekday_schedule_skips_the_weekend() -> None:
    fire = next_fire_time("0 9 * * 1-5", "America/New_York", SATURDAY)
    assert fire is not None
    assert (fire.year, fire.month, fire.day, fire.hour) == (2026, 11, 23, 9)
    assert fire.utcoffset().total_seconds() == -5 * 3600


@pytest.mark.parametrize("bad", ["", "* * * *", "61 * * * *", "0 9 * * 9", "0 9 * * 5-1"])
def test_invalid_expressions_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="cron|weekday|range"):
        validate_cron(bad)
