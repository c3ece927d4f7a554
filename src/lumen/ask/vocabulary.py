"""The topic vocabulary (vocabulary.yaml): its words found in questions and in decisions. Pure.

One word list serves both sides, so a question about "recruiting" finds the decision that says
"Bring on a freelance illustrator" only if both are written down as hiring here. Words match
whole (an unstemmed index), with their inflections spelled out: stemming would make "ads" match
"adding" and "rating" match "rate".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import yaml

SOURCE = Path(__file__).with_name("vocabulary.yaml")
TOKEN = re.compile(r"[a-z0-9]+")
NEAR_GAP = 4
NOUN_ENDINGS = ("ment", "ship", "tion", "sion", "ness", "ity", "ist", "er", "or", "ant", "ent", "ance", "ence", "ism", "al", "ic", "ure", "age")  # words allowed between the two sides of "a ~ b"


def tokens(text: str) -> list[str]:
    """Lowercase words and numbers, split the way both full-text indexes split them."""
    return TOKEN.findall(text.lower())


def forms(word: str) -> tuple[str, ...]:
    """A word and its plural and verb forms: "hire" → hire, hires, hired, hiring.

    Written out rather than stemmed, and conservative: short words only take a plural "s", and
    a word marked `word!` only itself. Forms that are not English words are harmless: no
    decision contains them.
    """
    if word.endswith("!"):
        return (word[:-1],)
    if not word.isalpha():
        return (word,)
    if len(word) < 4:
        return (word,) if word.endswith("s") else (word, word + "s")
    bases: set[str] = set()
    if word.endswith("ies") and len(word) > 4:
        bases.add(word[:-3] + "y")
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        bases.add(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        bases.add(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            bases |= {stem, stem + "e"}
            if stem[-1] == stem[-2]:
                bases.add(stem[:-1])
            if suffix == "ed" and stem.endswith("i"):
                bases.add(stem[:-1] + "y")
    bases = bases or {word}
    found = {word} | bases
    for base in bases:
        if len(base) < 3:
            continue
        if base.endswith(NOUN_ENDINGS):  # "recruitment", "internship": plurals, never verb forms
            found.add(base + ("es" if base.endswith(("s", "x", "z", "ch", "sh")) else "s"))
            continue
        if base.endswith(("s", "x", "z", "ch", "sh")):
            found.add(base + "es")
        elif base.endswith("y") and base[-2:-1] not in "aeiou":
            found |= {base[:-1] + "ies", base[:-1] + "ied"}
        else:
            found.add(base + "s")
        if base.endswith("e") and not base.endswith("ee"):
            found |= {base + "d", base[:-1] + "ing"}
        else:
            found |= {base + "ed", base + "ing"}
        if len(base) <= 5 and re.search(r"[^aeiou][aeiou][bdgklmnprt]$", base):
            found |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return tuple(sorted(found))


@dataclass(frozen=True)
class Phrase:
    """A word or phrase of the vocabulary: groups of words, a gap of up to NEAR_GAP words allowed
    between groups ("knock ~ off")."""

    text: str
    groups: tuple[tuple[str, ...], ...]
    exact: bool = False

    @classmethod
    def parse(cls, text: str) -> Phrase:
        exact = text.endswith("!")
        groups = tuple(tuple(tokens(part)) for part in text.rstrip("!").split("~"))
        return cls(text=text, groups=tuple(g for g in groups if g), exact=exact)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for g in self.groups for w in g)

    def last_forms(self) -> tuple[str, ...]:
        """The forms of the last word: all of them for a single word, plurals only in a phrase.
        A word already inflected ("hiring", "listed") keeps its form: its base may mean something
        else ("staffing" is hiring, "staff accounts" is not)."""
        last = self.groups[-1][-1]
        if self.exact:
            return (last,)
        if len(self.words) == 1:
            if last.endswith(("ing", "ed")) and len(last) > 5:
                return (last, last + "s") if last.endswith("ing") else (last,)
            return forms(last)
        if len(last) >= 4 and last.isalpha() and not last.endswith("s"):
            if last.endswith("y") and last[-2] not in "aeiou":
                return (last, last[:-1] + "ies")
            return (last, last + ("es" if last.endswith(("x", "z", "ch", "sh")) else "s"))
        return (last,)

    def variants(self) -> list[tuple[tuple[str, ...], ...]]:
        """Every spelling, as groups of words."""
        head = self.groups[:-1]
        tail = self.groups[-1][:-1]
        return [(*head, (*tail, last)) for last in self.last_forms()]

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern())

    @cached_property
    def first_words(self) -> frozenset[str]:
        return frozenset(v[0][0] for v in self.variants())

    def pattern(self) -> str:
        """A regex over a space-joined token string (" a b c ")."""
        gap = rf"(?: \S+){{0,{NEAR_GAP}}}"
        alternatives = []
        for variant in self.variants():
            alternatives.append(gap.join(" " + " ".join(map(re.escape, group)) for group in variant))
        return "(?:" + "|".join(alternatives) + ")(?= )"


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    parent: str | None
    categories: tuple[str, ...]
    phrases: tuple[Phrase, ...]
    not_phrases: tuple[Phrase, ...] = ()
    with_amount: bool = False
    weak: frozenset[str] = frozenset()  # phrases (as written) that name it only when nothing else does


@dataclass(frozen=True)
class Found:
    """Vocabulary found in a question: which entry, which words, where (token indexes)."""

    key: str  # topic key, or "" for a specific
    phrase: Phrase
    start: int
    end: int  # exclusive

    @property
    def text(self) -> str:
        return " ".join(self.phrase.words)

    def weak(self, vocab: Vocabulary) -> bool:
        return bool(self.key) and self.phrase.text in vocab.topics[self.key].weak


@dataclass(frozen=True)
class Vocabulary:
    topics: dict[str, Topic]
    specifics: tuple[Phrase, ...]
    filler: frozenset[str]
    synonyms: dict[str, frozenset[str]] = field(default_factory=dict)

    def children(self, key: str) -> list[str]:
        return [t.key for t in self.topics.values() if t.parent == key]

    def family(self, key: str) -> list[str]:
        """A topic and every topic under it."""
        found = [key]
        for child in self.children(key):
            found += self.family(child)
        return found

    def ancestors(self, key: str) -> list[str]:
        found = []
        parent = self.topics[key].parent
        while parent:
            found.append(parent)
            parent = self.topics[parent].parent
        return found

    def labels(self) -> dict[str, str]:
        return {k: t.label for k, t in self.topics.items()}

    def narrowest(self, keys: Iterable[str]) -> tuple[str, ...]:
        """Drop a topic when one of its descendants is also asked about ("paid social campaigns")."""
        keys = list(dict.fromkeys(keys))
        return tuple(k for k in keys if not any(k in self.ancestors(other) for other in keys if other != k))

    def category_topics(self, category: str) -> list[str]:
        return [t.key for t in self.topics.values() if category in t.categories]

    def find(self, words: Sequence[str]) -> list[Found]:
        """Topic words and specifics in a tokenised question, longest first, never overlapping."""
        joined = " " + " ".join(words) + " "
        # Token index of every character offset that starts a token.
        starts: dict[int, int] = {}
        offset = 1
        for index, word in enumerate(words):
            starts[offset] = index
            offset += len(word) + 1
        candidates: list[tuple[int, int, str, Phrase]] = []
        present = set(words)
        for key, phrase in self._entries:
            if not phrase.first_words & present:
                continue
            for m in phrase.regex.finditer(joined):
                first = starts.get(m.start() + 1)
                if first is None:
                    continue
                last = first + len(m.group(0).split())
                candidates.append((first, last, key, phrase))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2] != "", c[0]))  # longest; specifics first
        taken: set[int] = set()
        found: list[Found] = []
        for first, last, key, phrase in candidates:
            span = set(range(first, last))
            if span & taken:
                continue
            if key and self._negated(key, words, first, last):
                continue
            taken |= span
            found.append(Found(key, phrase, first, last))
        return sorted(found, key=lambda f: f.start)

    def _negated(self, key: str, words: Sequence[str], first: int, last: int) -> bool:
        """The topic's `not` phrases cover these words ("ad hoc" is not an ad)."""
        joined = " " + " ".join(words) + " "
        for phrase in self.topics[key].not_phrases:
            for m in phrase.regex.finditer(joined):
                index = joined[: m.start() + 1].count(" ") - 1
                if index <= first and index + len(m.group(0).split()) >= last:
                    return True
        return False

    @cached_property
    def _entries(self) -> list[tuple[str, Phrase]]:
        """Specifics first, then every topic's phrases."""
        return [("", p) for p in self.specifics] + [(t.key, p) for t in self.topics.values() for p in t.phrases]

    @cached_property
    def all_words(self) -> frozenset[str]:
        """Every word any topic uses."""
        return frozenset(w for t in self.topics.values() for p in t.phrases for w in p.words)

    def synonyms_of(self, word: str) -> frozenset[str]:
        return self.synonyms.get(word, frozenset({word}))


