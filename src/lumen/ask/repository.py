"""Retrieval: the decisions a typed query asks for, with their outcomes and approvals. Queries only.

Hard filters come only from what was understood with confidence: ventures, period, topics
(their categories, or their words whole in the title or category), exclusions, outcome,
status, amount. Within them:
  * named things ("SOC 2", "Gusto") narrow the answer to the decisions that mention them (in
    the title first), and so do the words of a "did X work?" question;
  * other free words rank: decisions that mention them come first, none is dropped for not
    mentioning them; only when nothing else says what the question is about do they filter
    (any of them).
Full text is SQLite FTS5 or the stored Postgres tsvector (migration 0004), words as written.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, and_, case, exists, literal_column, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from lumen.ask.search_syntax import Where, fts5, fts5_except, tsquery, tsquery_except
from lumen.ask.vocabulary import Phrase, Vocabulary, tokens, vocabulary
from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, Outcome, Venture, Verdict
from lumen.domain.ask_query import AskQuery

PAGE = 25  # records in the first answer; the rest come with "Show all"
CAP = 200  # the most one answer lists ("Show all", --all); beyond it, "200+" and narrow the question
NARROW_SCAN = 400  # newest candidates weighed when named things narrow an answer
TOPIC_WHERE: Where = "named"  # a topic's words count in the title and category, not the rationale


@dataclass(frozen=True)
class Record:
    decision_id: int
    venture_slug: str
    venture_name: str
    title: str
    category: str
    status: str
    created_at: datetime
    amount_usd: str | None
    brain_version: int | None
    permalink: str | None
    verdict: str | None = None
    metric: str | None = None
    before: float | None = None
    after: float | None = None
    outcome_note: str | None = None
    reason: str | None = None  # why a human rejected it
    corrected_from: str | None = None  # the verdict a later outcome replaced
    approval: str | None = None  # the approval's status, when a human was asked

    def as_json(self) -> dict:
        data = self.__dict__.copy()
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class Retrieved:
    ids: list[int]  # every match in answer order, at most CAP + 1
    unmatched: tuple[str, ...] = ()  # named things nothing mentioned

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def more_than_cap(self) -> bool:
        return len(self.ids) > CAP


class _Sql:
    """Full-text conditions for one dialect, each with bind parameters of its own."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        self._names = itertools.count()

    @staticmethod
    def _tsquery(query: str, *, indexed: bool) -> ColumnElement[bool]:
        # Written into the statement, not bound: a prepared statement's generic plan cannot see
        # how rare the words are. Only [a-z0-9] tokens and tsquery operators reach it
        # (search_syntax), quotes doubled.
        literal = "'" + query.replace("'", "''") + "'"
        condition = f"decisions.search_vector @@ to_tsquery('simple', {literal})"
        return literal_column(f"({condition})" if indexed else f"coalesce({condition}, false)", Boolean)

    def match(self, phrases: Sequence[Phrase], where: Where = "all", without: Sequence[Phrase] = (),
              categories: Sequence[str] = (), indexed: bool = True) -> ColumnElement[bool] | None:
        """`indexed=False` (Postgres): hide the condition from the GIN index. A topic's long
        tsquery is badly estimated (phrases, weights); when a named thing narrows the answer, its
        own short, well-estimated condition should choose the plan, and the topic only filter."""
        name = f"ask_q{next(self._names)}"
        if self.postgres:
            found = tsquery(phrases, where)
            named = tsquery([Phrase.parse(c.replace("_", " ") + "!") for c in categories], "category")
            query = tsquery_except(" | ".join(q for q in (found, named) if q), tsquery(without, "all"))
            if not query:
                return None
            return self._tsquery(query, indexed=indexed)
        match = fts5_except(fts5(phrases, where), fts5(without))
        if not match:
            return None
        found = select(literal_column("rowid")).select_from(text("decisions_fts")).where(
            text(f"decisions_fts MATCH :{name}").bindparams(**{name: match})
        )
        return Decision.id.in_(found)


