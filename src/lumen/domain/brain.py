"""Pure brain rules: the extractive synthesis that closes the loop, diffs that say why, ISO weeks.

A brain is bounded by the venture's categories, not by its history: per category one
statement of the moves that worked, one of those that failed, one of mixed records, a
principle, the open bets and the latest rejections. A move is a decision title; each move
keeps the verdicts of its latest `WINDOW` tries (as a string like "SSF"), so older
evidence ages out and a move whose odds drifted is judged again. A synthesis therefore reads
brain N plus the week, and an agent's context is the same size in week 1 and in year 3.

The loop closes here: a synthesis folds the outcomes of the decisions made since brain N
into each move's record, moves them between "worked", "failed" and "mixed" as their
record changes, and every statement says how it changed and because of which decisions.

Attribution: a statement cites exactly the decisions it is about. It names each of its
moves in its text and cites that move's latest tries; `titles` and `verdicts` run parallel
to `decision_ids`. A principle names no title and cites the latest tries of its category.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SECTIONS = ("principles", "worked", "failed", "open_bets", "questions")
WINDOW = 8  # recent tries a move is judged by
MOVES_SHOWN = 4  # moves one statement keeps (the most recently tried)
CITED_PER_MOVE = 2  # each move's latest tries a statement cites
MAX_STATEMENTS = 12  # per section
CITATIONS_KEPT = MOVES_SHOWN * CITED_PER_MOVE
OUTCOMES = {"success": "S", "failure": "F", "mixed": "M"}
LETTERS = {v: k for k, v in OUTCOMES.items()}
WORKED_AT = 0.6  # a move whose recent tries succeed this often "worked"
FAILED_AT = 0.4  # … and this rarely "failed"; in between its record is mixed
PRINCIPLE_MIN_TRIES = 3
NEWS_SHOWN = 6  # outcomes a "because" names by number
BECAUSE_CHARS = 900  # within the schema's 1000

Statement = dict[str, Any]
Sections = dict[str, list[Statement]]


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def move_key(title: str) -> str:
    """The identity of a move across decisions: its title, case and spacing aside."""
    return " ".join(title.casefold().split())


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
    brain_version: int | None = None  # the brain it was decided under

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Evidence:
    tries: int = 0
    worked: int = 0
    failed: int = 0
    mixed: int = 0

    @property
    def rate(self) -> float | None:
        """The share that worked (a mixed result counts half); None before any try."""
        return (self.worked + 0.5 * self.mixed) / self.tries if self.tries else None

    def __add__(self, other: Evidence) -> Evidence:
        return Evidence(
            self.tries + other.tries, self.worked + other.worked, self.failed + other.failed, self.mixed + other.mixed
        )

    def as_json(self) -> dict[str, int]:
        return {"tries": self.tries, "worked": self.worked, "failed": self.failed, "mixed": self.mixed}

    @classmethod
    def of(cls, recent: str) -> Evidence:
        return cls(len(recent), recent.count("S"), recent.count("F"), recent.count("M"))

    @classmethod
    def from_json(cls, data: Any) -> Evidence:
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: int(data.get(k) or 0) for k in ("tries", "worked", "failed", "mixed")})


def evidence_of(statement: Statement) -> Evidence:
    return Evidence.from_json(statement.get("evidence"))


@dataclass
class Move:
    """What a brain knows of one move: its latest tries, open bets and last rejection."""

    title: str
    category: str
    tried: list[tuple[int, str]] = field(default_factory=list)  # (decision id, S/F/M), oldest first
    support: int = 0  # tries in all, the aged-out ones included
    open: list[int] = field(default_factory=list)
    rejected: tuple[int, str] | None = None  # (decision id, reason)
    added: list[tuple[int, str]] = field(default_factory=list)  # outcomes this synthesis folded in
    metric: str = ""  # the latest outcome's metric change, for the text
    was: str | None = None  # the group it was in, in brain N

    @property
    def recent(self) -> str:
        return "".join(letter for _, letter in self.tried)

    @property
    def evidence(self) -> Evidence:
        return Evidence.of(self.recent)

    @property
    def group(self) -> str | None:
        rate = self.evidence.rate
        if rate is None:
            return None
        return "worked" if rate >= WORKED_AT else "failed" if rate <= FAILED_AT else "mixed"

    @property
    def moved(self) -> bool:
        """Brain N had it in another group (or as an open bet)."""
        return self.was is not None and self.was != self.group

    @property
    def latest(self) -> int:
        return max([i for i, _ in self.tried] + self.open + [0])

    def record(self, decision_id: int, verdict: str) -> None:
        letter = OUTCOMES[verdict]
        for index, (known, _) in enumerate(self.tried):
            if known == decision_id:  # a corrected outcome replaces the first
                self.tried[index] = (decision_id, letter)
                self.added.append((decision_id, letter))
                return
        self.tried = sorted([*self.tried, (decision_id, letter)])[-WINDOW:]
        self.support += 1
        self.added.append((decision_id, letter))
        if decision_id in self.open:
            self.open.remove(decision_id)


def short_title(text: str, limit: int = 80) -> str:
    """A title as a statement names it: long ones are cut, and say so."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _metric(fact: DecisionFact) -> str:
    if fact.metric and fact.before is not None and fact.after is not None:
        return f" ({fact.metric} {fact.before:g} → {fact.after:g})"
    return ""


