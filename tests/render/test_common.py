"""The pieces every builder uses: blocks clipped to Slack's limits, escaping, money and times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from lumen.render.common import context, divider, escape, fields_section, header, section, usd, when
from lumen.render.limits import MAX_FIELD_TEXT, MAX_HEADER_TEXT, MAX_SECTION_TEXT
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, NOW, valid_blocks


def test_block_helpers_clip_and_cap_oversized_input_to_stay_valid() -> None:
    """Every builder leans on these: a long header, 12 long fields or 12 context lines must not
    produce a block Slack refuses."""
    long = "x" * 10_000
    head = header(long)
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}}
    sec = section(long, fields=[long] * 12, accessory=button)
    only_fields = fields_section([long] * 12)
    ctx = context(*([long] * 12))
    valid_blocks([head, sec, only_fields, ctx, divider()])

    assert len(head["text"]["text"]) == MAX_HEADER_TEXT and head["text"]["text"].endswith("…")
    assert len(sec["text"]["text"]) == MAX_SECTION_TEXT
    assert len(sec["fields"]) == 10 and all(len(f["text"]) == MAX_FIELD_TEXT for f in sec["fields"])
    assert sec["accessory"]["action_id"] == "a"
    assert len(only_fields["fields"]) == 10
    assert len(ctx["elements"]) == 10
    assert header("Lumen status")["text"] == {"type": "plain_text", "text": "Lumen status"}  # short text untouched


def test_escape_makes_mentions_and_links_inert() -> None:
    assert escape(HOSTILE) == HOSTILE_ESCAPED


def test_escape_shows_already_escaped_text_literally() -> None:
    """`&` goes first, so someone who types `&lt;` sees `&lt;`, not `<`."""
    assert escape("&lt;b&gt;") == "&amp;lt;b&amp;gt;"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "$0.00"),
        (Decimal("0"), "$0.00"),
        (0.0042, "$0.0042"),  # a single cheap model call stays visible, not "$0.00"
        (Decimal("0.0042"), "$0.0042"),
        (1234.5, "$1,234.50"),
        (Decimal("4000"), "$4,000.00"),
        (None, "—"),
    ],
)
def test_usd(amount: Decimal | float | None, shown: str) -> None:
    assert usd(amount) == shown


@pytest.mark.parametrize(
    ("offset", "relative"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=-59), "just now"),
        (timedelta(minutes=5), "in 5m"),
        (timedelta(minutes=-90), "1h ago"),
        (timedelta(hours=3, minutes=59), "in 3h"),
        (timedelta(days=-2, hours=-5), "2d ago"),
    ],
)
def test_when_says_how_long_ago_or_until(offset: timedelta, relative: str) -> None:
    assert when(NOW + offset, "UTC", NOW).startswith(f"{relative} (")
    assert when(None, "UTC", NOW) == "never"  # an agent that never woke


def test_when_shows_the_clock_time_in_the_viewers_zone() -> None:
    """12:00 UTC is 21:00 in Tokyo; the reader sees their own clock, day included."""
    moment = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
    assert when(moment, "Asia/Tokyo", NOW) == "in 3h (Tue 03 Mar 00:00)"
    assert when(moment, "UTC", NOW) == "in 3h (Mon 02 Mar 15:00)"


def test_when_across_the_new_york_dst_jump() -> None:
    """On 2026-03-08 New York clocks jump from 02:00 EST to 03:00 EDT: one real hour apart, the
    local clock reads two hours apart, and the relative part counts real time."""
    now = datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc)  # 01:30 EST
    assert when(now, "America/New_York", now) == "just now (Sun 08 Mar 01:30)"
    assert when(now + timedelta(hours=1), "America/New_York", now) == "in 1h (Sun 08 Mar 03:30)"
    assert when(now - timedelta(hours=1), "America/New_York", now) == "1h ago (Sun 08 Mar 00:30)"
