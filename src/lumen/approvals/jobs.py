"""The approvals sweep, run every few seconds by each replica's scheduler.

- Expiry: a pending approval past its deadline is rejected (`on_expiry: reject`)
  or escalated once to the backup approvers (`on_expiry: escalate`). The same
  conditional UPDATE as a click decides, so a click racing expiry ends in one
  resolution.
- Reminders: a thread reply under the approval message and a DM to each approver.
- Resume: a paused run whose gate was resolved while it was still pausing is
  re-queued (the click found it `running`, not yet `awaiting_approval`).
Every replica may sweep; conditional updates and outbox keys make that safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update

from lumen.approvals.directory import ApproverDirectory
from lumen.approvals.messages import approval_card, post_key, queue_pending_update
from lumen.approvals.service import settle
from lumen.db.base import utcnow
from lumen.db.models import Approval, ApprovalStatus, Run, RunStatus, Step, Venture
from lumen.db.session import Database
from lumen.domain.approvals import next_reminder
from lumen.engine import outbox
from lumen.log import get_logger

log = get_logger(__name__)


@dataclass
class SweepReport:
    expired: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.expired or self.escalated or self.reminded or self.resumed)


def _channel(venture: Venture) -> str:
    return venture.channel_id or f"#{venture.channel}"


async def sweep(db: Database, directory: ApproverDirectory, now: datetime | None = None) -> SweepReport:
    now = now or utcnow()
    report = SweepReport()
    async with db.sessions() as session:
        due = (
            await session.scalars(
                select(Approval.id).where(Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now)
            )
        ).all()
        to_remind = (
            await session.scalars(
                select(Approval.id).where(
                    Approval.status == ApprovalStatus.PENDING,
                    Approval.expires_at > now,
                    Approval.next_reminder_at <= now,
                )
            )
        ).all()
    for approval_id in due:
        await _expire(db, directory, approval_id, now, report)
    for approval_id in to_remind:
        await _remind(db, directory, approval_id, now, report)
    report.resumed = await _resume_stranded(db)
    if report.anything:
        log.info(
            "lumen.approvals.swept",
            expired=report.expired,
            escalated=report.escalated,
            reminded=report.reminded,
            resumed=report.resumed,
        )
    return report


async def _expire(db: Database, directory: ApproverDirectory, approval_id: int, now: datetime, report: SweepReport) -> None:
    async with db.transaction() as session:
        approval = await session.get(Approval, approval_id, with_for_update=db.dialect == "postgresql", populate_existing=True)
        if approval is None or approval.status != ApprovalStatus.PENDING or approval.expires_at > now:
            return
        venture = await session.get(Venture, approval.venture_id)
        assert venture is not None
        rule = approval.approvers
        if rule.get("on_expiry") == "escalate" and not approval.escalated:
            approval.escalated = True
            approval.expires_at = now + timedelta(hours=float(rule.get("expiry_hours", 72)))
            approval.next_reminder_at = now
            await queue_pending_update(session, approval, f"approval:{approval.id}:escalated")
            card = await approval_card(session, approval)
            backups = await directory.members(rule, backup=True)
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {
                    "channel": _channel(venture),
                    "text": f"⏫ Escalated: “{card.title}” was not decided in time; "
                    f"now also waiting for {', '.join(f'<@{u}>' for u in sorted(backups)) or 'the backup approvers'}.",
                },
                dedupe_key=f"approval:{approval.id}:escalated:announce",
            )
            report.escalated.append(approval.id)
            return
        won = await session.execute(
            update(Approval)
            .where(Approval.id == approval.id, Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now)
            .values(status=ApprovalStatus.EXPIRED, resolved_at=now, reason="expired without a decision")
        )
        if won.rowcount != 1:
            return
        approval.status, approval.resolved_at = ApprovalStatus.EXPIRED, now
        approval.reason = "expired without a decision"
        await settle(session, approval, now)
        card = await approval_card(session, approval)
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {
                "channel": _channel(venture),
                "text": f"⌛ Expired: nobody decided on “{card.title}” in time, so it is rejected.",
            },
            dedupe_key=f"approval:{approval.id}:expired:announce",
        )
        report.expired.append(approval.id)


async def _remind(db: Database, directory: ApproverDirectory, approval_id: int, now: datetime, report: SweepReport) -> None:
    async with db.transaction() as session:
        approval = await session.get(Approval, approval_id, with_for_update=db.dialect == "postgresql", populate_existing=True)
        if approval is None or approval.status != ApprovalStatus.PENDING or approval.next_reminder_at is None:
            return
        due_at = approval.next_reminder_at
        if due_at > now:
            return
        every = float(approval.approvers.get("reminder_hours", 24))
        moved = await session.execute(
            update(Approval)
            .where(Approval.id == approval.id, Approval.next_reminder_at == due_at)
            .values(next_reminder_at=next_reminder(now, every, approval.expires_at))
        )
        if moved.rowcount != 1:  # another replica sent this reminder
            return
        card = await approval_card(session, approval)
        people = await directory.members(approval.approvers)
        if approval.escalated:
            people |= await directory.members(approval.approvers, backup=True)
        stamp = due_at.isoformat()
        mention = ", ".join(f"<@{u}>" for u in sorted(people)) or "approvers"
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {
                "thread_of": post_key(approval.id),
                "text": f"⏰ Reminder: {mention}, this is still waiting for a decision "
                f"(expires {approval.expires_at:%a %d %b %H:%M} UTC).",
            },
            dedupe_key=f"approval:{approval.id}:remind:{stamp}",
        )
        for user in sorted(people):
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {
                    "channel": user,
                    "text": f"⏰ {card.venture_name} is waiting for your decision on “{card.title}”. "
                    "Open the approval in the channel or in Lumen's Home tab.",
                },
                dedupe_key=f"approval:{approval.id}:remind:{stamp}:dm:{user}",
            )
        report.reminded.append(approval.id)


async def _resume_stranded(db: Database) -> list[int]:
    """Re-queue paused runs that have a gate resolved after their last journaled step."""
    last_step = select(func.max(Step.created_at)).where(Step.run_id == Run.id).scalar_subquery()
    resolved_since = exists().where(
        and_(
            Approval.run_id == Run.id,
            Approval.status != ApprovalStatus.PENDING,
            Approval.resolved_at > last_step,
        )
    )
    async with db.transaction() as session:
        result = await session.execute(
            update(Run)
            .where(Run.status == RunStatus.AWAITING_APPROVAL, resolved_since)
            .values(status=RunStatus.QUEUED)
            .returning(Run.id)
        )
        return list(result.scalars().all())