def moves_of(sections: dict[str, list[Any]]) -> dict[str, Move]:
    """Every move a brain knows, rebuilt from its statements."""
    moves: dict[str, Move] = {}
    for name in SECTIONS:
        for statement in sections.get(name, []):
            if not isinstance(statement, dict):
                continue
            kind = str(statement.get("key") or "").split(":", 1)[0]
            category = str(statement.get("category") or "")
            for entry in statement.get("moves", []):
                title = str(entry.get("title") or "")
                move = moves.setdefault(move_key(title), Move(title=title, category=category))
                if kind in ("worked", "failed", "mixed"):
                    ids = list(entry.get("ids", []))
                    recent = str(entry.get("recent") or "")
                    # The cited ids are the latest tries; older ones in the window keep a 0 id.
                    padded = [0] * (len(recent) - len(ids)) + ids[-len(recent) :] if recent else []
                    move.tried = list(zip(padded, recent, strict=True))
                    move.support = int(entry.get("support") or len(recent))
                    move.was = kind
                elif kind == "bet":
                    move.open = list(entry.get("ids", []))
                    move.was = move.was or "bet"
                elif kind == "rejected" and entry.get("ids"):
                    move.rejected = (entry["ids"][-1], str(entry.get("reason") or ""))
    return moves


def extractive_brain(previous: dict[str, list[Any]], facts: Iterable[DecisionFact]) -> Sections:
    """Brain N+1 from brain N and the decisions touched since it was built."""
    moves = moves_of(previous)
    old = {s.get("key"): s for name in SECTIONS for s in previous.get(name, []) if isinstance(s, dict)}
    for fact in sorted(facts, key=lambda f: f.id):
        move = moves.setdefault(move_key(fact.title), Move(title=fact.title, category=fact.category))
        move.title, move.category = fact.title, fact.category  # the latest spelling
        if fact.status in ("rejected", "expired"):
            reason = fact.reason or ("nobody decided in time" if fact.status == "expired" else "no reason given")
            move.rejected = (fact.id, reason)
            if fact.id in move.open:
                move.open.remove(fact.id)
        elif fact.verdict in OUTCOMES:
            move.record(fact.id, fact.verdict)
            move.metric = _metric(fact) or move.metric  # the latest metric reported
        elif fact.status == "executed" and fact.id not in move.open and fact.id not in {i for i, _ in move.tried}:
            move.open.append(fact.id)
    return build_sections(moves, old)


def build_sections(moves: dict[str, Move], old: dict[Any, Statement] | None = None) -> Sections:
    old = old or {}
    by_category: dict[str, list[Move]] = defaultdict(list)
    for move in moves.values():
        by_category[move.category].append(move)
    sections: Sections = {name: [] for name in SECTIONS}
    for category, group_moves in sorted(by_category.items()):
        for group, section in (("worked", "worked"), ("failed", "failed"), ("mixed", "questions")):
            members = [m for m in group_moves if m.group == group]
            if members:
                sections[section].append(_judged(group, category, members, old))
        if principle := _principle(category, [m for m in group_moves if m.tried], old):
            sections["principles"].append(principle)
        if bets := [m for m in group_moves if m.open]:
            sections["open_bets"].append(_bets(category, bets, old))
        if rejected := [m for m in group_moves if m.rejected]:
            sections["questions"].append(_rejections(category, rejected, old))
    for name in SECTIONS:
        # Bounded: the most recently evidenced statements stay; older ones retire (the diff says so).
        ranked = sorted(sections[name], key=lambda s: max(s["decision_ids"] or [0]), reverse=True)[:MAX_STATEMENTS]
        sections[name] = sorted(ranked, key=lambda s: s["key"])
    return sections


