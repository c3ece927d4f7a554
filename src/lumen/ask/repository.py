"""Retrieval: decisions matching a question, with their outcomes and approvals. Queries only.

Full-text search is SQLite FTS5 or a Postgres tsvector expression index (both
built by migration 0002), filtered by venture and time, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from lumen.ask.understand import Question
from lumen.db.models import Approval, ApprovalStatus, Decision, Outcome, Venture, Verdict

DEFAULT_LIMIT = 25
PREFIX_MIN = 4  # letters a search word needs before it also matches longer words
PG_DOCUMENT = (
    "to_tsvector('english', coalesce(decisions.title, '') || ' ' || coalesce(decisions.rationale, '') || ' ' || "
    "coalesce(decisions.expected_effect, '') || ' ' || replace(decisions.category, '_', ' '))"
)


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

    def as_json(self) -> dict:
        data = self.__dict__.copy()
        data["created_at"] = self.created_at.isoformat()
        return data


def _clean_terms(terms: tuple[str, ...]) -> list[str]:
    return [t for t in (re.sub(r"[^a-z0-9]", "", term.lower()) for term in terms) if len(t) >= 2]


def _topic_filter(dialect: str, question: Question) -> ColumnElement[bool] | None:
    terms = _clean_terms(question.terms)
    clauses: list[ColumnElement[bool]] = []
    if question.categories:
        clauses.append(Decision.category.in_(question.categories))
    if terms:
        # Prefixes catch "hire" → "hired", but a short one catches everything: "ad" would match
        # "admin", "adopt" and "add". Words under PREFIX_MIN letters match as whole (stemmed) words.
        if dialect == "postgresql":
            query = " | ".join(f"{t}:*" if len(t) >= PREFIX_MIN else t for t in terms)
            clauses.append(text(f"{PG_DOCUMENT} @@ to_tsquery('english', :ask_terms)").bindparams(ask_terms=query))
        else:
            match = " OR ".join(f'"{t}"*' if len(t) >= PREFIX_MIN else f'"{t}"' for t in terms)
            clauses.append(
                Decision.id.in_(
                    select(literal_column("rowid")).select_from(text("decisions_fts")).where(
                        text("decisions_fts MATCH :ask_terms").bindparams(ask_terms=match)
                    )
                )
            )
    return or_(*clauses) if clauses else None


def _verdict_filter(verdict: str) -> ColumnElement[bool]:
    """The decision's latest outcome has this verdict."""
    newer = aliased(Outcome)
    return exists().where(
        and_(
            Outcome.decision_id == Decision.id,
            Outcome.verdict == Verdict(verdict),
            ~exists().where(and_(newer.decision_id == Outcome.decision_id, newer.id > Outcome.id)),
        )
    )


def _filters(dialect: str, question: Question, venture_ids: list[int], *, with_time: bool = True, with_topic: bool = True) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Decision.venture_id.in_(venture_ids)]
    if with_time and question.time is not None:
        if question.time.start is not None:
            filters.append(Decision.created_at >= question.time.start)
        if question.time.end is not None:
            filters.append(Decision.created_at < question.time.end)
    if with_topic:
        topic = _topic_filter(dialect, question)
        if topic is not None:
            filters.append(topic)
        if question.verdict:
            filters.append(_verdict_filter(question.verdict))
    return filters


async def _records(session: AsyncSession, decisions: list[tuple[Decision, Venture]]) -> list[Record]:
    ids = [d.id for d, _ in decisions]
    outcomes: dict[int, Outcome] = {}
    reasons: dict[int, str | None] = {}
    if ids:
        for outcome in await session.scalars(select(Outcome).where(Outcome.decision_id.in_(ids)).order_by(Outcome.id)):
            outcomes[outcome.decision_id] = outcome
        # At most one approval per decision: filter the status here, not in SQL, where SQLite
        # (without ANALYZE) would walk every rejected approval by the status index instead.
        reasons = {
            decision_id: reason
            for decision_id, status, reason in (
                await session.execute(
                    select(Approval.decision_id, Approval.status, Approval.reason).where(Approval.decision_id.in_(ids))
                )
            ).all()
            if status == ApprovalStatus.REJECTED
        }
    records = []
    for decision, venture in decisions:
        o = outcomes.get(decision.id)
        records.append(
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
                verdict=o.verdict.value if o else None,
                metric=o.metric if o else None,
                before=o.metric_before if o else None,
                after=o.metric_after if o else None,
                outcome_note=o.note if o else None,
                reason=reasons.get(decision.id),
            )
        )
    return records


async def live_ventures(session: AsyncSession) -> Sequence[Venture]:
    return (await session.scalars(select(Venture).where(Venture.archived_at.is_(None)))).all()


async def search(
    session: AsyncSession, question: Question, venture_ids: list[int], *, limit: int = DEFAULT_LIMIT
) -> list[Record]:
    if not venture_ids:
        return []
    dialect = session.bind.dialect.name
    rows = (
        await session.execute(
            select(Decision, Venture)
            .join(Venture, Venture.id == Decision.venture_id)
            .where(*_filters(dialect, question, venture_ids))
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(limit)
        )
    ).all()
    return await _records(session, [(d, v) for d, v in rows])


async def nearest(session: AsyncSession, question: Question, venture_ids: list[int]) -> list[Record]:
    """When nothing matches: the same topic outside the time range, closest first on each side."""
    if not venture_ids or question.time is None:
        return []
    dialect = session.bind.dialect.name
    base = _filters(dialect, question, venture_ids, with_time=False)
    found: list[tuple[Decision, Venture]] = []
    if question.time.start is not None:
        row = (
            await session.execute(
                select(Decision, Venture)
                .join(Venture, Venture.id == Decision.venture_id)
                .where(*base, Decision.created_at < question.time.start)
                .order_by(Decision.created_at.desc())
                .limit(1)
            )
        ).first()
        if row:
            found.append((row[0], row[1]))
    if question.time.end is not None:
        row = (
            await session.execute(
                select(Decision, Venture)
                .join(Venture, Venture.id == Decision.venture_id)
                .where(*base, Decision.created_at >= question.time.end)
                .order_by(Decision.created_at.asc())
                .limit(1)
            )
        ).first()
        if row:
            found.append((row[0], row[1]))
    return await _records(session, found)
