"""Pure brain rules: the extractive synthesis, diffs between versions, ISO weeks.

The extractive synthesis is what the offline model writes, and the fallback
shape a real model is asked for: statements keyed by section and category,
each citing the decisions behind it. Keys make a brain bounded (one statement
per category and section, citing its latest few decisions) so synthesis input
grows with the week's activity, not with the whole history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SECTIONS = ("principles", "worked", "failed", "open_bets", "questions")
CITATIONS_KEPT = 6


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class DecisionFact:
    """A decision as the synthesis sees it."""

    id: int
    title: str
    category: str
    status: str
    verdict: str | None = None  # the latest outcome
    metric: str | None = None
    before: float | None = None
    after: float | None = None
    reason: str | None = None  # a human's rejection reason

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _support(statement: dict[str, Any] | None) -> int:
    """How many decisions a statement rests on in all; it cites only the latest few of them."""
    if not statement:
        return 0
    return int(statement.get("support") or len(statement.get("decision_ids", [])))


def _merge(previous: dict[str, Any] | None, key: str, text: str, facts: list[DecisionFact]) -> dict[str, Any]:
    ids = list(previous.get("decision_ids", [])) if previous else []
    titles = list(previous.get("titles", [])) if previous else []
    added = 0
    for fact in facts:
        if fact.id not in ids:
            ids.append(fact.id)
            titles.append(fact.title)
            added += 1
    return {
        "key": key,
        "text": text,
        "decision_ids": ids[-CITATIONS_KEPT:],
        "titles": titles[-CITATIONS_KEPT:],
        "support": _support(previous) + added,
    }


def _awaiting(category: str, titles: list[str], count: int) -> str:
    latest = f", latest “{titles[-1]}”" if titles else ""
    return f"{category}: {count} awaiting outcomes{latest}"


def _settle_bets(bets: dict[str, dict[str, Any]], facts: list[DecisionFact]) -> None:
    """A bet cites executed decisions still awaiting their outcome; drop those that now have one."""
    settled = {f.id for f in facts if f.verdict in ("success", "failure", "mixed") or f.status == "rejected"}
    for key, bet in list(bets.items()):
        ids, titles = list(bet.get("decision_ids", [])), list(bet.get("titles", []))
        kept = [i for i in ids if i not in settled]
        if len(kept) == len(ids):
            continue
        if not kept:
            del bets[key]
            continue
        if len(titles) == len(ids):  # one title per citation: keep those still open
            titles = [t for i, t in zip(ids, titles) if i not in settled]
        else:
            titles = []
        text = _awaiting(key.split(":", 1)[-1], titles, len(kept))
        bets[key] = {**bet, "text": text, "decision_ids": kept, "titles": titles, "support": len(kept)}


def _metric(fact: DecisionFact) -> str:
    if fact.metric and fact.before is not None and fact.after is not None:
        return f" ({fact.metric} {fact.before:g} → {fact.after:g})"
    return ""


TITLES_SHOWN = 1  # a statement names its latest move; decision_ids and support carry the rest


def _titles(facts: list[DecisionFact]) -> str:
    shown = "; ".join(f"“{f.title}”{_metric(f)}" for f in facts[-TITLES_SHOWN:])
    return shown if len(facts) <= TITLES_SHOWN else f"{len(facts)} moves, latest {shown}"


def extractive_brain(previous: dict[str, list[Any]], facts: Iterable[DecisionFact]) -> dict[str, list[dict[str, Any]]]:
    """Brain N+1 from brain N (full or `compact`) and the decisions since: grouped by category and verdict."""
    previous = expand(previous)
    sections = {name: {s.get("key") or s["text"]: dict(s) for s in previous.get(name, [])} for name in SECTIONS}
    facts = list(facts)
    _settle_bets(sections["open_bets"], facts)
    by_group: dict[tuple[str, str], list[DecisionFact]] = defaultdict(list)
    for fact in facts:
        if fact.status == "rejected":
            group = "rejected"
        elif fact.verdict in ("success", "failure", "mixed"):
            group = fact.verdict
        elif fact.status == "executed":
            group = "pending"
        else:
            continue
        by_group[(fact.category, group)].append(fact)

    for (category, group), items in sorted(by_group.items()):
        if group == "success":
            key = f"worked:{category}"
            sections["worked"][key] = _merge(sections["worked"].get(key), key, f"{category}: {_titles(items)} worked", items)
        elif group == "failure":
            key = f"failed:{category}"
            sections["failed"][key] = _merge(sections["failed"].get(key), key, f"{category}: {_titles(items)} failed", items)
        elif group == "mixed":
            key = f"mixed:{category}"
            sections["questions"][key] = _merge(
                sections["questions"].get(key), key, f"{category}: mixed results from {_titles(items)}: why?", items
            )
        elif group == "pending":
            key = f"bet:{category}"
            bet = _merge(sections["open_bets"].get(key), key, "", items)
            count = len(bet["decision_ids"])
            sections["open_bets"][key] = {**bet, "text": _awaiting(category, [items[-1].title], count), "support": count}
        elif group == "rejected":
            key = f"rejected:{category}"
            reasons = "; ".join(f"“{f.title}” ({f.reason or 'no reason given'})" for f in items[-TITLES_SHOWN:])
            if len(items) > TITLES_SHOWN:
                reasons = f"{len(items)} moves, latest {reasons}"
            sections["questions"][key] = _merge(
                sections["questions"].get(key), key, f"{category}: humans rejected {reasons}. Revisit?", items
            )

    # Principles follow from the record per category: what keeps working, what keeps failing.
    categories = {k.split(":", 1)[1] for k in sections["worked"]} | {k.split(":", 1)[1] for k in sections["failed"]}
    for category in sorted(categories):
        worked = sections["worked"].get(f"worked:{category}")
        failed = sections["failed"].get(f"failed:{category}")
        wins, losses = _support(worked), _support(failed)
        key = f"principle:{category}"
        if wins and wins >= 2 * losses:  # clearly more wins than failures
            text = f"Lean into {category}: {wins} wins, {losses} failures."
        elif losses > wins:
            text = f"Be wary of {category}: {losses} failures, {wins} wins."
        else:
            sections["principles"].pop(key, None)
            continue
        cited = (worked["decision_ids"] if worked else []) + (failed["decision_ids"] if failed else [])
        titles = (worked.get("titles", []) if worked else []) + (failed.get("titles", []) if failed else [])
        sections["principles"][key] = {
            "key": key, "text": text, "decision_ids": cited[-CITATIONS_KEPT:], "titles": titles[-CITATIONS_KEPT:], "support": wins + losses
        }
    return {name: list(sections[name].values())[:12] for name in SECTIONS}


@dataclass
class BrainDiff:
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}

    def lines(self) -> list[str]:
        out: list[str] = []
        for section in SECTIONS:
            out += [f"+ [{section}] {t}" for t in self.added.get(section, [])]
            out += [f"~ [{section}] {t}" for t in self.changed.get(section, [])]
            out += [f"- [{section}] {t}" for t in self.removed.get(section, [])]
        return out


def diff_brains(old: dict[str, list[dict[str, Any]]], new: dict[str, list[dict[str, Any]]]) -> BrainDiff:
    diff = BrainDiff()
    for section in SECTIONS:
        before = {s.get("key") or s["text"]: s["text"] for s in old.get(section, [])}
        after = {s.get("key") or s["text"]: s["text"] for s in new.get(section, [])}
        if added := [after[k] for k in after if k not in before]:
            diff.added[section] = added
        if removed := [before[k] for k in before if k not in after]:
            diff.removed[section] = removed
        if changed := [after[k] for k in after if k in before and before[k] != after[k]]:
            diff.changed[section] = changed
    return diff


COMPACT_IDS = 2  # citations a synthesis is shown per statement; the stored brain keeps more


def compact(sections: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """The brain as a synthesis reads it: one line per statement, without titles.

    `worked:pricing_change | n=12 | ids=41,57,63 | pricing_change: 12 moves, latest …`.
    Titles travel with the week's facts instead; `attach_titles` puts them back.
    """
    return {
        name: [
            f"{st.get('key') or '-'} | n={st.get('support') or len(st.get('decision_ids', []))} | "
            f"ids={','.join(str(i) for i in st.get('decision_ids', [])[-COMPACT_IDS:])} | {_unprefixed(st)}"
            for st in sections.get(name, [])
        ]
        for name in SECTIONS
    }


def _category_of(key: str | None) -> str | None:
    return key.rsplit(":", 1)[-1] if key and ":" in key else None


def _unprefixed(statement: dict[str, Any]) -> str:
    """The text without its leading "category: ", which the key already says."""
    category = _category_of(statement.get("key"))
    text = statement["text"]
    return text.removeprefix(f"{category}: ") if category else text


def expand(sections: dict[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    """Read `compact` lines back into statements (full statements pass through unchanged)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in SECTIONS:
        statements = []
        for item in sections.get(name, []):
            if isinstance(item, dict):
                statements.append(item)
                continue
            key, support, ids, text = (part.strip() for part in str(item).split(" | ", 3))
            category = _category_of(key)
            if category and not key.startswith("principle:"):
                text = f"{category}: {text}"
            statements.append(
                {
                    "key": None if key == "-" else key,
                    "text": text,
                    "decision_ids": [int(i) for i in ids.removeprefix("ids=").split(",") if i],
                    "support": int(support.removeprefix("n=")),
                }
            )
        out[name] = statements
    return out


def attach_titles(sections: dict[str, list[dict[str, Any]]], titles: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    """Give every citation its decision's title again, from what the synthesis was shown."""
    return {
        name: [{**s, "titles": [titles[i] for i in s.get("decision_ids", []) if i in titles]} for s in sections.get(name, [])]
        for name in SECTIONS
    }


def known_titles(previous: dict[str, list[dict[str, Any]]], facts: list[dict[str, Any]]) -> dict[int, str]:
    titles: dict[int, str] = {}
    for name in SECTIONS:
        for statement in previous.get(name, []):
            ids, names = statement.get("decision_ids", []), statement.get("titles", [])
            if len(ids) == len(names):
                titles.update(zip(ids, names))
    titles.update({f["id"]: f["title"] for f in facts})
    return titles


def cited_ids(sections: dict[str, list[dict[str, Any]]]) -> set[int]:
    return {i for name in SECTIONS for s in sections.get(name, []) for i in s.get("decision_ids", [])}