def _latest(members: list[Move]) -> list[Move]:
    """The moves a statement shows: those that changed group since brain N first (an open bet
    whose outcome came in, a winner that started failing), then those with any news, then the
    most recently tried."""
    return sorted(members, key=lambda m: (m.moved, bool(m.added), m.latest), reverse=True)[:MOVES_SHOWN]


def _cite(entries: list[tuple[Move, list[int], list[str]]]) -> dict[str, list[Any]]:
    ids, titles, verdicts = [], [], []
    for move, move_ids, move_verdicts in entries:
        for decision_id, verdict in zip(move_ids, move_verdicts, strict=True):
            if decision_id:
                ids.append(decision_id)
                titles.append(move.title)
                verdicts.append(verdict)
    return {"decision_ids": ids, "titles": titles, "verdicts": verdicts}


def _news(outcomes: list[tuple[int, str]]) -> str:
    """The outcomes that changed a statement, the latest few by number, the rest counted: a first
    synthesis over a long history must not write a reason longer than the statement."""
    shown = sorted(outcomes)[-NEWS_SHOWN:]
    text = ", ".join(f"#{i} {_word(letter)}" for i, letter in shown)
    if len(outcomes) > len(shown):
        text += f" and {len(outcomes) - len(shown)} earlier outcome(s)"
    return text


def _word(letter: str) -> str:
    return {"S": "worked", "F": "failed", "M": "mixed"}.get(letter, letter)


def _judged(group: str, category: str, members: list[Move], old: dict[Any, Statement]) -> Statement:
    key = f"{group}:{category}"
    shown = _latest(members)
    parts = []
    for move in shown:
        ev = move.evidence
        count = ev.worked if group != "failed" else ev.failed
        verb = "worked" if group != "failed" else "failed"
        parts.append(f"“{short_title(move.title)}” {count} of {ev.tries}{' ' + verb if group == 'mixed' else ''}{move.metric}")
    label = {"worked": "worked", "failed": "failed", "mixed": "had mixed results"}[group]
    text = f"{category} moves that {label}: " + "; ".join(parts)
    if group == "mixed":
        text += ". What decides them?"
    entries = []
    for move in shown:
        cited = [(i, letter) for i, letter in move.tried if i][-CITED_PER_MOVE:]
        entries.append((move, [i for i, _ in cited], [LETTERS[letter] for _, letter in cited]))
    total = sum((m.evidence for m in shown), Evidence())
    change, because = _change(key, group, shown, old)
    return {
        "key": key,
        "category": category,
        "text": text,
        "moves": [
            {"title": m.title, "recent": m.recent, "support": m.support, "ids": [i for i, _ in m.tried if i][-WINDOW:]}
            for m in shown
        ],
        **_cite(entries),
        "evidence": total.as_json(),
        "support": sum(m.support for m in shown),
        "change": change,
        "because": because,
    }


def _change(key: str, group: str, shown: list[Move], old: dict[Any, Statement]) -> tuple[str, str]:
    """How a statement changed from brain N, and the decisions that changed it."""
    reasons = []
    toward = away = 0
    for move in shown:
        news = _news(move.added)
        if move.was is not None and move.was != group:
            was = "the open bets" if move.was == "bet" else move.was
            reasons.append(f"“{short_title(move.title, 48)}” moved here from {was} ({news or 'its window aged'})")
            toward += 1
        elif news:
            reasons.append(f"“{short_title(move.title, 48)}”: {news}")
            wins = sum(1 for _, letter in move.added if letter == "S")
            losses = sum(1 for _, letter in move.added if letter == "F")
            good = wins >= losses if group == "worked" else losses >= wins if group == "failed" else True
            toward, away = toward + good, away + (not good)
    because = short_title("; ".join(reasons), BECAUSE_CHARS)
    if key not in old:
        return "new", because or "first recorded"
    if not reasons:
        return "kept", "no new outcome"
    change = "strengthened" if toward >= away else "weakened"
    return change, because


