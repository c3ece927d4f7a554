"""A decision as posted to its venture's channel, and the run trail offered in its thread."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lumen.render.common import context, escape, header, section, usd
from lumen.render.limits import MAX_BLOCKS_MESSAGE, Block, check_blocks, clip
from lumen.render.outcomes import RECORD_ACTION

TRAIL_ACTION = "decision_trail"
STATUS_LABEL = {
    "executed": "✅ Executed",
    "auto_approved": "✅ Auto-approved",
    "awaiting_approval": "✋ Awaiting approval",
    "approved": "👍 Approved",
    "rejected": "🚫 Rejected",
    "expired": "⌛ Expired",
    "proposed": "📝 Proposed",
}


@dataclass(frozen=True)
class DecisionCard:
    id: int
    venture: str
    agent_role: str
    category: str
    title: str
    rationale: str
    expected_effect: str
    amount_usd: Decimal | None
    status: str
    brain_version: int | None
    run_id: int
    cost_usd: Decimal
    model: str
    follows_insight: str | None = None


def decision_blocks(card: DecisionCard) -> list[Block]:
    brain = f"brain v{card.brain_version}" if card.brain_version else "no brain yet"
    fields = [
        f"*Category*\n`{escape(card.category)}`",
        f"*Status*\n{STATUS_LABEL.get(card.status, card.status)}",
        f"*Expected effect*\n{escape(card.expected_effect) or '—'}",
        f"*Amount*\n{usd(card.amount_usd)}",
    ]
    blocks: list[Block] = [
        header(card.title),
        section(f"*Why:* {escape(card.rationale) or '—'}", fields=fields),
    ]
    if card.follows_insight:
        blocks.append(context(f"💡 Follows platform insight: {escape(card.follows_insight)}"))
    blocks.append(
        context(
            f"🤖 {escape(card.agent_role)} agent · {brain} · run #{card.run_id}"
            f" · decision #{card.id} · cost {usd(card.cost_usd)} · {escape(card.model)}"
        )
    )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"decision:{card.id}",
            "elements": [
                *(
                    [
                        {
                            "type": "button",
                            "action_id": RECORD_ACTION,
                            "text": {"type": "plain_text", "text": "Record outcome"},
                            "value": str(card.id),
                        }
                    ]
                    if card.status == "executed"
                    else []
                ),
                {
                    "type": "button",
                    "action_id": TRAIL_ACTION,
                    "text": {"type": "plain_text", "text": "Show trail in thread"},
                    "value": str(card.id),
                },
            ],
        }
    )
    return check_blocks(blocks)


def decision_text(card: DecisionCard) -> str:
    return f"{card.agent_role} decided: {escape(card.title)} ({escape(card.category)})"


@dataclass(frozen=True)
class TrailStep:
    seq: int
    kind: str
    name: str
    summary: str
    cost_usd: Decimal
    latency_ms: int


def trail_blocks(run_id: int, steps: list[TrailStep], status: str) -> list[Block]:
    blocks: list[Block] = [section(f"*Trail of run #{run_id}* · {status}")]
    lines = [
        f"`{s.seq:>2}` *{escape(s.kind)}* {escape(clip(s.name, 200))} · {s.latency_ms} ms · {usd(s.cost_usd)}"
        + (f"\n      {escape(clip(s.summary, 300))}" if s.summary else "")
        for s in steps
    ]
    # Group lines into sections so a long trail stays within Slack's limits.
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks = blocks[: MAX_BLOCKS_MESSAGE - 1]
    blocks.append(context(f"Full detail: `lumen runs show {run_id}`"))
    return check_blocks(blocks)


def trail_payload(run_id: int, steps: list[TrailStep], status: str) -> dict[str, Any]:
    return {"text": f"Trail of run #{run_id}", "blocks": trail_blocks(run_id, steps, status)}


def thread_link(permalink: str | None, channel_id: str | None, thread_ts: str | None) -> str | None:
    """A link that opens a message's thread: its permalink with `thread_ts` (Slack opens
    permalinks in the client, on the thread when the link names one)."""
    if not permalink or not channel_id or not thread_ts:
        return None
    joiner = "&" if "?" in permalink else "?"
    return f"{permalink}{joiner}thread_ts={thread_ts}&cid={channel_id}"


def trail_pointer(run_id: int, link: str | None) -> str:
    """What the clicker of "Show trail in thread" reads: where the (one) trail is."""
    where = f"<{link}|open the thread>" if link else "open the replies under it"
    return f"🧾 The trail of run #{run_id} is in this decision's thread: {where}."
