"""Outcomes: what a decision led to. Kept side by side; a correction supersedes, never overwrites."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Decision, DecisionStatus, Outcome, Venture, Verdict
from lumen.engine import outbox
from lumen.errors import LumenError, NotFound
from lumen.slack.blocks.outcomes import outcome_recorded_text

VERDICTS = ("success", "failure", "mixed", "unknown")


class OutcomeExists(LumenError):
    """The decision already has an outcome and the caller did not ask to supersede it."""

    def __init__(self, decision_id: int, existing: Outcome) -> None:
        by = f" by {existing.reported_by}" if existing.reported_by else ""
        super().__init__(
            f"Decision #{decision_id} already has an outcome ({existing.verdict.value}{by}, outcome #{existing.id}). "
            "Record it again with replace to supersede it; the earlier one is kept."
        )
        self.existing = existing


class OutcomeReport(BaseModel):
    """An outcome as reported from Slack, the CLI or the HTTP API; validated the same way."""

    model_config = ConfigDict(extra="forbid")

    decision_id: int = Field(gt=0)
    verdict: str
    metric: str | None = Field(default=None, max_length=80)
    before: float | None = None
    after: float | None = None
    note: str | None = Field(default=None, max_length=2000)
    reported_by: str | None = Field(default=None, max_length=80)
    replace: bool = False

    @field_validator("verdict")
    @classmethod
    def _verdict(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        return value


@dataclass(frozen=True)
class Recorded:
    outcome_id: int
    decision_id: int
    superseded: int | None


async def record_outcome(session: AsyncSession, report: OutcomeReport, *, source: str) -> Recorded:
    decision = await session.get(Decision, report.decision_id, with_for_update=session.bind.dialect.name == "postgresql")
    if decision is None:
        raise NotFound(f"No decision #{report.decision_id}.")
    if decision.status not in (DecisionStatus.EXECUTED, DecisionStatus.AUTO_APPROVED, DecisionStatus.APPROVED):
        raise LumenError(
            f"Decision #{decision.id} was {decision.status.value.replace('_', ' ')}, not executed: it has no outcome to record."
        )
    existing = await session.scalar(
        select(Outcome).where(Outcome.decision_id == decision.id).order_by(Outcome.id.desc()).limit(1)
    )
    if existing is not None and not report.replace:
        raise OutcomeExists(decision.id, existing)
    outcome = Outcome(
        decision_id=decision.id,
        verdict=Verdict(report.verdict),
        metric=report.metric,
        metric_before=report.before,
        metric_after=report.after,
        note=report.note,
        reported_by=report.reported_by,
        source=source,
        supersedes_id=existing.id if existing else None,
        created_at=utcnow(),
    )
    session.add(outcome)
    await session.flush()
    venture = await session.get(Venture, decision.venture_id)
    if decision.slack_ts and venture is not None:
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {
                "channel": decision.slack_channel_id or f"#{venture.channel}",
                "thread_ts": decision.slack_ts,
                "text": outcome_recorded_text(
                    report.verdict, report.reported_by, report.metric, report.before, report.after, report.note,
                    superseded=existing.id if existing else None,
                ),
            },
            dedupe_key=f"outcome:{outcome.id}:thread",
        )
    return Recorded(outcome_id=outcome.id, decision_id=decision.id, superseded=existing.id if existing else None)
