"""Loading what an approval message shows, and queueing its Slack messages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Approval, ApprovalVote, Decision, Outcome, Venture
from lumen.engine import outbox
from lumen.slack.blocks.approvals import (
    ApprovalCard,
    Evidence,
    approval_blocks,
    approval_text,
    resolved_blocks,
    resolved_text,
)

EVIDENCE_LIMIT = 5


def post_key(approval_id: int) -> str:
    return f"approval:{approval_id}:post"


async def evidence_for(session: AsyncSession, decision: Decision) -> tuple[Evidence, ...]:
    """Earlier decisions of the same venture and category, with their latest outcome."""
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
    outcomes: dict[int, str] = {}
    if earlier:
        for outcome in await session.scalars(
            select(Outcome).where(Outcome.decision_id.in_([d.id for d in earlier])).order_by(Outcome.id)
        ):
            outcomes[outcome.decision_id] = outcome.verdict.value
    return tuple(
        Evidence(d.id, d.title, d.status.value, outcomes.get(d.id), d.permalink) for d in earlier
    )


async def approval_card(session: AsyncSession, approval: Approval) -> ApprovalCard:
    decision = await session.get(Decision, approval.decision_id)
    assert decision is not None
    venture = await session.get(Venture, approval.venture_id)
    agent = await session.get(Agent, decision.agent_id)
    assert venture is not None and agent is not None
    votes_for = await session.scalar(
        select(func.count()).where(ApprovalVote.approval_id == approval.id, ApprovalVote.approve.is_(True))
    )
    return ApprovalCard(
        approval_id=approval.id,
        decision_id=decision.id,
        venture_name=venture.name,
        venture_slug=venture.slug,
        agent_role=agent.role,
        category=decision.category,
        title=decision.title,
        rationale=decision.rationale,
        expected_effect=decision.expected_effect,
        amount_usd=decision.amount_usd,
        brain_version=decision.brain_version,
        run_id=approval.run_id,
        approvers=approval.approvers,
        quorum=approval.quorum,
        expires_at=approval.expires_at,
        status=approval.status.value,
        escalated=approval.escalated,
        resolved_by=approval.resolved_by,
        resolved_at=approval.resolved_at,
        reason=approval.reason,
        votes_for=votes_for or 0,
        evidence=await evidence_for(session, decision),
    )


async def queue_approval_post(session: AsyncSession, approval: Approval, channel: str) -> None:
    card = await approval_card(session, approval)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": channel, "text": approval_text(card), "blocks": approval_blocks(card)},
        dedupe_key=post_key(approval.id),
        ref={"approval_id": approval.id, "decision_id": approval.decision_id},
    )


async def queue_resolved_update(session: AsyncSession, approval: Approval, card: ApprovalCard) -> None:
    """Rewrite the approval message in place (chat.update on its stored channel and ts)."""
    await outbox.enqueue(
        session,
        "chat.update",
        {"update_of": post_key(approval.id), "text": resolved_text(card), "blocks": resolved_blocks(card)},
        dedupe_key=f"approval:{approval.id}:resolved",
    )


async def queue_pending_update(session: AsyncSession, approval: Approval, key: str) -> None:
    """Refresh a still-pending message (a vote towards quorum, an escalation)."""
    card = await approval_card(session, approval)
    await outbox.enqueue(
        session,
        "chat.update",
        {"update_of": post_key(approval.id), "text": approval_text(card), "blocks": approval_blocks(card)},
        dedupe_key=key,
    )
