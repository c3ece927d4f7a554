"""What a wake-up's journal steps hold, as pydantic models: written once, read back on replay."""

from __future__ import annotations

from pydantic import BaseModel

from lumen.domain.proposals import ProposedDecision
from lumen.llm.context_block import ContextBlock


class WakeContext(BaseModel):
    """What the agent decides from (the `context` step); a replay decides from it again.

    Bounded: the brain's statements, the insights about the agent's moves, and only the latest
    decisions, approvals and rejections, trimmed to `budget` tokens of the agent's model.
    """

    block: ContextBlock
    brain_version: int | None = None
    brain_built: str | None = None  # when the brain it reads was built
    insight_version: int | None = None
    tokens: int = 0  # the prompt's size in the model's tokens
    budget: int = 0
    trimmed: list[str] = []  # what was left out to fit the budget


class DecisionStep(BaseModel):
    """One proposed decision as recorded (`decision:N`), with whether a human must approve it."""

    decision: ProposedDecision
    gated: bool
    gated_as: str | None = None  # the category whose rule gated it
    why: str = ""  # why it was gated when its label alone would not have been
    side_effects: bool = True
    decision_id: int | None = None  # set when it is stored


class GateStep(BaseModel):
    """How a human (or expiry) resolved a gate (`gate:N`); the run continues from here."""

    decision_id: int
    approval_id: int
    status: str
    resolved_by: str | None = None
    resolved_at: str | None = None
    reason: str | None = None


class WakeFinished(BaseModel):
    """The closing note of a wake-up."""

    status: str
    decisions: int
    summary: str = ""