def _principle(category: str, tried: list[Move], old: dict[Any, Statement]) -> Statement | None:
    """What the category's recent tries say, over all its moves."""
    ev = sum((m.evidence for m in tried), Evidence())
    rate = ev.rate
    if rate is None or ev.tries < PRINCIPLE_MIN_TRIES:
        return None
    if rate >= WORKED_AT:
        text, group = f"Lean into {category}: {ev.worked} of {ev.tries} recent tries worked, over {len(tried)} move(s).", "worked"
    elif rate <= FAILED_AT:
        text, group = f"Be wary of {category}: {ev.failed} of {ev.tries} recent tries failed, over {len(tried)} move(s).", "failed"
    else:
        return None
    key = f"principle:{category}"
    latest = sorted(((i, letter, m) for m in tried for i, letter in m.tried if i), key=lambda t: t[0])[-CITATIONS_KEPT:]
    news = sorted((i, letter) for m in tried for i, letter in m.added)
    was = old.get(key)
    if was is None:
        change, because = "new", _news(news) or "first recorded"
    elif not news:
        change, because = "kept", "no new outcome"
    else:
        before = evidence_of(was).rate or 0.0
        better = rate >= before if group == "worked" else rate <= before
        change = "strengthened" if better and str(was.get("text", "")).split()[0] == text.split()[0] else "weakened"
        because = _news(news)
    return {
        "key": key,
        "category": category,
        "text": text,
        "moves": [],
        "decision_ids": [i for i, _, _ in latest],
        "titles": [m.title for _, _, m in latest],
        "verdicts": [LETTERS[letter] for _, letter, _ in latest],
        "evidence": ev.as_json(),
        "support": sum(m.support for m in tried),
        "change": change,
        "because": because,
    }


def _bets(category: str, members: list[Move], old: dict[Any, Statement]) -> Statement:
    shown = _latest(members)
    key = f"bet:{category}"
    text = f"{category}: awaiting outcomes of " + "; ".join(f"“{short_title(m.title)}” ({len(m.open)})" for m in shown)
    entries = [(m, sorted(m.open)[-CITED_PER_MOVE:], ["open"] * len(sorted(m.open)[-CITED_PER_MOVE:])) for m in shown]
    return {
        "key": key,
        "category": category,
        "text": text,
        "moves": [{"title": m.title, "ids": sorted(m.open)[-WINDOW:]} for m in shown],
        **_cite(entries),
        "evidence": Evidence().as_json(),
        "support": sum(len(m.open) for m in shown),
        "change": "new" if key not in old else "kept",
        "because": "decisions executed, outcomes not yet reported",
    }


def _rejections(category: str, members: list[Move], old: dict[Any, Statement]) -> Statement:
    shown = sorted(members, key=lambda m: m.rejected[0] if m.rejected else 0, reverse=True)[:MOVES_SHOWN]
    key = f"rejected:{category}"
    parts = [f"“{short_title(m.title)}” ({short_title(m.rejected[1], 160)})" for m in shown if m.rejected]
    entries = [(m, [m.rejected[0]], ["rejected"]) for m in shown if m.rejected]
    return {
        "key": key,
        "category": category,
        "text": f"{category}: humans turned down " + "; ".join(parts) + ". Revisit only with a new reason.",
        "moves": [{"title": m.title, "ids": [m.rejected[0]], "reason": m.rejected[1]} for m in shown if m.rejected],
        **_cite(entries),
        "evidence": Evidence().as_json(),
        "support": len(shown),
        "change": "new" if key not in old else "kept",
        "because": "a human's reason",
    }


# --- diffs ---------------------------------------------------------------------------------


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


DIFF_LINE = 280  # a diff line is one change, readable at a glance


def _line(text: str) -> str:
    return text if len(text) <= DIFF_LINE else text[: DIFF_LINE - 1].rstrip() + "…"


def _why(statement: Statement) -> str:
    """A changed statement: what it is about, how it changed, and the decisions that changed it."""
    change, because = statement.get("change") or "changed", statement.get("because")
    subject = str(statement.get("category") or statement.get("key") or "")
    return _line(f"{subject} {change}: {because}" if because else str(statement["text"]))


def diff_brains(old: dict[str, list[Statement]], new: dict[str, list[Statement]]) -> BrainDiff:
    """What changed between two brains, each change with the decisions that caused it."""
    diff = BrainDiff()
    for section in SECTIONS:
        before = {s.get("key") or s["text"]: s for s in old.get(section, [])}
        after = {s.get("key") or s["text"]: s for s in new.get(section, [])}
        if added := [_line(str(after[k]["text"])) for k in after if k not in before]:
            diff.added[section] = added
        if removed := [_line(str(before[k]["text"])) for k in before if k not in after]:
            diff.removed[section] = removed
        if changed := [_why(after[k]) for k in after if k in before and before[k]["text"] != after[k]["text"]]:
            diff.changed[section] = changed
    return diff


# --- the brain as a synthesis prompt reads it ---------------------------------------------------


