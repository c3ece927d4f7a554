"""Vocabulary phrases as full-text queries: SQLite FTS5 MATCH strings and Postgres tsquery text.

Both indexes hold words as written (migration 0004), so a phrase's spellings are listed, never
prefixed. Only [a-z0-9] tokens reach these strings (see `vocabulary.tokens`), so nothing a user
typed can change a query's syntax.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from lumen.ask.vocabulary import Phrase

Where = Literal["all", "title", "named", "category"]  # every column; the title; the title and category; the category
FTS5_COLUMNS = {"title": "{title}", "named": "{title category}", "category": "{category}"}
PG_WEIGHTS = {"title": "A", "named": "AC", "category": "C"}


def _fts5_phrase(phrase: Phrase) -> str:
    """One phrase as an FTS5 expression: its spellings OR-ed; "a ~ b" as a AND b (both in the
    same column set; titles are a line long), far cheaper for FTS5 than NEAR over every row."""
    variants = phrase.variants()
    if len(phrase.groups) == 1:
        return " OR ".join('"' + " ".join(v[0]) + '"' for v in variants)
    head = " AND ".join('"' + " ".join(g) + '"' for g in phrase.groups[:-1])
    tails = " OR ".join('"' + " ".join(v[-1]) + '"' for v in variants)
    return f"({head} AND ({tails}))"


def fts5(phrases: Iterable[Phrase], where: Where = "all") -> str:
    """One MATCH string finding any of the phrases; "" when there are none."""
    alternatives = sorted({_fts5_phrase(p) for p in phrases})
    if not alternatives:
        return ""
    expr = " OR ".join(alternatives)
    return f"{FTS5_COLUMNS[where]} : ({expr})" if where in FTS5_COLUMNS else expr


def fts5_except(include: str, exclude: str) -> str:
    return f"({include}) NOT ({exclude})" if include and exclude else include


def _pg_word(word: str, weights: str) -> str:
    return f"'{word}'" + (f":{weights}" if weights else "")


def _pg_phrase(phrase: Phrase, weights: str) -> str:
    """One phrase as tsquery text, its spellings folded in: "pro plan" → 'pro' <-> ('plan' | 'plans').

    "a ~ b" (b near a) becomes a & b: decisions' titles are a line long, so both words in one is
    as good as near, and Postgres tests it far faster than every distance spelled out (it tests
    the whole query on each row it filters)."""
    last = phrase.last_forms()
    tail = _pg_word(last[0], weights) if len(last) == 1 else "(" + " | ".join(_pg_word(w, weights) for w in last) + ")"
    groups: list[str] = []
    for index, group in enumerate(phrase.groups):
        words = [_pg_word(w, weights) for w in group]
        if index == len(phrase.groups) - 1:
            words[-1] = tail
        groups.append(" <-> ".join(words))
    return "(" + " & ".join(f"({g})" if "<->" in g and len(groups) > 1 else g for g in groups) + ")"


def tsquery(phrases: Iterable[Phrase], where: Where = "all") -> str:
    """tsquery text (for `to_tsquery('simple', …)`) finding any of the phrases; "" when none."""
    weights = PG_WEIGHTS.get(where, "")
    return " | ".join(sorted({_pg_phrase(p, weights) for p in phrases}))


def tsquery_except(include: str, exclude: str) -> str:
    return f"({include}) & !({exclude})" if include and exclude else include
