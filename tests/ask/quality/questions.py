"""The question set in questions.yaml, read into cases with their relevance predicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tests.ask.quality.history import CHANNEL_IDS, MEMBERS, PUBLIC, Planned

QUESTIONS = Path(__file__).with_name("questions.yaml")
STATUS_KEYS = {"executed", "rejected", "expired", "awaiting_approval", "approved"}


@dataclass(frozen=True)
class Case:
    question: str
    user: str
    channel: str | None
    expect: dict[str, Any]
    none: bool  # the answer must cite nothing

    def visible(self) -> tuple[str, ...]:
        """The ventures this asker may see where they ask: the private one only in its own
        channel, or in a DM of one of its channel's members."""
        seen = list(PUBLIC)
        own = CHANNEL_IDS["marlow"]
        if self.channel == own or (self.user in MEMBERS[own] and (self.channel is None or self.channel.startswith("D"))):
            seen.append("marlow")
        return tuple(seen)

    def relevant(self) -> Callable[[Planned], bool]:
        e = self.expect
        ventures = tuple(e.get("ventures") or self.visible())
        start = _date(e.get("from"))
        end = _date(e.get("to"))

        def check(p: Planned) -> bool:
            if self.none or p.venture not in ventures or not p.in_local(start, end):
                return False
            if "topics" in e and not p.about(*e["topics"]):
                return False
            if "not_topics" in e and p.about(*e["not_topics"]):
                return False
            if "tags" in e and not set(e["tags"]) & set(p.tags):
                return False
            if "not_tags" in e and set(e["not_tags"]) & set(p.tags):
                return False
            if "title_has" in e and not all(w.lower() in p.title.lower() for w in e["title_has"]):
                return False
            if "verdicts" in e and (p.verdict or "none") not in e["verdicts"]:
                return False
            if "statuses" in e and not _status_matches(p, e["statuses"]):
                return False
            if "has_amount" in e and (p.amount is not None) is not e["has_amount"]:
                return False
            if "corrected" in e and p.corrected is not e["corrected"]:
                return False
            return True

        return check


def _status_matches(p: Planned, wanted: list[str]) -> bool:
    unknown = set(wanted) - STATUS_KEYS
    if unknown:
        raise ValueError(f"unknown status in questions.yaml: {unknown}")
    return (p.status in wanted) or ("approved" in wanted and p.approval == "approved")


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def load_cases(path: Path = QUESTIONS) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    cases = []
    for item in data["questions"]:
        cases.append(
            Case(
                question=item["q"],
                user=item.get("user", defaults.get("user")),
                channel=item.get("channel", defaults.get("channel")),
                expect=item.get("expect", {}),
                none=bool(item.get("none", False)),
            )
        )
    return cases
