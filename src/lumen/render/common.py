"""Small pieces every builder uses."""

from __future__ import annotations

import re

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lumen.render.limits import (
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    Block,
    clip,
)


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT)}}


def section(text: str, *, fields: list[str] | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(clip(text, MAX_SECTION_TEXT))}
    if fields:
        block["fields"] = [mrkdwn(clip(f, MAX_FIELD_TEXT)) for f in fields[:10]]
    if accessory:
        block["accessory"] = accessory
    return block


def fields_section(fields: list[str]) -> Block:
    return {"type": "section", "fields": [mrkdwn(clip(f, MAX_FIELD_TEXT)) for f in fields[:10]]}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(clip(t, MAX_SECTION_TEXT)) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters: the one way
    text Lumen did not write (config, models, people) reaches a message, so that it can show
    `<!channel>` or a link but never ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")


def is_user_id(text: str | None) -> bool:
    return bool(text) and bool(_USER_ID.match(text or ""))


def mention(who: str) -> str:
    """A person, mentioned when `who` is a Slack user ID, shown as plain text otherwise."""
    return f"<@{who}>" if is_user_id(who) else escape(who)


def usd(amount: Decimal | float | None) -> str:
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    if value != 0 and abs(value) < Decimal("0.01"):
        return f"${value:.4f}"
    return f"${value:,.2f}"


def clock(moment: datetime, tz: str, fmt: str = "%a %d %b %H:%M") -> str:
    """A moment in the workspace's time zone, labelled with the zone's abbreviation (CET, EST):
    every time on a screen is in this one zone, and says so."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local.strftime(fmt)} {local.tzname() or tz}"


def when(moment: datetime | None, tz: str, now: datetime) -> str:
    """A time people can read at a glance: relative, with the local clock time (the screen
    it is on says which zone, once)."""
    if moment is None:
        return "never"
    local = moment.astimezone(ZoneInfo(tz))
    delta = (moment - now).total_seconds()
    span = abs(delta)
    if span < 60:
        rel = "just now"
    else:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if span >= size:
                amount = int(span // size)
                rel = f"in {amount}{unit}" if delta > 0 else f"{amount}{unit} ago"
                break
    return f"{rel} ({local:%a %d %b %H:%M})"