def compact(sections: dict[str, list[Statement]]) -> dict[str, list[dict[str, Any]]]:
    """The brain as a synthesis reads it: each statement's words, citations, record and change.

    The moves and title lists stay out: the text already names each move with its record, and
    `merge_written` takes them from the draft Lumen keeps, so sending them would only double
    the brain's share of the prompt."""
    keep = ("key", "category", "text", "decision_ids", "evidence", "change", "because")
    return {
        name: [
            {k: s[k] for k in keep if k in s and not (k == "because" and s.get("change") == "kept")}
            for s in sections.get(name, [])
        ]
        for name in SECTIONS
    }


def expand(sections: dict[str, list[Any]]) -> dict[str, list[Statement]]:
    """`compact` statements back into full ones, as far as they go (full ones pass through)."""
    return {name: [dict(s) for s in sections.get(name, []) if isinstance(s, dict)] for name in SECTIONS}


def attach_titles(sections: dict[str, list[Statement]], titles: dict[int, str]) -> dict[str, list[Statement]]:
    """Give every citation its decision's title again, from what the synthesis was shown."""
    return {
        name: [{**s, "titles": [titles.get(i, "") for i in s.get("decision_ids", [])]} for s in sections.get(name, [])]
        for name in SECTIONS
    }


def known_titles(previous: dict[str, list[Statement]], facts: list[dict[str, Any]]) -> dict[int, str]:
    titles: dict[int, str] = {}
    for name in SECTIONS:
        for statement in previous.get(name, []):
            ids, names = statement.get("decision_ids", []), statement.get("titles", [])
            if len(ids) == len(names):
                titles.update(zip(ids, names, strict=True))
            for move in statement.get("moves", []):
                titles.update({i: move.get("title", "") for i in move.get("ids", [])})
    titles.update({f["id"]: f["title"] for f in facts})
    return titles


def merge_written(draft: Sections, written: dict[str, list[Statement]]) -> Sections:
    """A model's brain on top of the records' draft.

    For a key both have, the draft keeps its numbers, moves and citations (the records'), and
    the model's words and judgement (`text`, `change`, `because`) replace the draft's; a
    statement the model retires is dropped. The model's own statements (a new principle, a
    question) stand beside them, their record counted from the decisions they cite. A draft
    statement the model left out stays: its record still holds.
    """
    verdicts = {
        i: v
        for name in SECTIONS
        for s in draft.get(name, [])
        for i, v in zip(s.get("decision_ids", []), s.get("verdicts", []), strict=False)
    }
    out: Sections = {}
    for name in SECTIONS:
        drafted = {s.get("key"): s for s in draft.get(name, [])}
        merged: list[Statement] = []
        seen: set[Any] = set()
        for statement in written.get(name, []):
            key = statement.get("key")
            if key in drafted:
                seen.add(key)
                if statement.get("change") == "retired":
                    continue
                base = drafted[key]
                merged.append(
                    base
                    | {field: statement[field] for field in ("text", "change", "because") if statement.get(field)}
                )
            elif statement.get("decision_ids"):
                ids = list(statement["decision_ids"])
                merged.append(
                    {
                        **statement,
                        "key": key or f"{name}:model:{len(merged)}",
                        "moves": [],
                        "verdicts": [verdicts.get(i, "") for i in ids],
                        "evidence": Evidence.of("".join(OUTCOMES.get(verdicts.get(i, ""), "") for i in ids)).as_json(),
                        "change": statement.get("change") or "new",
                    }
                )
        merged += [s for key, s in drafted.items() if key not in seen]
        out[name] = sorted(merged, key=lambda s: str(s.get("key")))[:MAX_STATEMENTS]
    return out


def cited_ids(sections: dict[str, list[Statement]]) -> set[int]:
    return {i for name in SECTIONS for s in sections.get(name, []) for i in s.get("decision_ids", [])}


def followed(previous: dict[str, list[Statement]], facts: Iterable[DecisionFact], version: int) -> dict[str, list[int]]:
    """Per statement of brain N, the decisions made under brain N that it is about (its
    moves, or its category for a principle): what a synthesis judges the statement by."""
    under = [f for f in facts if f.brain_version == version]
    out: dict[str, list[int]] = {}
    for name in SECTIONS:
        for statement in previous.get(name, []):
            key = str(statement.get("key") or "")
            if key.startswith("principle:"):
                ids = [f.id for f in under if f.category == statement.get("category")]
            else:
                titles = {move_key(str(m.get("title") or "")) for m in statement.get("moves", [])}
                ids = [f.id for f in under if move_key(f.title) in titles]
            if ids:
                out[key] = ids
    return out
