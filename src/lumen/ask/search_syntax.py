"""Vocabulary phrases as full-text queries: SQLite FTS5 MATCH strings and Postgres tsquery text.

Both indexes hold words as written (migration 0004), so a phrase's spellings are listed, never
prefixed. Only [a-z0-9] tokens reach these strings (see `vocabulary.tokens`), so nothing a user
typed can change a query's syntax.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from lumen.ask.vocabulary import NEAR_GAP, Phrase

Where = Literal["all", "title", "named", "category"]  # every column; the title; the title and category; the category
FTS5_COLUMNS = {"title": "{title}", "named": "{title category}", "category": "{category}"}
PG_WEIGHTS = {"title": "A", "named": "AC", "category": "C"}


def _fts5_alternative(groups: tuple[tuple[str, ...], ...]) -> str:
    quoted = ['"' + " ".join(group) + '"' for group in groups]
    if len(quoted) == 1:
        return quoted[0]
    return f"NEAR({' '.join(quoted)}, {NEAR_GAP})"


def fts5(phrases: Iterable[Phrase], where: Where = "all") -> str:
    """One MATCH string finding any of the phrases; "" when there are none."""
    alternatives = sorted({_fts5_alternative(v) for p in phrases for v in p.variants()})
    if not alternatives:
        return ""
    expr = " OR ".join(alternatives)
    return f"{FTS5_COLUMNS[where]} : ({expr})" if where in FTS5_COLUMNS else expr


def fts5_except(include: str, exclude: str) -> str:
    return f"({include}) NOT ({exclude})" if include and exclude else include


def _pg_group(group: tuple[str, ...], weights: str) -> str:
    suffix = f":{weights}" if weights else ""
    return " <-> ".join(f"'{word}'{suffix}" for word in group)


def _pg_alternative(groups: tuple[tuple[str, ...], ...], weights: str) -> str:
    parts = [_pg_group(g, weights) for g in groups]
    if len(parts) == 1:
        return f"({parts[0]})"
    first, second = parts[0], parts[1]
    # "a ~ b": b follows a with up to NEAR_GAP words between (tsquery's <N> is an exact distance).
    return "(" + " | ".join(f"({first}) <{gap}> ({second})" for gap in range(1, NEAR_GAP + 2)) + ")"


def tsquery(phrases: Iterable[Phrase], where: Where = "all") -> str:
    """tsquery text (for `to_tsquery('simple', …)`) finding any of the phrases; "" when none."""
    weights = PG_WEIGHTS.get(where, "")
    alternatives = sorted({_pg_alternative(v, weights) for p in phrases for v in p.variants()})
    return " | ".join(alternatives)


def tsquery_except(include: str, exclude: str) -> str:
    return f"({include}) & !({exclude})" if include and exclude else include
