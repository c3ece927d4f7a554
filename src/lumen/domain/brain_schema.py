"""What a synthesis writes: the `write_brain` and `write_insights` tools' arguments, as pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

WRITE_BRAIN = "write_brain"
WRITE_INSIGHTS = "write_insights"
MAX_STATEMENTS = 12


class Statement(BaseModel):
    """One claim of the brain, with the decisions behind it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=600)
    decision_ids: list[int] = Field(min_length=1, max_length=20, description="The decisions this rests on.")
    titles: list[str] = Field(default_factory=list, max_length=20, description="Their titles.")
    key: str | None = Field(default=None, max_length=80, description="A stable key, e.g. worked:pricing_change.")
    support: int | None = Field(
        default=None, ge=1, description="How many decisions it rests on in all; decision_ids cites the latest few."
    )


class WriteBrain(BaseModel):
    """The venture's knowledge base, version N+1: each statement cites its decisions."""

    model_config = ConfigDict(extra="forbid")

    principles: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    worked: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    failed: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    open_bets: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    questions: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)
    summary: str = Field(default="", max_length=1500)


class Insight(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=600)
    category: str | None = Field(default=None, max_length=48)
    ventures: list[str] = Field(min_length=1, max_length=20)
    decision_ids: list[int] = Field(min_length=1, max_length=30)


class WriteInsights(BaseModel):
    """Cross-venture lessons every agent will read."""

    model_config = ConfigDict(extra="forbid")

    insights: list[Insight] = Field(default_factory=list, max_length=10)
    summary: str = Field(default="", max_length=1500)
