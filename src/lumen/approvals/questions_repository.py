"""Queries about the questions agents ask humans. Each takes the caller's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, HumanQuestion, QuestionStatus, Run, RunStatus, Step, Venture
from lumen.errors import Invariant


async def get(session: AsyncSession, question_id: int, *, lock: bool = False) -> HumanQuestion | None:
    """The question; with `lock`, its row is locked for the transaction (SQLite: BEGIN IMMEDIATE did)."""
    postgres = session.bind.dialect.name == "postgresql"
    return await session.get(HumanQuestion, question_id, with_for_update=lock and postgres, populate_existing=lock)


async def of_run(session: AsyncSession, run_id: int, ordinal: int) -> HumanQuestion | None:
    return await session.scalar(
        select(HumanQuestion).where(HumanQuestion.run_id == run_id, HumanQuestion.ordinal == ordinal)
    )


async def close_if_pending(
    session: AsyncSession,
    question_id: int,
    status: QuestionStatus,
    now: datetime,
    *,
    by: str | None = None,
    answer: str | None = None,
) -> bool:
    """The one conditional UPDATE that decides who answered: True for the winner, once.
    An answer counts only before the deadline; expiry only after it."""
    still_open = HumanQuestion.expires_at <= now if status == QuestionStatus.EXPIRED else HumanQuestion.expires_at > now
    won = await session.execute(
        update(HumanQuestion)
        .where(HumanQuestion.id == question_id, HumanQuestion.status == QuestionStatus.PENDING, still_open)
        .values(status=status, answered_by=by, answered_at=now, answer=answer)
    )
    return won.rowcount == 1


async def card_rows(session: AsyncSession, question: HumanQuestion) -> tuple[Venture, Agent]:
    row = (
        await session.execute(
            select(Venture, Agent).join(Agent, Agent.venture_id == Venture.id).where(Agent.id == question.agent_id)
        )
    ).first()
    if row is None:
        raise Invariant(f"question {question.id}: its agent {question.agent_id} is missing")
    return row[0], row[1]


async def pending(session: AsyncSession) -> Sequence[HumanQuestion]:
    return (
        await session.scalars(
            select(HumanQuestion).where(HumanQuestion.status == QuestionStatus.PENDING).order_by(HumanQuestion.expires_at)
        )
    ).all()


async def due_to_expire(session: AsyncSession, now: datetime) -> Sequence[int]:
    return (
        await session.scalars(
            select(HumanQuestion.id).where(HumanQuestion.status == QuestionStatus.PENDING, HumanQuestion.expires_at <= now)
        )
    ).all()


async def due_for_reminder(session: AsyncSession, now: datetime) -> Sequence[int]:
    return (
        await session.scalars(
            select(HumanQuestion.id).where(
                HumanQuestion.status == QuestionStatus.PENDING,
                HumanQuestion.expires_at > now,
                HumanQuestion.next_reminder_at <= now,
            )
        )
    ).all()


async def move_reminder(session: AsyncSession, question_id: int, due_at: datetime, next_at: datetime | None) -> bool:
    """Claim a reminder: only the replica that moves `next_reminder_at` from `due_at` sends it."""
    moved = await session.execute(
        update(HumanQuestion)
        .where(HumanQuestion.id == question_id, HumanQuestion.next_reminder_at == due_at)
        .values(next_reminder_at=next_at)
    )
    return moved.rowcount == 1


async def requeue_stranded(session: AsyncSession) -> list[int]:
    """Re-queue paused runs with a question closed after their last journaled step (the answer
    came while the run was still pausing, so it found the run `running`)."""
    last_step = select(func.max(Step.created_at)).where(Step.run_id == Run.id).scalar_subquery()
    closed_since = exists().where(
        and_(
            HumanQuestion.run_id == Run.id,
            HumanQuestion.status != QuestionStatus.PENDING,
            HumanQuestion.answered_at > last_step,
        )
    )
    result = await session.execute(
        update(Run)
        .where(Run.status == RunStatus.AWAITING_APPROVAL, closed_since)
        .values(status=RunStatus.QUEUED)
        .returning(Run.id)
    )
    return list(result.scalars().all())


async def record_message(session: AsyncSession, question_id: int, channel: str | None, ts: str | None) -> None:
    """Where the question's message landed, so later updates can edit it in place."""
    await session.execute(
        update(HumanQuestion).where(HumanQuestion.id == question_id).values(channel_id=channel, message_ts=ts)
    )