def _mentions(sql: _Sql, phrases: list[Phrase]) -> ColumnElement[bool] | None:
    """Any of these phrases, anywhere. On Postgres a phrase's first word is what the index (and
    the planner's estimate) sees: "soc <-> 2" is estimated as rare as "soc" times "2", hundreds
    of times too rare, and Postgres would then read every match before sorting."""
    whole = sql.match(phrases)
    if not sql.postgres or whole is None or all(len(p.words) == 1 for p in phrases):
        return whole
    first = sql.match([Phrase.parse(p.words[0] + "!") for p in phrases])
    exact = sql.match(phrases, indexed=False)
    return and_(first, exact) if first is not None and exact is not None else whole


def term_phrases(word: str, vocab: Vocabulary) -> list[Phrase]:
    """A free word or named thing as phrases: its forms, and for a single word its synonyms."""
    words = tokens(word)
    if len(words) != 1:
        return [Phrase.parse(word)]
    return [Phrase.parse(w) for w in sorted(vocab.synonyms_of(words[0]) | {words[0]})]


def _latest_verdict_in(verdicts: list[str]) -> ColumnElement[bool]:
    newer = aliased(Outcome)
    return exists().where(
        and_(
            Outcome.decision_id == Decision.id,
            Outcome.verdict.in_([Verdict(v) for v in verdicts]),
            ~exists().where(and_(newer.decision_id == Outcome.decision_id, newer.id > Outcome.id)),
        )
    )


