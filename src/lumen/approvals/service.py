"""Approvals: opening a gate, resolving it exactly once, expiry, reminders. Never commits.

The approval row is locked for the tally, and one conditional UPDATE
(`… WHERE status = 'pending' AND expires_at > now`) decides the winner. The
winner, in the same transaction, records the decision's new status, queues the
message update, and re-queues the paused run. Everyone else learns who won.

Every function takes the caller's session; the Slack writes it causes go to the outbox in
that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.approvals import repository
# Questions agents ask humans (`ask_human`) share the approvers, expiry and reminders of gates;
# they live in approvals/questions.py, and the wake-up reaches them through this service.
from lumen.approvals.questions import answer_of, open_question  # noqa: F401
from lumen.db.base import utcnow
from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, Venture
from lumen.domain.approvals import Tally, is_expired, next_reminder
from lumen.domain.directory import Directory
from lumen.domain.gates import EffectiveRule
from lumen.engine import outbox
from lumen.engine.outbox import Sent
from lumen.errors import Invariant
from lumen.log import get_logger
from lumen.render import messages
from lumen.render.approvals import (
    ApprovalCard,
    Evidence,
    approval_blocks,
    approval_text,
    resolved_blocks,
    resolved_text,
)

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
    tz: str = "UTC"

    @property
    def changed(self) -> bool:
        return self.kind in ("resolved", "voted")


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
        tz=display_zone(approval),
    )


def post_key(approval_id: int) -> str:
    return f"approval:{approval_id}:post"


def display_zone(approval: Approval) -> str:
    """The workspace's time zone, frozen with the approval's rule when it opened."""
    return str(approval.approvers.get("timezone") or "UTC")


# --- the message ------------------------------------------------------------------------


async def approval_card(session: AsyncSession, approval: Approval) -> ApprovalCard:
    decision, venture, agent = await repository.card_rows(session, approval)
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
        votes_for=await repository.votes_for(session, approval.id),
        tz=display_zone(approval),
        evidence=tuple(
            Evidence(d.id, d.title, d.status.value, verdict, d.permalink)
            for d, verdict in await repository.evidence(session, decision)
        ),
    )


async def card_of(session: AsyncSession, approval_id: int) -> ApprovalCard | None:
    approval = await repository.get(session, approval_id)
    return await approval_card(session, approval) if approval is not None else None


async def _queue_update(session: AsyncSession, approval: Approval, key: str) -> None:
    """Rewrite the message in place (chat.update on its stored channel and ts)."""
    card = await approval_card(session, approval)
    if approval.status == ApprovalStatus.PENDING:
        text, blocks = approval_text(card), approval_blocks(card)
    else:
        text, blocks = resolved_text(card), resolved_blocks(card)
    await outbox.enqueue(
        session, "chat.update", {"update_of": post_key(approval.id), "text": text, "blocks": blocks}, dedupe_key=key
    )


async def on_post_delivered(session: AsyncSession, sent: Sent) -> None:
    """Outbox hook: remember where an approval message landed, for later updates."""
    if sent.method == "chat.postMessage" and (approval_id := sent.ref.get("approval_id")):
        await repository.record_message(session, int(approval_id), sent.channel, sent.ts)


# --- opening a gate -------------------------------------------------------------------------


async def open_gate(
    session: AsyncSession,
    decision: Decision,
    venture: Venture,
    rule: EffectiveRule,
    now: datetime,
    *,
    tz: str = "UTC",
    why: str = "",
) -> Approval:
    """The approval for a gated decision, and its message, in the decision's transaction.
    `tz` is the workspace's time zone, in which the approval will show its times; `why`, the
    reason it was gated when its label alone would not have been (shown on the card)."""
    approval = Approval(
        decision_id=decision.id,
        run_id=decision.run_id,
        venture_id=venture.id,
        status=ApprovalStatus.PENDING,
        policy_version=await repository.latest_policy_version(session),
        approvers=rule.frozen() | {"timezone": tz, "gated_as": rule.category, "why": why},
        quorum=rule.quorum,
        expires_at=now + timedelta(hours=rule.expiry_hours),
        next_reminder_at=now + timedelta(hours=rule.reminder_hours),
        created_at=now,
    )
    session.add(approval)
    await session.flush()
    card = await approval_card(session, approval)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address, "text": approval_text(card), "blocks": approval_blocks(card)},
        dedupe_key=post_key(approval.id),
        ref={"approval_id": approval.id, "decision_id": approval.decision_id, "permalink": True},
    )
    return approval


async def resolution_of(session: AsyncSession, decision_id: int) -> Approval | None:
    """The decision's approval once a human (or expiry) resolved it; None while it is pending."""
    approval = await repository.of_decision(session, decision_id)
    if approval is None or approval.status == ApprovalStatus.PENDING:
        return None
    return approval


