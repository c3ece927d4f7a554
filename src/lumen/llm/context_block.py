"""The machine-readable context embedded in prompts: `<lumen-context>{json}</lumen-context>`.

The prompt builders render it; the offline model plays from it; real models read it beside the
prose. One pydantic model is the contract for all three.

What people and models wrote (titles, reasons, notes) travels only as JSON string values here,
with `<` and `>` escaped, so nothing inside a value can open or close a block of its own.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OPEN_TAG = "<lumen-context>"
CLOSE_TAG = "</lumen-context>"
_BLOCK = re.compile(re.escape(OPEN_TAG) + r"(.*?)" + re.escape(CLOSE_TAG), re.DOTALL)

Task = Literal["decide", "synthesize", "answer", "classify", "verify"]


class _Block(BaseModel):
    # Forbid unknown keys: a typo in the prompt builder should fail a test, not go unread.
    model_config = ConfigDict(extra="forbid")


class VentureInfo(_Block):
    slug: str
    name: str
    stage: str
    goals: list[str] = Field(default_factory=list)


class AgentInfo(_Block):
    role: str


class PlaybookItem(_Block):
    title: str
    category: str
    rationale: str = ""
    expected_effect: str = ""
    amount_usd: Decimal | None = None
    role: str | None = None  # None: any role may play it
    repeatable: bool = False  # may be made again (a weekly test), or once only (a launch)


class MoveRecord(_Block):
    """One move a brain statement is about, and its recent record: "SSF" = worked, worked, failed."""

    title: str
    recent: str = ""
    support: int = 0
    open: int = 0


class BrainStatement(_Block):
    section: str
    key: str | None = None
    category: str | None = None
    text: str = ""
    decision_ids: list[int] = Field(default_factory=list)
    evidence: dict[str, int] = Field(default_factory=dict)
    moves: list[MoveRecord] = Field(default_factory=list)
    change: str | None = None


class InsightItem(_Block):
    key: str | None = None
    text: str
    category: str | None = None
    subject: str | None = None
    evidence: dict[str, int] = Field(default_factory=dict)
    venture_count: int | None = None


class InsightInfo(_Block):
    version: int
    week: str | None = None
    items: list[InsightItem] = Field(default_factory=list)


class DecisionInfo(_Block):
    """A recent decision: made since the last brain, or waiting for a human."""

    id: int
    title: str
    category: str
    status: str
    outcome: str | None = None
    on: str | None = None  # the day it was made


class Rejection(_Block):
    title: str
    reason: str = ""
    decision_id: int | None = None
    on: str | None = None


class QuestionInfo(_Block):
    """A question the venture's agents asked humans (`ask_human`): still open, or answered."""

    id: int
    question: str
    options: list[str] = Field(default_factory=list)
    asked_by: str | None = None  # the agent role that asked
    on: str | None = None  # the day it was asked
    answer: str | None = None
    answered_on: str | None = None


class ContextBlock(_Block):
    task: Task
    as_of: str | None = None  # the day the agent decides on
    venture: VentureInfo | None = None
    agent: AgentInfo | None = None
    playbook: list[PlaybookItem] = Field(default_factory=list)
    brain_version: int | None = None
    brain: list[BrainStatement] = Field(default_factory=list)
    insight: InsightInfo | None = None
    since_brain: list[DecisionInfo] = Field(default_factory=list, description="decided since the last brain")
    pending: list[DecisionInfo] = Field(default_factory=list, description="waiting for a human")
    rejected: list[Rejection] = Field(default_factory=list, description="rejected by humans lately")
    asked: list[QuestionInfo] = Field(default_factory=list, description="asked of humans, awaiting an answer")
    answered: list[QuestionInfo] = Field(default_factory=list, description="asked of humans and answered lately")
    extra: dict[str, Any] = Field(default_factory=dict)


def render_context_block(ctx: ContextBlock, *, brain_text: bool = True) -> str:
    """The block as prompt text. `<` and `>` are escaped so no value can close the block early,
    or open one of its own. Fields at their defaults are left out (parsing restores them), and
    with `brain_text=False` so are the brain statements' words, for a prompt whose prose
    already carries them: the block then adds only the records behind them."""
    exclude = None if brain_text else {"brain": {"__all__": {"text"}}}
    payload = ctx.model_dump_json(exclude_defaults=True, exclude=exclude).replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{OPEN_TAG}\n{payload}\n{CLOSE_TAG}"


def parse_context_block(messages: list[Any]) -> ContextBlock | None:
    """The block Lumen put in the messages, or None when there is none.

    Lumen renders its one block last, after any text a person or a model wrote, so the last
    block of the last message Lumen wrote is the one read: a look-alike earlier in the text is
    data, not a block, and nothing the model answered (assistant or tool messages) is read.
    A block that is present but malformed raises (json or pydantic ValidationError): that is a
    bug in the prompt builder, not something to guess around.
    """
    for message in reversed(messages):
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        if role in ("assistant", "tool"):
            continue
        for text in reversed(_texts(message)):
            found = _BLOCK.findall(text)
            if found:
                return ContextBlock.model_validate(json.loads(found[-1]))
    return None


def _texts(message: Any) -> list[str]:
    # Messages may be dicts or litellm Message objects; content may be a list of parts.
    content = (
        message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
    )
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
    return []
