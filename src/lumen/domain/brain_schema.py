"""What a synthesis writes: the `write_brain` and `write_insights` tools' arguments, as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

WRITE_BRAIN = "write_brain"
WRITE_INSIGHTS = "write_insights"
MAX_STATEMENTS = 12


Change = Literal["new", "kept", "strengthened", "weakened", "moved", "retired"]


class Evidence(BaseModel):
    """The recent tries a statement rests on, and how they turned out."""

    model_config = ConfigDict(extra="forbid")

    tries: int = Field(default=0, ge=0)
    worked: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    mixed: int = Field(default=0, ge=0)


class Statement(BaseModel):
    """One claim of the brain, with the decisions behind it and why it changed."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=1500)
    decision_ids: list[int] = Field(min_length=1, max_length=24, description="The decisions this rests on.")
    key: str | None = Field(default=None, max_length=120, description="A stable key, e.g. worked:pricing_change.")
    category: str | None = Field(default=None, max_length=48)
    change: Change | None = Field(default=None, description="How it changed from the previous brain.")
    because: str | None = Field(
        default=None, max_length=1000, description="Why it changed, citing the decisions (#id) that changed it."
    )
    # Filled in by Lumen from the records, not by a model: the moves and their recent record.
    titles: list[str] = Field(default_factory=list, max_length=24)
    verdicts: list[str] = Field(default_factory=list, max_length=24)
    moves: list[dict[str, Any]] = Field(default_factory=list, max_length=12)
    evidence: Evidence | None = None
    support: int | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, max_length=2000)


class WriteBrain(BaseModel):
    """The venture's knowledge base, version N+1: each statement cites its decisions and says
    how it changed since version N, and because of which outcomes."""

    model_config = ConfigDict(extra="forbid")

    principles: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    worked: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    failed: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    open_bets: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    questions: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    summary: str = Field(default="", max_length=1500)
    # Read by routing: a fast-tier brain below the policy's floor is rewritten by the strong tier.
    confidence: float | None = Field(default=None, ge=0, le=1, description="How sure you are of this brain, 0 to 1.")


class Insight(BaseModel):
    """One cross-venture pattern with its net evidence: how often a move (or a category) worked."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=600)
    key: str | None = Field(default=None, max_length=160, description="The pattern, e.g. move:<title> or category:<name>.")
    category: str | None = Field(default=None, max_length=48)
    subject: str | None = Field(default=None, max_length=200, description="The move's title, or the category.")
    ventures: list[str] = Field(default_factory=list, max_length=20, description="The ventures it rests on, by name.")
    venture_count: int | None = Field(default=None, ge=1, description="How many ventures, private ones included.")
    decision_ids: list[int] = Field(default_factory=list, max_length=30)
    evidence: Evidence | None = None


class WriteInsights(BaseModel):
    """Cross-venture lessons every agent will read."""

    model_config = ConfigDict(extra="forbid")

    insights: list[Insight] = Field(default_factory=list, max_length=20)
    summary: str = Field(default="", max_length=1500)