# --- clicks ----------------------------------------------------------------------------------


async def check(session: AsyncSession, directory: Directory, approval_id: int, user_id: str) -> ClickResult | None:
    """Why this user can't act on this approval now, or None if they can.

    Read apart from `resolve`, outside its write transaction: the directory may ask Slack.
    """
    approval = await repository.get(session, approval_id)
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
    session: AsyncSession, approval_id: int, user_id: str, *, approve: bool, reason: str | None = None
) -> ClickResult:
    """A vote by someone `check` let through; the vote that completes the tally resolves it."""
    approval = await repository.get(session, approval_id, lock=True)
    if approval is None:
        return ClickResult(kind="not_found", approval_id=approval_id)
    now = utcnow()
    if approval.status != ApprovalStatus.PENDING:
        return _result("already", approval)
    if is_expired(approval.expires_at, now):
        return _result("expired", approval)
    await repository.add_vote(session, approval_id, user_id, approve, reason, now)
    tally = await repository.tally(session, approval)
    if not (tally.approved or tally.rejected):
        await _queue_update(session, approval, f"approval:{approval.id}:vote:{user_id}")
        return _result("voted", approval, tally)
    status = ApprovalStatus.APPROVED if tally.approved and not tally.rejected else ApprovalStatus.REJECTED
    if not await repository.close_if_pending(session, approval_id, status, now, by=user_id, reason=reason):
        await session.refresh(approval)
        return _result("already", approval)
    approval.status, approval.resolved_by, approval.resolved_at, approval.reason = status, user_id, now, reason
    await settle(session, approval, now)
    log.info("lumen.approval.resolved", approval_id=approval_id, status=status.value, by=user_id)
    return _result("resolved", approval, tally)


async def withdraw(session: AsyncSession, decision_id: int, *, by_role: str, reason: str = "") -> bool:
    """The agent takes back a decision still waiting for a human: its approval closes as
    rejected (so the paused run continues and stores nothing), once. False when a human (or
    expiry) resolved it first, or it has no approval."""
    approval = await repository.of_decision(session, decision_id)
    if approval is None or approval.status != ApprovalStatus.PENDING:
        return False
    now = utcnow()
    text = f"Withdrawn by the {by_role} agent" + (f": {reason}" if reason else "")
    if not await repository.close_if_pending(session, approval.id, ApprovalStatus.REJECTED, now, by=None, reason=text[:2000]):
        return False
    approval.status, approval.resolved_by, approval.resolved_at, approval.reason = ApprovalStatus.REJECTED, None, now, text[:2000]
    await settle(session, approval, now)
    log.info("lumen.approval.withdrawn", approval_id=approval.id, decision_id=decision_id, by=by_role)
    return True


async def tell_clicker(session: AsyncSession, result: ClickResult, user_id: str, channel_id: str | None, stamp: str) -> None:
    """The note only the clicker sees: their vote counted, or why nothing changed.

    Ephemeral in the channel the click came from; a DM from App Home, which has no channel.
    """
    if result.kind == "resolved":
        return  # the message itself changes for everyone
    if result.kind == "voted":
        if result.tally is None:
            raise Invariant("a vote without its tally")
        text = messages.vote_recorded(result.tally.approvals, result.tally.quorum)
    else:
        text = messages.click_refused(result.kind, result.status, result.resolved_by, result.resolved_at, result.tz)
    key = f"approval:{result.approval_id}:note:{user_id}:{stamp}"
    if channel_id:
        payload = {"channel": channel_id, "user": user_id, "text": text}
        await outbox.enqueue(session, "chat.postEphemeral", payload, dedupe_key=key)
    else:
        await outbox.enqueue(session, "chat.postMessage", {"channel": user_id, "text": text}, dedupe_key=key)