def _outcome_filter(outcomes: Sequence[str]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    verdicts = [o for o in outcomes if o != "none"]
    if verdicts:
        clauses.append(_latest_verdict_in(verdicts))
    if "none" in outcomes:
        clauses.append(~exists().where(Outcome.decision_id == Decision.id))
    return or_(*clauses)


def _status_filter(statuses: Sequence[str]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    simple = {"rejected": DecisionStatus.REJECTED, "pending": DecisionStatus.AWAITING_APPROVAL, "expired": DecisionStatus.EXPIRED}
    wanted = [simple[s] for s in statuses if s in simple]
    if wanted:
        clauses.append(Decision.status.in_(wanted))
    if "approved" in statuses:
        clauses.append(Decision.status == DecisionStatus.APPROVED)
        clauses.append(
            exists().where(and_(Approval.decision_id == Decision.id, Approval.status == ApprovalStatus.APPROVED))
        )
    return or_(*clauses)


def _topic(sql: _Sql, vocab: Vocabulary, key: str, indexed: bool = True) -> ColumnElement[bool]:
    family = [vocab.topics[k] for k in vocab.family(key)]
    clauses: list[ColumnElement[bool]] = []
    categories = sorted({c for t in family for c in t.categories})
    phrases = [p for t in family for p in t.phrases]
    without = [p for t in family for p in t.not_phrases]
    if sql.postgres:
        # One tsquery for the words and the category, so the GIN index can find them together.
        words = sql.match(phrases, TOPIC_WHERE, without=without, categories=categories, indexed=indexed)
    else:
        if categories:
            clauses.append(Decision.category.in_(categories))
        words = sql.match(phrases, TOPIC_WHERE, without=without)
    if words is not None:
        clauses.append(words)
    if any(t.with_amount for t in family):
        clauses.append(Decision.amount_usd.is_not(None))
    return or_(*clauses)


def filters(dialect: str, query: AskQuery, venture_ids: Sequence[int], *, with_period: bool = True,
            vocab: Vocabulary | None = None, sql: _Sql | None = None) -> list[ColumnElement[bool]]:
    """The hard filters: what was understood with confidence."""
    vocab = vocab or vocabulary()
    sql = sql or _Sql(dialect)
    where: list[ColumnElement[bool]] = [Decision.venture_id.in_(list(venture_ids))]
    if with_period and query.period is not None:
        if query.period.start is not None:
            where.append(Decision.created_at >= query.period.start)
        if query.period.end is not None:
            where.append(Decision.created_at < query.period.end)
    topics = [t for t in query.topics if t in vocab.topics]
    if topics:
        indexed = not (query.specifics or _narrows(query))
        where.append(or_(*(_topic(sql, vocab, t, indexed) for t in topics)))
    for key in query.exclude_topics:
        if key in vocab.topics:
            where.append(not_(_topic(sql, vocab, key)))
    if query.exclude_terms:
        excluded = sql.match([p for t in query.exclude_terms for p in term_phrases(t, vocab)])
        if excluded is not None:
            where.append(not_(excluded))
    if query.outcomes:
        where.append(_outcome_filter(query.outcomes))
    if query.statuses:
        where.append(_status_filter(query.statuses))
    if query.corrected:
        where.append(exists().where(and_(Outcome.decision_id == Decision.id, Outcome.supersedes_id.is_not(None))))
    if query.min_amount_usd:
        where.append(Decision.amount_usd >= Decimal(str(query.min_amount_usd)))
    return where


def _narrows(query: AskQuery) -> bool:
    """Do free words narrow (rather than rank)? In "did X work?", and when nothing else says what it is about."""
    return bool(query.terms) and (query.kind == "yes_no" or not query.has_subject)


async def search(session: AsyncSession, query: AskQuery, venture_ids: Sequence[int], *,
                 vocab: Vocabulary | None = None) -> Retrieved:
    """Every decision the query asks for, in answer order (at most CAP + 1 ids)."""
    if not venture_ids:
        return Retrieved([])
    vocab = vocab or vocabulary()
    sql = _Sql(session.bind.dialect.name)
    where = filters(session.bind.dialect.name, query, venture_ids, vocab=vocab, sql=sql)
    if query.specifics or _narrows(query):
        narrowed = await _narrowed(session, sql, query, where, vocab)
        if narrowed.ids or query.specifics or not query.has_subject:
            return narrowed
    newest = await _ids(session, where)
    mentions = sql.match([p for t in query.terms for p in term_phrases(t, vocab)]) if query.terms else None
    if mentions is None:
        return Retrieved(newest)
    # Those that mention the free words first, then the rest, newest first within each: two
    # bounded queries rather than one ORDER BY that would test every matching row (at 1M rows,
    # seconds for a common venture).
    first = await _ids(session, [*where, mentions])
    return Retrieved((first + [i for i in newest if i not in set(first)])[: CAP + 1])


async def _ids(session: AsyncSession, where: list[ColumnElement[bool]]) -> list[int]:
    rows = await session.execute(
        select(Decision.id).where(*where).order_by(Decision.created_at.desc(), Decision.id.desc()).limit(CAP + 1)
    )
    return [r[0] for r in rows]


async def _narrowed(session: AsyncSession, sql: _Sql, query: AskQuery, where: list[ColumnElement[bool]],
                    vocab: Vocabulary) -> Retrieved:
    """Decisions that mention the named things (most of them, in the title if any does so), then,
    among those, the question's free words when it narrows by them."""
    groups: list[tuple[str, str, list[Phrase]]] = [("specific", s, term_phrases(s, vocab)) for s in query.specifics]
    if _narrows(query):
        groups += [("term", t, term_phrases(t, vocab)) for t in query.terms]
    columns = []
    anywhere = []
    for index, (_, _, phrases) in enumerate(groups):
        any_match = _mentions(sql, phrases)
        title_match = sql.match(phrases, "title")
        if any_match is None or title_match is None:
            continue
        anywhere.append(any_match)
        columns += [case((title_match, 2), (any_match, 1), else_=0).label(f"m{index}")]
    if not anywhere:
        return Retrieved([], unmatched=query.specifics)
    rows = (
        await session.execute(
            select(Decision.id, *columns).where(*where, or_(*anywhere))
            .order_by(Decision.created_at.desc(), Decision.id.desc()).limit(NARROW_SCAN)
        )
    ).all()
    kinds = [kind for kind, _, _ in groups]
    matches = [(row[0], list(row[1:])) for row in rows]
    specific_at = [i for i, k in enumerate(kinds) if k == "specific"]
    term_at = [i for i, k in enumerate(kinds) if k == "term"]
    if specific_at:
        matches = _best(matches, specific_at)
        if not matches:
            found = {query.specifics[i] for i in specific_at}
            return Retrieved([], unmatched=tuple(s for s in query.specifics if s not in found) or query.specifics)
    if term_at:
        better = _best(matches, term_at)
        matches = better or matches
    return Retrieved([decision_id for decision_id, _ in matches][: CAP + 1])


def _best(matches: list[tuple[int, list[int]]], at: list[int]) -> list[tuple[int, list[int]]]:
    """The rows that mention the most of these groups; of those, the ones naming one in the title."""
    scored = [(decision_id, m, sum(1 for i in at if m[i]), sum(1 for i in at if m[i] == 2)) for decision_id, m in matches]
    scored = [s for s in scored if s[2] > 0]
    if not scored:
        return []
    most = max(s[2] for s in scored)
    scored = [s for s in scored if s[2] == most]
    if any(s[3] for s in scored):
        scored = [s for s in scored if s[3]]
    return [(decision_id, m) for decision_id, m, _, _ in scored]


async def records(session: AsyncSession, ids: Sequence[int]) -> list[Record]:
    """The records of these decisions, in the order given."""
    if not ids:
        return []
    rows = (
        await session.execute(
            select(Decision, Venture).join(Venture, Venture.id == Decision.venture_id).where(Decision.id.in_(list(ids)))
        )
    ).all()
    by_id = {d.id: (d, v) for d, v in rows}
    outcomes: dict[int, list[Outcome]] = {}
    for outcome in await session.scalars(select(Outcome).where(Outcome.decision_id.in_(list(ids))).order_by(Outcome.id)):
        outcomes.setdefault(outcome.decision_id, []).append(outcome)
    approvals = {
        decision_id: (status, reason)
        for decision_id, status, reason in (
            await session.execute(select(Approval.decision_id, Approval.status, Approval.reason).where(Approval.decision_id.in_(list(ids))))
        ).all()
    }
    found = []
    for decision_id in ids:
        if decision_id not in by_id:
            continue
        decision, venture = by_id[decision_id]
        history = outcomes.get(decision_id, [])
        latest = history[-1] if history else None
        earlier = history[-2].verdict.value if len(history) > 1 and history[-2].verdict != latest.verdict else None  # type: ignore[union-attr]
        approval = approvals.get(decision_id)
        found.append(
            Record(
                decision_id=decision.id,
                venture_slug=venture.slug,
                venture_name=venture.name,
                title=decision.title,
                category=decision.category,
                status=decision.status.value,
                created_at=decision.created_at,
                amount_usd=str(decision.amount_usd) if decision.amount_usd is not None else None,
                brain_version=decision.brain_version,
                permalink=decision.permalink,
                verdict=latest.verdict.value if latest else None,
                metric=latest.metric if latest else None,
                before=latest.metric_before if latest else None,
                after=latest.metric_after if latest else None,
                outcome_note=latest.note if latest else None,
                reason=approval[1] if approval and approval[0] == ApprovalStatus.REJECTED else None,
                corrected_from=earlier,
                approval=approval[0].value if approval else None,
            )
        )
    return found


async def tally(session: AsyncSession, ids: Sequence[int]) -> dict[str, Counter[str]]:
    """How the decisions turned out, per venture slug: worked, failed, mixed, rejected, open…"""
    result: dict[str, Counter[str]] = {}
    for record in await records(session, ids):
        result.setdefault(record.venture_slug, Counter())[outcome_group(record)] += 1
    return result


def outcome_group(record: Record) -> str:
    if record.status in ("rejected", "expired", "awaiting_approval"):
        return record.status
    return record.verdict if record.verdict in ("success", "failure", "mixed") else "open"


async def live_ventures(session: AsyncSession) -> Sequence[Venture]:
    return (await session.scalars(select(Venture).where(Venture.archived_at.is_(None)))).all()


async def nearest(session: AsyncSession, query: AskQuery, venture_ids: Sequence[int], *,
                  vocab: Vocabulary | None = None) -> list[Record]:
    """When nothing matches in the period: the same subject outside it, closest first on each side."""
    if not venture_ids or query.period is None or query.specifics or _narrows(query):
        return []
    base = filters(session.bind.dialect.name, query, venture_ids, with_period=False, vocab=vocab)
    found: list[int] = []
    if query.period.start is not None:
        before = await session.scalar(
            select(Decision.id).where(*base, Decision.created_at < query.period.start).order_by(Decision.created_at.desc()).limit(1)
        )
        if before is not None:
            found.append(before)
    if query.period.end is not None:
        after = await session.scalar(
            select(Decision.id).where(*base, Decision.created_at >= query.period.end).order_by(Decision.created_at.asc()).limit(1)
        )
        if after is not None:
            found.append(after)
    return await records(session, found)
