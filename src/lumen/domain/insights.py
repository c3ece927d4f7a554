"""The extractive cross-venture synthesis: one insight per pattern, with its net evidence.

A pattern is a move tried by two or more ventures (the same decision title), or a category.
Its insight states the net record across ventures ("“Offer annual plans”: 7 of 11 recent
tries worked across 3 ventures"), never a "worked" and a "failed" line that contradict each
other. A private venture's record counts, but only as a number: it is never named, and its
decisions are never cited, because insights are posted where non-members read them and go
into other ventures' prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lumen.domain.brain import Evidence, moves_of, move_key

MIN_VENTURES = 2
MIN_TRIES = 4
MAX_INSIGHTS = 20
CITED = 6


@dataclass(frozen=True)
class VentureBrain:
    slug: str
    name: str
    private: bool
    sections: dict[str, list[dict[str, Any]]]


@dataclass
class _Pattern:
    key: str
    subject: str
    category: str
    evidence: Evidence = field(default_factory=Evidence)
    named: set[str] = field(default_factory=set)
    private: int = 0
    cited: dict[str, list[int]] = field(default_factory=dict)  # per named venture

    @property
    def ventures(self) -> int:
        return len(self.named) + self.private


def _who(pattern: _Pattern) -> str:
    names = sorted(pattern.named)
    if pattern.private:
        names.append(f"{pattern.private} private venture{'s' if pattern.private > 1 else ''}")
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else "no named venture"


def _citations(cited: dict[str, list[int]]) -> list[int]:
    """The latest tries, taken in turn from each named venture, so every venture behind the
    insight is cited and none crowds the others out."""
    queues = [sorted(ids, reverse=True) for _, ids in sorted(cited.items())]
    chosen: list[int] = []
    while len(chosen) < CITED and any(queues):
        for queue in queues:
            if queue and len(chosen) < CITED:
                chosen.append(queue.pop(0))
    return sorted(chosen)


def _verdict(ev: Evidence) -> str:
    rate = ev.rate or 0.0
    if rate >= 0.6:
        return "worth trying where it fits"
    if rate <= 0.4:
        return "look hard before trying it"
    return "the context decides"


def extractive_insights(brains: list[VentureBrain]) -> list[dict[str, Any]]:
    """From each venture's latest brain, the patterns that hold across ventures."""
    patterns: dict[str, _Pattern] = {}
    for brain in sorted(brains, key=lambda b: b.slug):
        seen: set[str] = set()
        for move in moves_of(brain.sections).values():
            ev = move.evidence
            if not ev.tries:
                continue
            for key, subject in ((f"move:{move_key(move.title)}", move.title), (f"category:{move.category}", move.category)):
                pattern = patterns.setdefault(key, _Pattern(key=key, subject=subject, category=move.category))
                pattern.evidence = pattern.evidence + ev
                if key not in seen:
                    seen.add(key)
                    if brain.private:
                        pattern.private += 1
                    else:
                        pattern.named.add(brain.name)
                if not brain.private:
                    pattern.cited.setdefault(brain.slug, []).extend(i for i, _ in move.tried if i)
    chosen = [
        p
        for p in patterns.values()
        if p.ventures >= MIN_VENTURES and p.evidence.tries >= MIN_TRIES and (p.cited or p.private)
    ]
    # The strongest patterns first: the most tries, the clearest verdict.
    chosen.sort(key=lambda p: (p.evidence.tries * abs((p.evidence.rate or 0.5) - 0.5), p.evidence.tries), reverse=True)
    insights = []
    for p in chosen[:MAX_INSIGHTS]:
        ev = p.evidence
        label = f"“{p.subject}”" if p.key.startswith("move:") else f"{p.category} moves"
        insights.append(
            {
                "key": p.key,
                "text": f"{label}: {ev.worked} of {ev.tries} recent tries worked across {p.ventures} ventures "
                f"({_who(p)}): {_verdict(ev)}.",
                "category": p.category,
                "subject": p.subject,
                "ventures": sorted(p.named),
                "venture_count": p.ventures,
                "decision_ids": _citations(p.cited),
                "evidence": ev.as_json(),
            }
        )
    return sorted(insights, key=lambda i: i["key"])


def relevant(insights: list[dict[str, Any]], categories: set[str], titles: set[str], limit: int = 8) -> list[dict[str, Any]]:
    """The insights an agent should read: about its moves first, then its categories."""
    keys = {f"move:{move_key(t)}" for t in titles}
    about_moves = [i for i in insights if i.get("key") in keys]
    about_categories = [i for i in insights if i.get("key", "").startswith("category:") and i.get("category") in categories]
    by_key: dict[str, dict[str, Any]] = {}
    for insight in about_moves + about_categories:
        by_key.setdefault(str(insight.get("key")), insight)
    return list(by_key.values())[:limit]
