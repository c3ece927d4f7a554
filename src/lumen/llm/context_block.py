"""The machine-readable context embedded in agent prompts: `<lumen-context>{json}</lumen-context>`.

The prompt builder renders it; the offline model plays from it; real models read it beside the
prose. One pydantic model is the contract for all three.
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

Task = Literal["decide", "synthesize", "answer"]


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


class Rejection(_Block):
    title: str
    reason: str = ""


class InsightInfo(_Block):
    version: int
    items: list[str | dict[str, Any]] = Field(default_factory=list)


class ContextBlock(_Block):
    task: Task
    venture: VentureInfo | None = None
    agent: AgentInfo | None = None
    playbook: list[PlaybookItem] = Field(default_factory=list)
    tried: list[str] = Field(default_factory=list, description="titles this venture decided")
    failed: list[str] = Field(
        default_factory=list, description="titles the brain records as failed"
    )
    rejected: list[Rejection] = Field(default_factory=list, description="rejected by humans")
    brain_version: int | None = None
    insight: InsightInfo | None = None
    open_approvals: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


def render_context_block(ctx: ContextBlock) -> str:
    """The block as prompt text. `<` is escaped so no value can close the block early."""
    payload = ctx.model_dump_json(exclude_none=False).replace("<", "\\u003c")
    return f"{OPEN_TAG}\n{payload}\n{CLOSE_TAG}"


def parse_context_block(messages: list[Any]) -> ContextBlock | None:
    """The first block found in the messages, or None when there is none.

    A block that is present but malformed raises (json or pydantic ValidationError):
    that is a bug in the prompt builder, not something to guess around.
    """
    for message in messages:
        for text in _texts(message):
            match = _BLOCK.search(text)
            if match:
                return ContextBlock.model_validate(json.loads(match.group(1)))
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
