"""Approval messages: what is proposed, why, the evidence, and Approve / Reject.

Once resolved, the same message is rebuilt without buttons, saying who decided,
when, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from lumen.render.common import clock, context, divider, escape, header, section, usd
from lumen.render.limits import Block, check_blocks, clip

APPROVE_ACTION = "approval_approve"
REJECT_ACTION = "approval_reject"
REJECT_MODAL = "approval_reject_modal"
APPROVE_MODAL = "approval_approve_modal"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"

OUTCOME_ICON = {"success": "✅", "failure": "❌", "mixed": "➗", "unknown": "❔", None: "…"}
RESOLVED_LABEL = {
    "approved": "✅ Approved",
    "rejected": "🚫 Rejected",
    "expired": "⌛ Expired — rejected",
}


@dataclass(frozen=True)
class Evidence:
    decision_id: int
    title: str
    status: str
    outcome: str | None
    permalink: str | None


@dataclass(frozen=True)
class ApprovalCard:
    approval_id: int
    decision_id: int
    venture_name: str
    venture_slug: str
    agent_role: str
    category: str
    title: str
    rationale: str
    expected_effect: str
    amount_usd: Decimal | None
    brain_version: int | None
    run_id: int
    approvers: dict[str, Any]
    quorum: int
    expires_at: datetime
    status: str = "pending"
    escalated: bool = False
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reason: str | None = None
    votes_for: int = 0
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    tz: str = "UTC"  # the workspace's zone: every time on the card is shown in it


def _who(approvers: dict[str, Any], *, backup: bool = False) -> str:
    prefix = "backup_" if backup else ""
    names = [f"<@{u}>" for u in approvers.get(f"{prefix}users", [])]
    names += [f"<!subteam^{g}>" for g in approvers.get(f"{prefix}usergroups", [])]
    names += [f"<#{c}>" if not c.startswith("#") else c for c in approvers.get(f"{prefix}channels", [])]
    return ", ".join(names) or "nobody"


def _evidence_lines(card: ApprovalCard) -> str:
    if not card.evidence:
        return "_No earlier decisions in this category._"
    lines = []
    for e in card.evidence:
        title = f"<{e.permalink}|{escape(e.title)}>" if e.permalink else escape(e.title)
        outcome = f"{OUTCOME_ICON.get(e.outcome, '…')} {e.outcome}" if e.outcome else "no outcome yet"
        lines.append(f"• #{e.decision_id} {title} — {e.status}, {outcome}")
    return "\n".join(lines)


def _summary(card: ApprovalCard) -> list[Block]:
    brain = f"brain v{card.brain_version}" if card.brain_version else "no brain yet"
    return [
        section(
            f"*Proposed:* {escape(card.title)}\n*Why:* {escape(clip(card.rationale, 1500)) or '—'}",
            fields=[
                f"*Category*\n`{escape(card.category)}`",
                f"*Amount*\n{usd(card.amount_usd)}",
                f"*Expected effect*\n{escape(card.expected_effect) or '—'}",
                f"*Agent*\n{escape(card.agent_role)} · {brain}",
            ],
        ),
        section(f"*Evidence: related decisions*\n{_evidence_lines(card)}"),
    ]


def _gated_because(card: ApprovalCard) -> list[Block]:
    """Why a human sees this when its proposer's label would have let it through."""
    why = str(card.approvers.get("why") or "")
    if not why:
        return []
    gated_as = str(card.approvers.get("gated_as") or card.category)
    return [context(f"🛡️ Gated as {escape(gated_as)}: {escape(clip(why, 500))}")]


