"""Queries about approvals. Each takes the caller's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    ApprovalVote,
    Decision,
    DecisionStatus,
    GatePolicyVersion,
    Outcome,
    Run,
    RunStatus,
    Step,
    Venture,
)
from lumen.db.upsert import insert_ignoring_conflict
from lumen.domain.approvals import Tally
from lumen.errors import Invariant

EVIDENCE_LIMIT = 5


async def get(session: AsyncSession, approval_id: int, *, lock: bool = False) -> Approval | None:
    """The approval; with `lock`, its row is locked for the transaction (SQLite: BEGIN IMMEDIATE did)."""
    postgres = session.bind.dialect.name == "postgresql"
    return await session.get(Approval, approval_id, with_for_update=lock and postgres, populate_existing=lock)


async def of_decision(session: AsyncSession, decision_id: int) -> Approval | None:
    return await session.scalar(select(Approval).where(Approval.decision_id == decision_id))


async def latest_policy_version(session: AsyncSession) -> int | None:
    return await session.scalar(select(GatePolicyVersion.version).order_by(GatePolicyVersion.version.desc()).limit(1))


async def add_vote(session: AsyncSession, approval_id: int, user_id: str, approve: bool, reason: str | None, now: datetime) -> None:
    """One vote per approver: a second click by the same person changes nothing."""
    await session.execute(
        insert_ignoring_conflict(
            session.bind.dialect.name,
            ApprovalVote,
            {"approval_id": approval_id, "user_id": user_id, "approve": approve, "reason": reason, "created_at": now},
            ["approval_id", "user_id"],
        )
    )


async def tally(session: AsyncSession, approval: Approval) -> Tally:
    rows = dict(
        (
            await session.execute(
                select(ApprovalVote.approve, func.count())
                .where(ApprovalVote.approval_id == approval.id)
                .group_by(ApprovalVote.approve)
            )
        ).all()
    )
    return Tally(approvals=rows.get(True, 0), rejections=rows.get(False, 0), quorum=approval.quorum)


async def votes_for(session: AsyncSession, approval_id: int) -> int:
    found = await session.scalar(
        select(func.count()).where(ApprovalVote.approval_id == approval_id, ApprovalVote.approve.is_(True))
    )
    return int(found or 0)


async def close_if_pending(
    session: AsyncSession, approval_id: int, status: ApprovalStatus, now: datetime, *, by: str | None, reason: str | None
) -> bool:
    """The one conditional UPDATE that decides who won: True for the winner, once."""
    if status == ApprovalStatus.EXPIRED:
        still_open = Approval.expires_at <= now
    else:
        still_open = Approval.expires_at > now
    won = await session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == ApprovalStatus.PENDING, still_open)
        .values(status=status, resolved_by=by, resolved_at=now, reason=reason)
    )
    return won.rowcount == 1


async def set_decision_status(session: AsyncSession, decision_id: int, status: DecisionStatus, now: datetime) -> None:
    await session.execute(update(Decision).where(Decision.id == decision_id).values(status=status, resolved_at=now))


async def requeue_run(session: AsyncSession, run_id: int) -> bool:
    """Wake the paused run; only one resolution can move it from awaiting_approval to queued."""
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.AWAITING_APPROVAL)
        .values(status=RunStatus.QUEUED, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount == 1


async def card_rows(session: AsyncSession, approval: Approval) -> tuple[Decision, Venture, Agent]:
    """The decision, venture and agent an approval message shows, in one query."""
    row = (
        await session.execute(
            select(Decision, Venture, Agent)
            .join(Venture, Venture.id == Decision.venture_id)
            .join(Agent, Agent.id == Decision.agent_id)
            .where(Decision.id == approval.decision_id)
        )
    ).first()
    if row is None:
        raise Invariant(f"approval {approval.id}: its decision {approval.decision_id} is missing")
    return row[0], row[1], row[2]


async def evidence(session: AsyncSession, decision: Decision) -> list[tuple[Decision, str | None]]:
    """Earlier decisions of the same venture and category, newest first, with their latest verdict."""
    earlier = (
        await session.scalars(
            select(Decision)
            .where(
                Decision.venture_id == decision.venture_id,
                Decision.category == decision.category,
                Decision.id != decision.id,
            )
            .order_by(Decision.id.desc())
            .limit(EVIDENCE_LIMIT)
        )
    ).all()
    verdicts: dict[int, str] = {}
    if earlier:
        for outcome in await session.scalars(
            select(Outcome).where(Outcome.decision_id.in_([d.id for d in earlier])).order_by(Outcome.id)
        ):
            verdicts[outcome.decision_id] = outcome.verdict.value  # the latest wins
    return [(d, verdicts.get(d.id)) for d in earlier]


async def pending(session: AsyncSession) -> Sequence[Approval]:
    return (
        await session.scalars(select(Approval).where(Approval.status == ApprovalStatus.PENDING).order_by(Approval.expires_at))
    ).all()


async def due_to_expire(session: AsyncSession, now: datetime) -> Sequence[int]:
    return (
        await session.scalars(
            select(Approval.id).where(Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now)
        )
    ).all()


async def due_for_reminder(session: AsyncSession, now: datetime) -> Sequence[int]:
    return (
        await session.scalars(
            select(Approval.id).where(
                Approval.status == ApprovalStatus.PENDING,
                Approval.expires_at > now,
                Approval.next_reminder_at <= now,
            )
        )
    ).all()


async def move_reminder(session: AsyncSession, approval_id: int, due_at: datetime, next_at: datetime | None) -> bool:
    """Claim a reminder: only the replica that moves `next_reminder_at` from `due_at` sends it."""
    moved = await session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.next_reminder_at == due_at)
        .values(next_reminder_at=next_at)
    )
    return moved.rowcount == 1


async def requeue_stranded(session: AsyncSession) -> list[int]:
    """Re-queue paused runs that have a gate resolved after their last journaled step."""
    last_step = select(func.max(Step.created_at)).where(Step.run_id == Run.id).scalar_subquery()
    resolved_since = exists().where(
        and_(
            Approval.run_id == Run.id,
            Approval.status != ApprovalStatus.PENDING,
            Approval.resolved_at > last_step,
        )
    )
    result = await session.execute(
        update(Run)
        .where(Run.status == RunStatus.AWAITING_APPROVAL, resolved_since)
        .values(status=RunStatus.QUEUED)
        .returning(Run.id)
    )
    return list(result.scalars().all())


async def record_message(session: AsyncSession, approval_id: int, channel: str | None, ts: str | None) -> None:
    """Where the approval message landed, so later updates can edit it in place."""
    await session.execute(update(Approval).where(Approval.id == approval_id).values(channel_id=channel, message_ts=ts))
