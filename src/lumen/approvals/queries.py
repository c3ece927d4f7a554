"""Finding the approvals waiting for a person."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.approvals.directory import ApproverDirectory
from lumen.approvals.messages import approval_card
from lumen.db.models import Approval, ApprovalStatus
from lumen.slack.blocks.approvals import ApprovalCard


async def pending_for(session: AsyncSession, directory: ApproverDirectory, user_id: str) -> list[ApprovalCard]:
    approvals = (
        await session.scalars(
            select(Approval).where(Approval.status == ApprovalStatus.PENDING).order_by(Approval.expires_at)
        )
    ).all()
    cards = []
    for approval in approvals:
        if await directory.may_approve(approval.approvers, user_id, escalated=approval.escalated):
            cards.append(await approval_card(session, approval))
    return cards