def _phrases(items: Iterable[str]) -> tuple[Phrase, ...]:
    return tuple(Phrase.parse(str(item)) for item in items)


def parse_vocabulary(data: dict) -> Vocabulary:
    topics = {}
    for key, entry in data["topics"].items():
        topics[key] = Topic(
            key=key,
            label=entry.get("label", key),
            parent=entry.get("parent"),
            categories=tuple(entry.get("categories", ())),
            phrases=_phrases(entry.get("words", ())),
            not_phrases=_phrases(entry.get("not", ())),
            with_amount=bool(entry.get("with_amount", False)),
            weak=frozenset(str(w) for w in entry.get("weak", ())),
        )
    for topic in topics.values():
        if topic.parent is not None and topic.parent not in topics:
            raise ValueError(f"topic {topic.key}: unknown parent {topic.parent}")
    synonyms: dict[str, frozenset[str]] = {}
    for group in data.get("synonyms", ()):
        words = frozenset(str(w) for w in group)
        for word in words:
            synonyms[word] = synonyms.get(word, frozenset()) | words
    return Vocabulary(
        topics=topics,
        specifics=_phrases(data.get("specifics", ())),
        filler=frozenset(str(w) for w in data.get("filler", ())),
        synonyms=synonyms,
    )


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary Lumen ships, read once."""
    return parse_vocabulary(yaml.safe_load(SOURCE.read_text(encoding="utf-8")))
