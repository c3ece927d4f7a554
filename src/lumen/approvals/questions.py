"""Questions agents ask humans (`ask_human`): asking, answering exactly once, expiry, reminders.

A question is a gate whose resolution is an answer. It follows the gate rule of the
`ask_human` category (by default the workspace's approvers, expiry and reminders), frozen
when it opens. One conditional UPDATE (`… WHERE status = 'pending' AND expires_at > now`)
decides which answer counts; the winner, in the same transaction, queues the message's
update and re-queues the paused run. Expiry closes it "without an answer" by the same
UPDATE, and the run goes on without one (questions do not escalate).

Never commits: every function takes the caller's session; Slack writes go to the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.approvals import questions_repository as repository
from lumen.approvals import repository as approvals_repository
from lumen.db.base import utcnow
from lumen.db.models import Agent, HumanQuestion, QuestionStatus, Venture
from lumen.domain.approvals import is_expired, next_reminder
from lumen.domain.directory import Directory
from lumen.domain.gates import EffectiveRule
from lumen.domain.ask_human import AskHuman
from lumen.engine import outbox
from lumen.engine.outbox import Sent
from lumen.log import get_logger
from lumen.render import questions as render
from lumen.render.questions import QuestionCard

log = get_logger(__name__)

AnswerKind = Literal["answered", "already", "not_answerer", "expired", "not_found"]


@dataclass(frozen=True)
class AnswerResult:
    kind: AnswerKind
    question_id: int
    status: str = ""
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    tz: str = "UTC"

    @property
    def changed(self) -> bool:
        return self.kind == "answered"

    def refusal(self) -> str:
        return render.answer_refused(self.kind, self.status, self.answered_by, self.answered_at, self.tz)


def _result(kind: AnswerKind, question: HumanQuestion) -> AnswerResult:
    return AnswerResult(
        kind=kind,
        question_id=question.id,
        status=question.status.value,
        answer=question.answer,
        answered_by=question.answered_by,
        answered_at=question.answered_at,
        tz=_zone(question),
    )


def post_key(question_id: int) -> str:
    return f"question:{question_id}:post"


def _zone(question: HumanQuestion) -> str:
    return str(question.approvers.get("timezone") or "UTC")


# --- the message ------------------------------------------------------------------------


async def card(session: AsyncSession, question: HumanQuestion) -> QuestionCard:
    venture, agent = await repository.card_rows(session, question)
    return QuestionCard(
        question_id=question.id,
        venture_name=venture.name,
        venture_slug=venture.slug,
        agent_role=agent.role,
        run_id=question.run_id,
        question=question.question,
        options=tuple(str(o) for o in question.options),
        approvers=question.approvers,
        expires_at=question.expires_at,
        status=question.status.value,
        answer=question.answer,
        answered_by=question.answered_by,
        answered_at=question.answered_at,
        tz=_zone(question),
    )


async def card_of(session: AsyncSession, question_id: int) -> QuestionCard | None:
    question = await repository.get(session, question_id)
    return await card(session, question) if question is not None else None


async def on_post_delivered(session: AsyncSession, sent: Sent) -> None:
    """Outbox hook: remember where a question's message landed, for later updates."""
    if sent.method == "chat.postMessage" and (question_id := sent.ref.get("question_id")):
        await repository.record_message(session, int(question_id), sent.channel, sent.ts)


async def _queue_update(session: AsyncSession, question: HumanQuestion) -> None:
    shown = await card(session, question)
    await outbox.enqueue(
        session,
        "chat.update",
        {"update_of": post_key(question.id), "text": render.question_text(shown), "blocks": render.answered_blocks(shown)},
        dedupe_key=f"question:{question.id}:closed",
    )


# --- asking ------------------------------------------------------------------------------


async def open_question(
    session: AsyncSession,
    *,
    run_id: int,
    ordinal: int,
    venture: Venture,
    agent: Agent,
    asked: AskHuman,
    rule: EffectiveRule,
    now: datetime,
    tz: str = "UTC",
) -> HumanQuestion:
    """The question and its message, in the transaction of the run's step that asks it."""
    question = HumanQuestion(
        run_id=run_id,
        ordinal=ordinal,
        venture_id=venture.id,
        agent_id=agent.id,
        question=asked.question,
        options=list(asked.options),
        status=QuestionStatus.PENDING,
        approvers=rule.frozen() | {"timezone": tz},
        expires_at=now + timedelta(hours=rule.expiry_hours),
        next_reminder_at=now + timedelta(hours=rule.reminder_hours),
        created_at=now,
    )
    session.add(question)
    await session.flush()
    shown = await card(session, question)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address, "text": render.question_text(shown), "blocks": render.question_blocks(shown)},
        dedupe_key=post_key(question.id),
        ref={"question_id": question.id},
    )
    log.info("lumen.question.asked", question_id=question.id, run_id=run_id, options=len(asked.options))
    return question


