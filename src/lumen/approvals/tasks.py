"""The approvals sweep, run every few seconds by each replica's scheduler: a job, so an edge.

- Expiry: a pending approval past its deadline is rejected (`on_expiry: reject`)
  or escalated once to the backup approvers (`on_expiry: escalate`). The same
  conditional UPDATE as a click decides, so a click racing expiry ends in one
  resolution.
- Reminders: a thread reply under the approval message and a DM to each approver.
- Resume: a paused run whose gate was resolved while it was still pausing is
  re-queued (the click found it `running`, not yet `awaiting_approval`).
- Questions agents asked humans (`ask_human`): the same three, except that a question past
  its deadline closes without an answer and its run goes on (questions do not escalate).

Every replica may sweep; conditional updates and outbox keys make that safe. Each
approval is its own transaction, so one that fails does not hold up the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lumen.approvals import questions, repository, service
from lumen.db.base import utcnow
from lumen.db.session import Database
from lumen.domain.directory import Directory
from lumen.log import get_logger

log = get_logger(__name__)


@dataclass
class SweepReport:
    expired: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    questions_expired: list[int] = field(default_factory=list)
    questions_reminded: list[int] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(
            self.expired or self.escalated or self.reminded or self.resumed or self.questions_expired or self.questions_reminded
        )


async def sweep(db: Database, directory: Directory, now: datetime | None = None) -> SweepReport:
    now = now or utcnow()
    report = SweepReport()
    async with db.sessions() as session:
        due = await repository.due_to_expire(session, now)
        to_remind = await repository.due_for_reminder(session, now)
    for approval_id in due:
        async with db.transaction() as session:
            what = await service.expire(session, directory, approval_id, now)
        if what == "expired":
            report.expired.append(approval_id)
        elif what == "escalated":
            report.escalated.append(approval_id)
    for approval_id in to_remind:
        async with db.transaction() as session:
            if await service.remind(session, directory, approval_id, now):
                report.reminded.append(approval_id)
    await _sweep_questions(db, directory, now, report)
    async with db.transaction() as session:
        report.resumed = await service.resume_stranded(session)
        report.resumed += await questions.resume_stranded(session)
    if report.anything:
        log.info(
            "lumen.approvals.swept",
            expired=report.expired,
            escalated=report.escalated,
            reminded=report.reminded,
            resumed=report.resumed,
            questions_expired=report.questions_expired,
            questions_reminded=report.questions_reminded,
        )
    return report


async def _sweep_questions(db: Database, directory: Directory, now: datetime, report: SweepReport) -> None:
    async with db.sessions() as session:
        due, to_remind = await questions.due(session, now)
    for question_id in due:
        async with db.transaction() as session:
            if await questions.expire(session, question_id, now):
                report.questions_expired.append(question_id)
    for question_id in to_remind:
        async with db.transaction() as session:
            if await questions.remind(session, directory, question_id, now):
                report.questions_reminded.append(question_id)