def approval_blocks(card: ApprovalCard) -> list[Block]:
    """The pending approval, with its buttons."""
    value = str(card.approval_id)
    quorum = f" · {card.votes_for} of {card.quorum} approvals" if card.quorum > 1 else ""
    who = _who(card.approvers) + (f", then {_who(card.approvers, backup=True)}" if card.escalated else "")
    blocks: list[Block] = [
        header(f"✋ Approval needed · {card.venture_name}"),
        *_summary(card),
        *_gated_because(card),
        context(
            f"Approvers: {who}{quorum} · expires {clock(card.expires_at, card.tz)}"
            f" · decision #{card.decision_id} · run #{card.run_id}"
        ),
        {
            "type": "actions",
            "block_id": f"approval:{card.approval_id}",
            "elements": [
                # No `confirm` here: Slack would ask everyone, approver or not, before Lumen can
                # tell. An approver's click opens `approve_modal`, the confirmation; anyone else
                # is told at once that they are not an approver.
                {
                    "type": "button",
                    "action_id": APPROVE_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve…"},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": REJECT_ACTION,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject…"},
                    "value": value,
                },
            ],
        },
    ]
    return check_blocks(blocks)


def resolved_blocks(card: ApprovalCard) -> list[Block]:
    """The same message after resolution: who, when, why; no buttons."""
    label = RESOLVED_LABEL.get(card.status, card.status)
    by = f" by <@{card.resolved_by}>" if card.resolved_by else ""
    when = f" on {clock(card.resolved_at, card.tz)}" if card.resolved_at else ""
    lines = f"*{label}*{by}{when}"
    if card.reason:
        lines += f"\n>{escape(clip(card.reason, 2000))}"
    blocks: list[Block] = [
        header(f"{label.split(' ')[0]} {card.title}"),
        *_summary(card),
        divider(),
        section(lines),
        context(f"decision #{card.decision_id} · run #{card.run_id} · {card.venture_slug}"),
    ]
    return check_blocks(blocks)


def approval_text(card: ApprovalCard) -> str:
    return f"Approval needed for {escape(card.venture_name)}: {escape(card.title)}"


def resolved_text(card: ApprovalCard) -> str:
    return f"{RESOLVED_LABEL.get(card.status, card.status)}: {escape(card.title)}"


def approve_modal(card: ApprovalCard) -> dict[str, Any]:
    """The confirmation an approver sees after clicking Approve (the listener sets private_metadata)."""
    return {
        "type": "modal",
        "callback_id": APPROVE_MODAL,
        "private_metadata": str(card.approval_id),
        "title": {"type": "plain_text", "text": "Approve decision"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": check_blocks(
            [
                section(f"*{escape(card.title)}* will be executed.\n{escape(clip(card.rationale, 500))}"),
                context(
                    f"{escape(card.venture_name)} · `{escape(card.category)}` · {usd(card.amount_usd)}"
                    f" · decision #{card.decision_id} · expires {clock(card.expires_at, card.tz)}"
                ),
            ],
            modal=True,
        ),
    }


def reject_modal(card: ApprovalCard) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": str(card.approval_id),
        "title": {"type": "plain_text", "text": "Reject decision"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": check_blocks(
            [
                section(f"*{escape(card.title)}*\n{escape(clip(card.rationale, 500))}"),
                {
                    "type": "input",
                    "block_id": REASON_BLOCK,
                    "label": {"type": "plain_text", "text": "Why? The agent reads this before its next decision."},
                    "element": {
                        "type": "plain_text_input",
                        "action_id": REASON_INPUT,
                        "multiline": True,
                        "min_length": 3,
                        "max_length": 2000,
                    },
                },
            ],
            modal=True,
        ),
    }


def pending_list_blocks(cards: list[ApprovalCard], *, heading: str) -> list[Block]:
    """Several pending approvals, each with working buttons (App Home, /lumen approvals)."""
    blocks: list[Block] = [header(heading)]
    if not cards:
        blocks.append(section("Nothing is waiting for you. 🎉"))
        return check_blocks(blocks)
    for card in cards[:12]:
        blocks += [
            section(
                f"*{escape(card.title)}* · {escape(card.venture_name)}\n"
                f"`{escape(card.category)}` · {usd(card.amount_usd)} · {escape(card.agent_role)}"
                f" · expires {clock(card.expires_at, card.tz)}"
            ),
            approval_blocks(card)[-1],
        ]
    if len(cards) > 12:
        blocks.append(context(f"…and {len(cards) - 12} more."))
    return check_blocks(blocks)
