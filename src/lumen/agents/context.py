"""What an agent sees when it wakes: its venture, the brain, the insight, recent history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents import repository
from lumen.agents.steps import RecentDecision, WakeContext
from lumen.brain import service as brain
from lumen.db.models import Agent, ApprovalStatus, DecisionStatus, Venture
from lumen.llm.context_block import (
    AgentInfo,
    ContextBlock,
    InsightInfo,
    PlaybookItem,
    Rejection,
    VentureInfo,
)

RECENT_DECISIONS = 20


def _titles(items: list[Any]) -> list[str]:
    """Titles of the decisions a brain section cites (items are dicts with `titles`)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            out += [t for t in item.get("titles", []) if isinstance(t, str)]
    return out


async def load_context(session: AsyncSession, agent: Agent, venture: Venture) -> WakeContext:
    latest = await brain.latest_brain(session, venture.id)
    insight = await brain.latest_insight(session)
    # Every decision's title, not just the recent ones: the playbook must not repeat itself.
    # The newest rows double as the "recent decisions" the prompt lists.
    everything = await repository.decision_history(session, venture.id)
    history = [(i, title, status) for i, title, _, status in everything]
    decisions = everything[:RECENT_DECISIONS]
    outcomes = await repository.latest_verdicts(session, [d.id for d in decisions])
    approvals = await repository.open_and_rejected_approvals(session, venture.id)
    reasons = {a.decision_id: a.reason for a in approvals if a.status == ApprovalStatus.REJECTED}
    open_ids = {a.decision_id for a in approvals if a.status == ApprovalStatus.PENDING}

    recent = [
        RecentDecision(
            id=d.id,
            title=d.title,
            category=d.category,
            status=d.status.value,
            outcome=outcomes.get(d.id),
            reason=reasons.get(d.id),
        )
        for d in decisions
    ]
    rejected = [(i, t) for i, t, status in history if status == DecisionStatus.REJECTED]
    block = ContextBlock(
        task="decide",
        venture=VentureInfo(slug=venture.slug, name=venture.name, stage=venture.stage, goals=list(venture.goals)),
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
        failed=sorted(set(_titles(latest.failed) if latest else [])),
        rejected=[Rejection(title=t, reason=reasons.get(i) or "") for i, t in rejected],
        brain_version=latest.version if latest else None,
        insight=InsightInfo(version=insight.version, items=list(insight.insights)) if insight else None,
        open_approvals=[t for i, t, _ in history if i in open_ids],
    )
    return WakeContext(
        block=block,
        recent=recent,
        brain_summary=latest.summary if latest else "",
        brain_version=latest.version if latest else None,
        insight_version=insight.version if insight else None,
    )