async def answer_of(session: AsyncSession, run_id: int, ordinal: int) -> HumanQuestion | None:
    """The run's question once answered or expired; None while it is pending."""
    question = await repository.of_run(session, run_id, ordinal)
    if question is None or question.status == QuestionStatus.PENDING:
        return None
    return question


# --- answering ---------------------------------------------------------------------------


async def check(session: AsyncSession, directory: Directory, question_id: int, user_id: str) -> AnswerResult | None:
    """Why this user can't answer this question now, or None if they can. Read apart from
    `answer`, outside its write transaction: the directory may ask Slack."""
    question = await repository.get(session, question_id)
    if question is None:
        return AnswerResult(kind="not_found", question_id=question_id)
    if not await directory.may_approve(question.approvers, user_id):
        return _result("not_answerer", question)
    if question.status != QuestionStatus.PENDING:
        return _result("already", question)
    if is_expired(question.expires_at, utcnow()):
        return _result("expired", question)
    return None


def option_of(question_card: QuestionCard, index: int) -> str | None:
    """The option at `index` as stored; None for a button that names none."""
    return question_card.options[index] if 0 <= index < len(question_card.options) else None


async def answer(session: AsyncSession, question_id: int, user_id: str, text: str) -> AnswerResult:
    """The answer of someone `check` let through; only the first one counts."""
    question = await repository.get(session, question_id, lock=True)
    if question is None:
        return AnswerResult(kind="not_found", question_id=question_id)
    now = utcnow()
    if question.status != QuestionStatus.PENDING:
        return _result("already", question)
    if is_expired(question.expires_at, now):
        return _result("expired", question)
    if not await repository.close_if_pending(session, question_id, QuestionStatus.ANSWERED, now, by=user_id, answer=text):
        await session.refresh(question)
        return _result("already", question)
    question.status, question.answered_by, question.answered_at, question.answer = QuestionStatus.ANSWERED, user_id, now, text
    await _queue_update(session, question)
    await approvals_repository.requeue_run(session, question.run_id)
    log.info("lumen.question.answered", question_id=question_id, by=user_id)
    return _result("answered", question)


async def tell_answerer(session: AsyncSession, text: str, key: str, user_id: str, channel_id: str | None) -> None:
    """A note only the answerer sees: ephemeral in the channel, or a DM (App Home has no channel)."""
    if channel_id:
        payload = {"channel": channel_id, "user": user_id, "text": text}
        await outbox.enqueue(session, "chat.postEphemeral", payload, dedupe_key=key)
    else:
        await outbox.enqueue(session, "chat.postMessage", {"channel": user_id, "text": text}, dedupe_key=key)


async def pending_for(session: AsyncSession, directory: Directory, user_id: str) -> list[QuestionCard]:
    """The open questions this person may answer (App Home)."""
    cards = []
    for question in await repository.pending(session):
        if await directory.may_approve(question.approvers, user_id):
            cards.append(await card(session, question))
    return cards


# --- the sweep's units of work ----------------------------------------------------------------


async def expire(session: AsyncSession, question_id: int, now: datetime) -> bool:
    """Close a pending question past its deadline without an answer; the run goes on without one."""
    question = await repository.get(session, question_id, lock=True)
    if question is None or question.status != QuestionStatus.PENDING or question.expires_at > now:
        return False
    if not await repository.close_if_pending(session, question.id, QuestionStatus.EXPIRED, now):
        return False
    question.status, question.answered_at = QuestionStatus.EXPIRED, now
    await _queue_update(session, question)
    await approvals_repository.requeue_run(session, question.run_id)
    log.info("lumen.question.expired", question_id=question_id)
    return True


async def remind(session: AsyncSession, directory: Directory, question_id: int, now: datetime) -> bool:
    """A reminder in the message's thread and a DM to each approver; True if this replica sent it."""
    question = await repository.get(session, question_id, lock=True)
    if question is None or question.status != QuestionStatus.PENDING or question.next_reminder_at is None:
        return False
    due_at = question.next_reminder_at
    if due_at > now:
        return False
    every = float(question.approvers.get("reminder_hours", 24))
    if not await repository.move_reminder(session, question.id, due_at, next_reminder(now, every, question.expires_at)):
        return False  # another replica sent this reminder
    shown = await card(session, question)
    people = sorted(await directory.members(question.approvers))
    stamp = due_at.isoformat()
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"thread_of": post_key(question.id), "text": render.question_reminder(people, question.expires_at, shown.tz)},
        dedupe_key=f"question:{question.id}:remind:{stamp}",
    )
    for user in people:
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": user, "text": render.question_reminder_dm(shown.venture_name, shown.question)},
            dedupe_key=f"question:{question.id}:remind:{stamp}:dm:{user}",
        )
    return True


async def due(session: AsyncSession, now: datetime) -> tuple[list[int], list[int]]:
    """(questions past their deadline, questions due a reminder)."""
    return list(await repository.due_to_expire(session, now)), list(await repository.due_for_reminder(session, now))


async def resume_stranded(session: AsyncSession) -> list[int]:
    return await repository.requeue_stranded(session)
