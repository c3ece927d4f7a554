"""Understanding a question, purely: ventures, time, topic and verdict, relative to a fixed now.

Expected time ranges are written out by hand as local wall-clock moments in the workspace's
zone (converted here with zoneinfo), not computed by the code under test.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from lumen.ask.understand import KnownVenture, understand
from lumen.domain.timeparse import parse_time_range
from tests.ask.history import NOW, WORKSPACE_TZ

UTC = timezone.utc
LA = ZoneInfo("America/Los_Angeles")

ACME = KnownVenture("acme", "Acme Analytics", ("acme analytics", "metricly"), "venture-acme", "C0ACME")
BRIGHTBOX = KnownVenture("brightbox", "Brightbox Studio", ("bright box",), "venture-brightbox", "C0BRIGHT")
ZENITH = KnownVenture("zenith", "Zenith Health", ("project zenith",), "venture-zenith", "C0ZENITH", private=True)
VENTURES = [ACME, BRIGHTBOX, ZENITH]


def ask(text: str, *, channel_id: str | None = None, now: datetime = NOW, tz: str = WORKSPACE_TZ):  # type: ignore[no-untyped-def]
    return understand(text, VENTURES, now=now, tz=tz, channel_id=channel_id)


def local(*parts: int, zone: ZoneInfo = LA) -> datetime:
    """A wall-clock moment in `zone`, as UTC."""
    return datetime(*parts, tzinfo=zone).astimezone(UTC)


# --- ventures -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "slugs"),
    [
        ("what did acme try last quarter?", ["acme"]),  # slug
        ("What did Acme try last quarter?", ["acme"]),  # case
        ("How is Acme Analytics doing on pricing?", ["acme"]),  # name
        ("what did metricly try in 2025", ["acme"]),  # alias (its old name)
        ("what did bright box try?", ["brightbox"]),  # alias with a space
        ("Brightbox Studio's hiring", ["brightbox"]),  # possessive name
        ("acme's pricing", ["acme"]),  # possessive slug
        ("what did acmee try last quarter?", ["acme"]),  # misspelled slug
        ("brightbx ads", ["brightbox"]),  # misspelled slug
        ("what happened at brihgtbox", ["brightbox"]),  # transposed letters
        ("project zenith security", ["zenith"]),
        ("compare acme and brightbox pricing", ["acme", "brightbox"]),
        ("what did we try with pricing?", []),  # no venture: every visible one
        ("what failed in the past two months?", []),
        ("acne treatment ideas", []),  # near "acme", but not near enough
    ],
)
def test_ventures_are_found_by_slug_name_alias_and_misspelling(text: str, slugs: list[str]) -> None:
    question = ask(text)
    assert [v.slug for v in question.ventures] == slugs
    assert question.named_venture is bool(slugs)


@pytest.mark.parametrize(
    ("text", "channel", "slugs", "named"),
    [
        ("what happened this month?", "C0BRIGHT", ["brightbox"], False),  # the channel implies it
        ("what failed?", "C0ZENITH", ["zenith"], False),
        ("what did acme try?", "C0BRIGHT", ["acme"], True),  # naming beats the channel
        ("what happened this month?", "C0GENERAL", [], False),  # not a venture channel
        ("what happened this month?", None, [], False),
    ],
)
def test_the_channel_implies_the_venture_unless_one_is_named(
    text: str, channel: str | None, slugs: list[str], named: bool
) -> None:
    question = ask(text, channel_id=channel)
    assert [v.slug for v in question.ventures] == slugs
    assert question.named_venture is named


def test_venture_words_never_become_search_terms() -> None:
    for text in ("what did acmee try?", "Acme Analytics pricing", "bright box", "metricly's ads"):
        question = ask(text)
        assert not {"acme", "acmee", "analytics", "bright", "box", "metricly"} & set(question.terms), (text, question.terms)


# --- time ---------------------------------------------------------------------------------------
# NOW is 2026-11-21 12:00 UTC: 04:00 on Saturday 21 November in Los Angeles (PST, UTC-8; PDT, UTC-7,
# ended on Sunday 1 November 2026).

@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("what did acme try last quarter?", local(2026, 7, 1), local(2026, 10, 1), "Q3 2026"),
        ("previous quarter", local(2026, 7, 1), local(2026, 10, 1), "Q3 2026"),
        ("this quarter", local(2026, 10, 1), local(2027, 1, 1), "Q4 2026"),
        ("this month", local(2026, 11, 1), local(2026, 12, 1), "November 2026"),
        ("last month", local(2026, 10, 1), local(2026, 11, 1), "October 2026"),
        ("what happened in Q3", local(2026, 7, 1), local(2026, 10, 1), "Q3 2026"),
        ("what happened in Q1", local(2026, 1, 1), local(2026, 4, 1), "Q1 2026"),
        ("q4", local(2026, 10, 1), local(2027, 1, 1), "Q4 2026"),  # the current quarter
        ("Q3 2025", local(2025, 7, 1), local(2025, 10, 1), "Q3 2025"),
        ("in Q2 of 2025", local(2025, 4, 1), local(2025, 7, 1), "Q2 2025"),
        ("since March", local(2026, 3, 1), None, "since March 2026"),
        ("since december", local(2025, 12, 1), None, "since December 2025"),  # December has not come yet
        ("since March 2025", local(2025, 3, 1), None, "since March 2025"),
        ("past two weeks", local(2026, 11, 7), None, "the past 2 weeks"),
        ("in the last 3 days", local(2026, 11, 18), None, "the past 3 days"),
        ("past two months", local(2026, 9, 21), None, "the past 2 months"),
        ("past week", local(2026, 11, 14), None, "the past 1 week"),
        ("last week", local(2026, 11, 9), local(2026, 11, 16), "the week of 09 November 2026"),
        ("last year", local(2025, 1, 1), local(2026, 1, 1), "2025"),
        ("this year", local(2026, 1, 1), local(2027, 1, 1), "2026"),
        ("in 2025", local(2025, 1, 1), local(2026, 1, 1), "2025"),
        ("since 2026", local(2026, 1, 1), None, "since 2026"),
        ("in June", local(2026, 6, 1), local(2026, 7, 1), "June 2026"),
        ("in december", local(2025, 12, 1), local(2026, 1, 1), "December 2025"),  # the last December
        ("in march 2025", local(2025, 3, 1), local(2025, 4, 1), "March 2025"),
        ("yesterday", local(2026, 11, 20), local(2026, 11, 21), "yesterday"),
        ("today", local(2026, 11, 21), local(2026, 11, 22), "today"),
        ("on 2026-03-15", local(2026, 3, 15), local(2026, 3, 16), "15 March 2026"),
        ("since 2026-02-01", local(2026, 2, 1), None, "since 01 February 2026"),
        ("2026-01-10 to 2026-03-31", local(2026, 1, 10), local(2026, 4, 1), "10 Jan 2026 to 31 Mar 2026"),
        ("between 2025-12-24 and 2026-01-02", local(2025, 12, 24), local(2026, 1, 3), "24 Dec 2025 to 02 Jan 2026"),
    ],
)
def test_time_expressions_relative_to_now_in_the_workspace_zone(
    text: str, start: datetime, end: datetime | None, label: str
) -> None:
    time = ask(text).time
    assert time is not None, text
    assert (time.start, time.end, time.label) == (start, end, label)


def test_daylight_saving_moves_the_utc_edges_of_local_months() -> None:
    # PDT (UTC-7) until 1 November 2026, PST (UTC-8) after: local midnights are 07:00 or 08:00 UTC.
    october = ask("last month").time
    assert october is not None
    assert october.start == datetime(2026, 10, 1, 7, tzinfo=UTC)
    assert october.end == datetime(2026, 11, 1, 7, tzinfo=UTC)
    november = ask("this month").time
    assert november is not None and november.end == datetime(2026, 12, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "tz", "text", "label"),
    [
        # 02:00 UTC on 1 October is still 30 September (Q3) in Los Angeles: last quarter is Q2 ...
        (datetime(2026, 10, 1, 2, tzinfo=UTC), "America/Los_Angeles", "last quarter", "Q2 2026"),
        # ... while in UTC and in Berlin it is already Q4, so last quarter is Q3.
        (datetime(2026, 10, 1, 2, tzinfo=UTC), "UTC", "last quarter", "Q3 2026"),
        (datetime(2026, 9, 30, 23, tzinfo=UTC), "Europe/Berlin", "last quarter", "Q3 2026"),
        (datetime(2026, 9, 30, 23, tzinfo=UTC), "America/Los_Angeles", "this quarter", "Q3 2026"),
        (datetime(2026, 12, 1, 3, tzinfo=UTC), "America/Los_Angeles", "this month", "November 2026"),
        (datetime(2026, 12, 1, 3, tzinfo=UTC), "Europe/Berlin", "this month", "December 2026"),
        (datetime(2027, 1, 1, 5, tzinfo=UTC), "America/Los_Angeles", "this year", "2026"),
        (datetime(2026, 12, 31, 16, tzinfo=UTC), "Asia/Tokyo", "last year", "2026"),
        (datetime(2026, 12, 31, 16, tzinfo=UTC), "America/Los_Angeles", "last year", "2025"),
        # "in Q4" during a Q4 that has only just begun locally is this year's Q4.
        (datetime(2026, 10, 1, 8, tzinfo=UTC), "America/Los_Angeles", "in Q4", "Q4 2026"),
        # and one that has not begun locally yet is last year's.
        (datetime(2026, 10, 1, 2, tzinfo=UTC), "America/Los_Angeles", "in Q4", "Q4 2025"),
    ],
)
def test_time_zone_edges_decide_which_quarter_month_or_year_it_is(now: datetime, tz: str, text: str, label: str) -> None:
    time = ask(text, now=now, tz=tz).time
    assert time is not None and time.label == label


def test_the_los_angeles_edge_case_in_full() -> None:
    now = datetime(2026, 10, 1, 2, tzinfo=UTC)  # 19:00 on 30 September in Los Angeles
    time = ask("what did acme try last quarter?", now=now).time
    assert time is not None
    assert (time.start, time.end) == (local(2026, 4, 1), local(2026, 7, 1))
    assert time.start == datetime(2026, 4, 1, 7, tzinfo=UTC)
    assert time.contains(datetime(2026, 7, 1, 6, 59, tzinfo=UTC))  # 30 June, 23:59 local
    assert not time.contains(datetime(2026, 7, 1, 7, tzinfo=UTC))  # 1 July, 00:00 local


def test_no_time_expression_means_no_range() -> None:
    for text in ("what did acme try?", "acme pricing", "what failed at brightbox?", "hiring plans for may"):
        assert ask(text).time is None, text  # "may" alone is a verb, not the month


def test_time_words_are_not_search_terms() -> None:
    question = ask("acme pricing in Q3 2025")
    assert "q3" not in question.terms and "2025" not in question.terms
    assert parse_time_range("nothing here", NOW, WORKSPACE_TZ) is None


# --- topics and verdicts --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "categories", "must_search", "must_not_search"),
    [
        ("acme pricing last quarter", ["pricing_change"], {"price", "pricing", "discount", "tier"}, {"acme", "quarter"}),
        ("what prices did brightbox change?", ["pricing_change"], {"price"}, {"brightbox", "did"}),
        ("acme ads", [], {"ads", "advertising", "linkedin", "sponsor"}, {"acme"}),
        ("acme advertising", [], {"ads", "advertising", "linkedin", "sponsor"}, {"acme"}),
        ("hiring at brightbox", [], {"hire", "hiring", "recruit"}, {"brightbox", "at"}),
        ("security at zenith", ["security"], {"security", "soc"}, {"zenith"}),
        ("what tools did acme adopt?", ["new_dependency"], {"adopt", "tool", "partner"}, {"what", "did"}),
        ("customer commitments", ["customer_commitment"], {"commit", "promise"}, set()),
        ("webinars", [], {"webinars"}, set()),  # an unknown word is searched as it is
    ],
)
def test_topics_map_to_categories_and_search_words(
    text: str, categories: list[str], must_search: set[str], must_not_search: set[str]
) -> None:
    question = ask(text)
    assert list(question.categories) == categories
    assert must_search <= set(question.terms), question.terms
    assert not must_not_search & set(question.terms), question.terms


def test_ads_and_advertising_search_the_same_words() -> None:
    assert set(ask("acme ads").terms) == set(ask("acme advertising").terms)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("what failed at acme?", "failure"),
        ("What flopped last quarter?", "failure"),
        ("what didn't work for brightbox", "failure"),
        ("what did not work", "failure"),
        ("which ads backfired", "failure"),
        ("what worked at acme?", "success"),
        ("what succeeded in pricing", "success"),
        ("which moves paid off", "success"),
        ("our wins this year", "success"),
        ("anything with mixed results?", "mixed"),
        ("what did acme try?", None),
        ("acme workflow changes", None),  # "workflow" is not "work"
    ],
)
def test_outcome_filters(text: str, verdict: str | None) -> None:
    assert ask(text).verdict == verdict


def test_filler_words_of_outcome_questions_are_not_required_topics() -> None:
    # "results" and "outcomes" say how it went, not what it was about: with them as search terms,
    # "what mixed results did zenith have" would find nothing although mixed results exist.
    for text in ("What mixed results did Zenith have last year?", "what were the outcomes at acme last quarter?"):
        question = ask(text)
        assert question.terms == (), (text, question.terms)


def test_a_full_question() -> None:
    question = ask("What failed in Acme's LinkedIn ads last quarter?", channel_id="C0BRIGHT")
    assert [v.slug for v in question.ventures] == ["acme"] and question.named_venture
    assert question.time is not None and question.time.label == "Q3 2026"
    assert question.verdict == "failure"
    assert "linkedin" in question.terms and "ads" in question.terms
    assert question.scope == "Acme Analytics in Q3 2026"