async def settle(session: AsyncSession, approval: Approval, now: datetime) -> None:
    """After an approval left `pending`: the decision's status, the message, the paused run."""
    decision_status = {
        ApprovalStatus.APPROVED: DecisionStatus.APPROVED,
        ApprovalStatus.REJECTED: DecisionStatus.REJECTED,
        ApprovalStatus.EXPIRED: DecisionStatus.EXPIRED,
    }[approval.status]
    await repository.set_decision_status(session, approval.decision_id, decision_status, now)
    await _queue_update(session, approval, f"approval:{approval.id}:resolved")
    await repository.requeue_run(session, approval.run_id)


async def pending_for(session: AsyncSession, directory: Directory, user_id: str) -> list[ApprovalCard]:
    cards = []
    for approval in await repository.pending(session):
        if await directory.may_approve(approval.approvers, user_id, escalated=approval.escalated):
            cards.append(await approval_card(session, approval))
    return cards


# --- the sweep's units of work ---------------------------------------------------------------


async def expire(session: AsyncSession, directory: Directory, approval_id: int, now: datetime) -> str | None:
    """Reject (or escalate once) a pending approval past its deadline: "expired", "escalated" or None."""
    approval = await repository.get(session, approval_id, lock=True)
    if approval is None or approval.status != ApprovalStatus.PENDING or approval.expires_at > now:
        return None
    card = await approval_card(session, approval)
    venture = await session.get(Venture, approval.venture_id)
    if venture is None:
        raise Invariant(f"approval {approval.id}: venture {approval.venture_id} is missing")
    rule = approval.approvers
    if rule.get("on_expiry") == "escalate" and not approval.escalated:
        approval.escalated = True
        approval.expires_at = now + timedelta(hours=float(rule.get("expiry_hours", 72)))
        approval.next_reminder_at = now
        await _queue_update(session, approval, f"approval:{approval.id}:escalated")
        backups = sorted(await directory.members(rule, backup=True))
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": venture.address, "text": messages.escalated(card.title, backups)},
            dedupe_key=f"approval:{approval.id}:escalated:announce",
        )
        return "escalated"
    reason = "expired without a decision"
    if not await repository.close_if_pending(session, approval.id, ApprovalStatus.EXPIRED, now, by=None, reason=reason):
        return None
    approval.status, approval.resolved_at, approval.reason = ApprovalStatus.EXPIRED, now, reason
    await settle(session, approval, now)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address, "text": messages.expired_rejected(card.title)},
        dedupe_key=f"approval:{approval.id}:expired:announce",
    )
    return "expired"


async def remind(session: AsyncSession, directory: Directory, approval_id: int, now: datetime) -> bool:
    """A reminder in the message's thread and a DM to each approver; True if this replica sent it."""
    approval = await repository.get(session, approval_id, lock=True)
    if approval is None or approval.status != ApprovalStatus.PENDING or approval.next_reminder_at is None:
        return False
    due_at = approval.next_reminder_at
    if due_at > now:
        return False
    every = float(approval.approvers.get("reminder_hours", 24))
    if not await repository.move_reminder(session, approval.id, due_at, next_reminder(now, every, approval.expires_at)):
        return False  # another replica sent this reminder
    card = await approval_card(session, approval)
    people = await directory.members(approval.approvers)
    if approval.escalated:
        people |= await directory.members(approval.approvers, backup=True)
    stamp = due_at.isoformat()
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"thread_of": post_key(approval.id), "text": messages.reminder(sorted(people), approval.expires_at, display_zone(approval))},
        dedupe_key=f"approval:{approval.id}:remind:{stamp}",
    )
    for user in sorted(people):
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": user, "text": messages.reminder_dm(card.venture_name, card.title)},
            dedupe_key=f"approval:{approval.id}:remind:{stamp}:dm:{user}",
        )
    return True


async def resume_stranded(session: AsyncSession) -> list[int]:
    """Paused runs whose gate was resolved while they were still pausing (the click found
    them `running`, not yet `awaiting_approval`): queue them again."""
    return await repository.requeue_stranded(session)
