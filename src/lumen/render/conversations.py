"""An agent's answer in a thread: what it says, what it took back, what it decided now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lumen.render.common import context, escape, section
from lumen.render.limits import Block, check_blocks, clip

WITHDRAW_NOTES = {
    "withdrawn": "withdrawn: its approval is closed",
    "executed": "already carried out: it cannot be taken back",
    "resolved": "already decided by a human: left as it is",
    "not_found": "not one of this agent's decisions: left alone",
}


@dataclass(frozen=True)
class ThreadAnswer:
    role: str
    reply: str
    withdrawn: list[tuple[int, str]] = field(default_factory=list)  # (decision id, outcome)
    decided: list[tuple[int | None, str, bool]] = field(default_factory=list)  # (id, title, gated)
    paused: bool = False


def thread_answer_text(answer: ThreadAnswer) -> str:
    said = answer.reply.strip() or "Noted."
    return clip(f"{answer.role}: {escape(said)}", 3000)


def thread_answer_blocks(answer: ThreadAnswer) -> list[Block]:
    said = answer.reply.strip() or "Noted: nothing to change."
    blocks: list[Block] = [section(f"*{escape(answer.role)}* · {escape(clip(said, 2800))}")]
    lines = [f"• decision #{i}: {WITHDRAW_NOTES.get(outcome, escape(outcome))}" for i, outcome in answer.withdrawn]
    for decision_id, title, gated in answer.decided:
        ref = f"#{decision_id} " if decision_id is not None else ""
        lines.append(f"• new decision {ref}{escape(clip(title, 150))}" + (" (waiting for approval)" if gated else ""))
    if lines:
        blocks.append(section(clip("\n".join(lines), 2900)))
    blocks.append(context("A reply here wakes this agent again."))
    return check_blocks(blocks)


def thread_answer_payload(answer: ThreadAnswer) -> dict[str, Any]:
    return {"text": thread_answer_text(answer), "blocks": thread_answer_blocks(answer)}


def agent_paused_text(role: str, venture: str) -> str:
    return f"The {escape(role)} agent of {escape(venture)} is paused, so it will not answer here until it is resumed."


def could_not_answer_text(role: str, why: str) -> str:
    """A conversation run that failed: the people in the thread are told, not left waiting."""
    return f"The {escape(role)} agent could not answer here: {escape(why)}. A reply here asks it again."
