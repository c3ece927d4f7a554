"""The brain flywheel's services: outcomes, brains read back, decision quality per version,
and the synthesis schedules. Every function takes the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.brain import repository
from lumen.db.base import utcnow
from lumen.db.models import (
    ApprovalStatus,
    BrainVersion,
    Decision,
    DecisionStatus,
    Outcome,
    PlatformInsight,
    RunKind,
    Venture,
    Verdict,
)
from lumen.domain.attribution import DecisionRecord, VersionScore, score_by_version
from lumen.domain.brain import SECTIONS, BrainDiff, diff_brains, iso_week
from lumen.domain.channels import channel_address
from lumen.domain.config import LumenConfig
from lumen.engine import outbox
from lumen.engine.outbox import Sent
from lumen.engine.scheduler import Schedule
from lumen.errors import LumenError, NotFound
from lumen.render.brain import BrainView
from lumen.render.outcomes import outcome_line, outcome_recorded_text, with_outcome
from lumen.ventures.service import find_venture

VERDICTS = ("success", "failure", "mixed", "unknown")
DEFAULT_SYNTHESIS_SCHEDULE = "0 6 * * 1"
DEFAULT_PLATFORM_SCHEDULE = "0 7 * * 1"


# --- brains ------------------------------------------------------------------------------


async def latest_brain(session: AsyncSession, venture_id: int, version: int | None = None) -> BrainVersion | None:
    return await repository.latest_brain(session, venture_id, version)


async def latest_insight(session: AsyncSession) -> PlatformInsight | None:
    return await repository.latest_insight(session)


def sections_of(brain: BrainVersion | None) -> dict[str, list[dict[str, Any]]]:
    if brain is None:
        return {name: [] for name in SECTIONS}
    return {name: list(getattr(brain, name) or []) for name in SECTIONS}


async def brain_view(
    session: AsyncSession, venture_ref: str, version: int | None = None, *, tz: str = "UTC", hidden: frozenset[str] = frozenset()
) -> BrainView:
    venture = await find_venture(session, venture_ref, hidden)
    latest = await repository.latest_brain_version(session, venture.id)
    if latest is None:
        raise NotFound(
            f"{venture.name} has no brain yet: the first one is built by the weekly synthesis "
            f"(or run `lumen brain synthesize {venture.slug}`)."
        )
    brain = await repository.latest_brain(session, venture.id, version)
    if brain is None:
        raise NotFound(f"{venture.name} has brain versions 1 to {latest}; there is no v{version}.")
    return BrainView(
        venture_name=venture.name,
        venture_slug=venture.slug,
        version=brain.version,
        created_at=brain.created_at,
        sections=sections_of(brain),
        summary=brain.summary,
        latest_version=latest,
        tz=tz,
    )


async def brain_diff(session: AsyncSession, venture_ref: str, a: int, b: int) -> BrainDiff:
    venture = await find_venture(session, venture_ref)
    older = await repository.latest_brain(session, venture.id, a)
    newer = await repository.latest_brain(session, venture.id, b)
    for n, brain in ((a, older), (b, newer)):
        if brain is None:
            raise NotFound(f"{venture.name} has no brain v{n}.")
    return diff_brains(sections_of(older), sections_of(newer))


async def scores_for_venture(session: AsyncSession, venture_id: int) -> list[VersionScore]:
    """Decision quality per brain version: success rate, approval rate, wake-up cost."""
    rows, costs = await repository.score_rows(session, venture_id)
    records = [
        DecisionRecord(
            brain_version=version,
            verdict=verdict.value if verdict else None,
            gated=status is not None,
            approved=None if status is None or status == ApprovalStatus.PENDING else status == ApprovalStatus.APPROVED,
            cost_usd=Decimal(0),
        )
        for version, verdict, status in rows
    ]
    return [
        VersionScore(**{**s.__dict__, "cost_usd": costs.get(s.brain_version, Decimal(0))})
        for s in score_by_version(records)
    ]


# --- outcomes -----------------------------------------------------------------------------


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

    # Strict: `true` is not a decision id nor "1" a number, and NaN, Infinity and 1e999 (which
    # JSON parsers read as infinity) are not metric values; a later synthesis could not use them.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    decision_id: int = Field(gt=0, le=2**63 - 1)  # the database's BIGINT
    verdict: str
    metric: str | None = Field(default=None, max_length=80)
    before: float | None = None
    after: float | None = None
    note: str | None = Field(default=None, max_length=2000)
    reported_by: str | None = Field(default=None, max_length=80)
    replace: bool = False

    @field_validator("verdict", "metric", "note", "reported_by")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        # Postgres stores no NUL character (pydantic refuses unpaired surrogates itself).
        if value is not None and "\x00" in value:
            raise ValueError("must be text without NUL characters")
        return value

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
    """Outcomes are kept side by side: a correction supersedes, never overwrites."""
    decision = await repository.decision_for_outcome(session, report.decision_id)
    if decision is None:
        raise NotFound(f"No decision #{report.decision_id}.")
    if decision.status not in (DecisionStatus.EXECUTED, DecisionStatus.AUTO_APPROVED, DecisionStatus.APPROVED):
        raise LumenError(
            f"Decision #{decision.id} was {decision.status.value.replace('_', ' ')}, not executed: it has no outcome to record."
        )
    existing = await repository.latest_outcome(session, decision.id)
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
                "channel": channel_address(decision.slack_channel_id, venture.channel),
                "thread_ts": decision.slack_ts,
                "text": outcome_recorded_text(
                    report.verdict, report.reported_by, report.metric, report.before, report.after, report.note,
                    superseded=existing.id if existing else None,
                ),
            },
            dedupe_key=f"outcome:{outcome.id}:thread",
        )
        # The card itself says how it turned out, for everyone scrolling the channel.
        posted = await repository.posted_payload(session, f"decision:{decision.id}:post")
        if posted and posted.get("blocks"):
            line = outcome_line(report.verdict, report.reported_by, report.metric, report.before, report.after)
            await outbox.enqueue(
                session,
                "chat.update",
                {
                    "update_of": f"decision:{decision.id}:post",
                    "text": posted.get("text", ""),
                    "blocks": with_outcome(posted["blocks"], decision.id, line),
                },
                dedupe_key=f"outcome:{outcome.id}:card",
            )
    return Recorded(outcome_id=outcome.id, decision_id=decision.id, superseded=existing.id if existing else None)


@dataclass(frozen=True)
class OutcomeForm:
    """What the Record-outcome modal shows about a decision."""

    decision_id: int
    title: str
    existing: str | None  # "Outcome #4 already says success." when there is one


async def outcome_form(session: AsyncSession, decision_id: int) -> OutcomeForm | None:
    decision = await session.get(Decision, decision_id)
    if decision is None:
        return None
    existing = await repository.latest_outcome(session, decision_id)
    note = f"Outcome #{existing.id} already says {existing.verdict.value}." if existing else None
    return OutcomeForm(decision.id, decision.title, note)


# --- schedules ---------------------------------------------------------------------------


def synthesis_key(venture_slug: str, nominal: datetime) -> str:
    """One scheduled synthesis per venture per ISO week, across replicas."""
    return f"synthesis:{venture_slug}:{iso_week(nominal)}"


def platform_key(nominal: datetime) -> str:
    return f"platform:{iso_week(nominal)}"


def synthesis_schedules(config: LumenConfig):  # type: ignore[no-untyped-def]
    """A schedule source: each live venture's weekly synthesis and the platform's."""

    async def source(session: AsyncSession) -> Sequence[Schedule]:
        found: list[Schedule] = []
        for venture in await repository.live_ventures(session):
            declared = config.venture(venture.slug)
            found.append(
                Schedule(
                    job_id=f"synthesis:{venture.id}",
                    cron=declared.synthesis_schedule if declared else DEFAULT_SYNTHESIS_SCHEDULE,
                    timezone=venture.timezone,
                    kind=RunKind.SYNTHESIS,
                    key=lambda nominal, slug=venture.slug: synthesis_key(slug, nominal),
                    venture_id=venture.id,
                    label=f"synthesis {venture.slug}",
                )
            )
        found.append(
            Schedule(
                job_id="platform",
                cron=config.workspace.platform_synthesis_schedule,
                timezone=config.workspace.timezone,
                kind=RunKind.PLATFORM_SYNTHESIS,
                key=platform_key,
                label="platform synthesis",
            )
        )
        return found

    return source


async def on_chart_delivered(session: AsyncSession, sent: Sent) -> None:
    """Outbox hook: remember a brain's uploaded chart, for App Home to show."""
    if sent.file_id and (brain_version_id := sent.ref.get("brain_version_id")):
        await repository.record_chart(session, int(brain_version_id), sent.file_id)
