"""What an agent sees when it wakes: its venture, the brain, the insight, recent history."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    BrainVersion,
    Decision,
    DecisionStatus,
    Outcome,
    PlatformInsight,
    Venture,
)
from lumen.llm.context_block import (
    AgentInfo,
    ContextBlock,
    InsightInfo,
    PlaybookItem,
    Rejection,
    VentureInfo,
)

RECENT_DECISIONS = 20


@dataclass(frozen=True)
class RecentDecision:
    id: int
    title: str
    category: str
    status: str
    outcome: str | None
    reason: str | None  # why a human rejected it


@dataclass(frozen=True)
class WakeContext:
    block: ContextBlock
    recent: tuple[RecentDecision, ...]
    brain_summary: str
    brain_version: int | None
    insight_version: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block.model_dump(mode="json"),
            "recent": [r.__dict__ for r in self.recent],
            "brain_summary": self.brain_summary,
            "brain_version": self.brain_version,
            "insight_version": self.insight_version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WakeContext:
        return cls(
            block=ContextBlock.model_validate(data["block"]),
            recent=tuple(RecentDecision(**r) for r in data["recent"]),
            brain_summary=data["brain_summary"],
            brain_version=data["brain_version"],
            insight_version=data["insight_version"],
        )


def _titles(items: list[Any]) -> list[str]:
    """Titles of the decisions a brain section cites (items are dicts with `titles`)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            out += [t for t in item.get("titles", []) if isinstance(t, str)]
    return out


async def load_context(session: AsyncSession, agent: Agent, venture: Venture) -> WakeContext:
    brain = await session.scalar(
        select(BrainVersion)
        .where(BrainVersion.venture_id == venture.id)
        .order_by(BrainVersion.version.desc())
        .limit(1)
    )
    insight = await session.scalar(
        select(PlatformInsight).order_by(PlatformInsight.version.desc()).limit(1)
    )
    # Every decision's title, not just the recent ones: the playbook must not repeat itself.
    # The newest rows double as the "recent decisions" the prompt lists.
    everything = (
        await session.execute(
            select(Decision.id, Decision.title, Decision.category, Decision.status)
            .where(Decision.venture_id == venture.id)
            .order_by(Decision.id.desc())
        )
    ).all()
    history = [(i, title, status) for i, title, _, status in everything]
    decisions = everything[:RECENT_DECISIONS]
    ids = [d.id for d in decisions]
    outcomes: dict[int, str] = {}
    if ids:
        for outcome in await session.scalars(
            select(Outcome).where(Outcome.decision_id.in_(ids)).order_by(Outcome.id)
        ):
            outcomes[outcome.decision_id] = outcome.verdict.value  # the latest wins
    approvals = (
        await session.scalars(
            select(Approval).where(
                Approval.venture_id == venture.id,
                Approval.status.in_([ApprovalStatus.REJECTED, ApprovalStatus.PENDING]),
            )
        )
    ).all()
    reasons = {a.decision_id: a.reason for a in approvals if a.status == ApprovalStatus.REJECTED}
    open_ids = {a.decision_id for a in approvals if a.status == ApprovalStatus.PENDING}

    recent = tuple(
        RecentDecision(
            id=d.id,
            title=d.title,
            category=d.category,
            status=d.status.value,
            outcome=outcomes.get(d.id),
            reason=reasons.get(d.id),
        )
        for d in decisions
    )
    rejected = [(i, t) for i, t, status in history if status == DecisionStatus.REJECTED]
    block = ContextBlock(
        task="decide",
        venture=VentureInfo(
            slug=venture.slug, name=venture.name, stage=venture.stage, goals=list(venture.goals)
        ),
        agent=AgentInfo(role=agent.role),
        playbook=[
            PlaybookItem(
                title=a["title"],
                category=a["category"],
                rationale=a.get("rationale", ""),
                expected_effect=a.get("expected_effect", ""),
                amount_usd=Decimal(str(a["amount_usd"])) if a.get("amount_usd") is not None else None,
                role=a.get("role"),
            )
            for a in venture.playbook
        ],
        tried=sorted({t for _, t, status in history if status != DecisionStatus.REJECTED}),
        failed=sorted(set(_titles(brain.failed) if brain else [])),
        rejected=[Rejection(title=t, reason=reasons.get(i) or "") for i, t in rejected],
        brain_version=brain.version if brain else None,
        insight=InsightInfo(version=insight.version, items=list(insight.insights)) if insight else None,
        open_approvals=[t for i, t, _ in history if i in open_ids],
    )
    return WakeContext(
        block=block,
        recent=recent,
        brain_summary=brain.summary if brain else "",
        brain_version=brain.version if brain else None,
        insight_version=insight.version if insight else None,
    )
