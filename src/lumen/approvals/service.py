"""Resolving an approval exactly once, whoever clicks, however often, on whichever replica.

The approval row is locked for the tally, and one conditional UPDATE
(`… WHERE status = 'pending' AND expires_at > now`) decides the winner. The
winner, in the same transaction, records the decision's new status, queues the
message update, and re-queues the paused run. Everyone else learns who won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.approvals.directory import ApproverDirectory
from lumen.approvals.messages import approval_card, queue_resolved_update
from lumen.db.base import utcnow
from lumen.db.models import (
    Approval,
    ApprovalStatus,
    ApprovalVote,
    Decision,
    DecisionStatus,
    Run,
    RunStatus,
)
from lumen.db.session import Database
from lumen.db.upsert import insert_ignoring_conflict
from lumen.domain.approvals import Tally, is_expired
from lumen.log import get_logger

log = get_logger(__name__)

ClickKind = Literal["resolved", "voted", "already", "not_approver", "expired", "not_found"]


@dataclass(frozen=True)
class ClickResult:
    kind: ClickKind
    approval_id: int
    status: str = ""
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reason: str | None = None
    tally: Tally | None = None
    channel_id: str | None = None
    message_ts: str | None = None


def _result(kind: ClickKind, approval: Approval, tally: Tally | None = None) -> ClickResult:
    return ClickResult(
        kind=kind,
        approval_id=approval.id,
        status=approval.status.value,
        resolved_by=approval.resolved_by,
        resolved_at=approval.resolved_at,
        reason=approval.reason,
        tally=tally,
        channel_id=approval.channel_id,
        message_ts=approval.message_ts,
    )


async def may_resolve(db: Database, directory: ApproverDirectory, approval_id: int, user_id: str) -> ClickResult | None:
    """Why this user can't act on this approval now, or None if they can."""
    async with db.sessions() as session:
        approval = await session.get(Approval, approval_id)
    if approval is None:
        return ClickResult(kind="not_found", approval_id=approval_id)
    if approval.status != ApprovalStatus.PENDING:
        return _result("already", approval)
    if not await directory.may_approve(approval.approvers, user_id, escalated=approval.escalated):
        return _result("not_approver", approval)
    if is_expired(approval.expires_at, utcnow()):
        return _result("expired", approval)
    return None


async def resolve(
    db: Database,
    directory: ApproverDirectory,
    approval_id: int,
    user_id: str,
    *,
    approve: bool,
    reason: str | None = None,
) -> ClickResult:
    refusal = await may_resolve(db, directory, approval_id, user_id)
    if refusal is not None:
        return refusal
    async with db.transaction() as session:
        # The row lock serialises tallies for this approval across replicas (SQLite: BEGIN IMMEDIATE).
        approval = await session.get(
            Approval, approval_id, with_for_update=db.dialect == "postgresql", populate_existing=True
        )
        assert approval is not None
        now = utcnow()
        if approval.status != ApprovalStatus.PENDING:
            return _result("already", approval)
        if is_expired(approval.expires_at, now):
            return _result("expired", approval)
        await session.execute(
            insert_ignoring_conflict(
                db.dialect,
                ApprovalVote,
                {"approval_id": approval_id, "user_id": user_id, "approve": approve, "reason": reason, "created_at": now},
                ["approval_id", "user_id"],
            )
        )
        tally = await _tally(session, approval)
        if not (tally.approved or tally.rejected):
            return _result("voted", approval, tally)
        status = ApprovalStatus.APPROVED if tally.approved and not tally.rejected else ApprovalStatus.REJECTED
        won = await session.execute(
            update(Approval)
            .where(
                Approval.id == approval_id,
                Approval.status == ApprovalStatus.PENDING,
                Approval.expires_at > now,
            )
            .values(status=status, resolved_by=user_id, resolved_at=now, reason=reason)
        )
        if won.rowcount != 1:
            await session.refresh(approval)
            return _result("already", approval)
        approval.status, approval.resolved_by, approval.resolved_at, approval.reason = status, user_id, now, reason
        await settle(session, approval, now)
    log.info("lumen.approval.resolved", approval_id=approval_id, status=status.value, by=user_id)
    return _result("resolved", approval, tally)


async def _tally(session: AsyncSession, approval: Approval) -> Tally:
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


async def settle(session: AsyncSession, approval: Approval, now: datetime) -> None:
    """After an approval left `pending`: the decision's status, the message, the paused run."""
    decision_status = {
        ApprovalStatus.APPROVED: DecisionStatus.APPROVED,
        ApprovalStatus.REJECTED: DecisionStatus.REJECTED,
        ApprovalStatus.EXPIRED: DecisionStatus.EXPIRED,
    }[approval.status]
    await session.execute(
        update(Decision).where(Decision.id == approval.decision_id).values(status=decision_status, resolved_at=now)
    )
    card = await approval_card(session, approval)
    await queue_resolved_update(session, approval, card)
    await requeue_run(session, approval.run_id)


async def requeue_run(session: AsyncSession, run_id: int) -> bool:
    """Wake the paused run; only one resolution can move it from awaiting_approval to queued."""
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.AWAITING_APPROVAL)
        .values(status=RunStatus.QUEUED, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount == 1
