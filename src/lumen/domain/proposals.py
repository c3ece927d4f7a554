"""What an agent may propose: the `propose_decisions` tool's arguments, as pydantic models.

The model's tool-call arguments are validated against these models; anything else is
retried and then refused, so no half decision is ever stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_serializer

PROPOSE_DECISIONS = "propose_decisions"
MAX_DECISIONS = 5

# Models write numbers, not the string-or-number union pydantic advertises for Decimal.
Amount = Annotated[
    Decimal | None,
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]}),
]


class ProposedDecision(BaseModel):
    """One decision the agent takes or asks a human to approve."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,40}$",
        description="Slug such as pricing_change, marketing, hiring, new_dependency.",
    )
    title: str = Field(min_length=3, max_length=150, description="What is decided, in a line.")
    rationale: str = Field(default="", max_length=2000, description="Why, citing the brain.")
    expected_effect: str = Field(default="", max_length=500, description="What should change.")
    amount_usd: Amount = Field(default=None, ge=0, description="Money committed, if any.")
    follows_insight: str | None = Field(
        default=None, max_length=500, description="The platform insight this follows, if any."
    )
    revises: int | None = Field(
        default=None, ge=1, description="In a conversation: the id of your earlier decision this one replaces."
    )

    @field_serializer("amount_usd", when_used="json")
    def _amount_as_number(self, value: Decimal | None) -> float | int | None:
        if value is None:
            return None
        return int(value) if value == value.to_integral_value() else float(value)


class ProposeDecisions(BaseModel):
    """Propose the next decisions for this venture (at most five), with a short summary."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[ProposedDecision] = Field(max_length=MAX_DECISIONS)
    summary: str = Field(default="", max_length=1000, description="The wake-up in a paragraph.")
    confidence: float | None = Field(
        default=None, ge=0, le=1, description="How sure you are these are the right moves, 0 to 1."
    )  # read by routing: a fast-tier answer below the policy's floor goes to the strong tier
    withdraws: list[int] = Field(
        default_factory=list, max_length=MAX_DECISIONS,
        description="In a conversation: ids of your earlier decisions you take back.",
    )
    reply: str = Field(
        default="", max_length=3000, description="In a conversation: your answer to the people in the thread."
    )
