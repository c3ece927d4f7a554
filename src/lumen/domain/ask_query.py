"""What a question asks for, typed: the contract between understanding and retrieval.

Understanding fills it (the rules, or the fast model through a tool call); retrieval turns it
into hard filters and a ranking; the answer's footer says it back to the asker, so a person
sees how they were understood. Only what was understood with confidence becomes a filter:
free `terms` rank, and narrow only when nothing else says what the question is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Outcome = Literal["success", "failure", "mixed", "unknown", "none"]  # "none": no outcome recorded yet
Status = Literal["rejected", "pending", "expired", "approved"]
Kind = Literal["list", "yes_no", "compare"]

OUTCOME_WORDS: dict[str, str] = {
    "success": "worked",
    "failure": "failed",
    "mixed": "mixed results",
    "unknown": "outcome unclear",
    "none": "no outcome yet",
}
STATUS_WORDS: dict[str, str] = {
    "rejected": "rejected",
    "pending": "waiting for approval",
    "expired": "expired unanswered",
    "approved": "approved by a human",
}
MAX_TERMS = 12


class Period(BaseModel):
    """A half-open range [start, end) in UTC; either side may be open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: datetime | None = None
    end: datetime | None = None
    label: str = Field(max_length=120)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("a period ends after it starts")
        return self

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


class AskQuery(BaseModel):
    """A question as Lumen understood it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ventures: tuple[str, ...] = ()  # slugs; empty: every venture the audience may see
    exclude_ventures: tuple[str, ...] = ()
    named_venture: bool = False  # named in the question, rather than implied by the channel
    period: Period | None = None
    topics: tuple[str, ...] = ()  # keys of the topic vocabulary; any of them
    exclude_topics: tuple[str, ...] = ()
    specifics: tuple[str, ...] = ()  # named things the vocabulary knows ("soc 2", "linkedin"): any of them must match
    outcomes: tuple[Outcome, ...] = ()  # the latest outcome is one of these
    statuses: tuple[Status, ...] = ()
    corrected: bool = False  # only decisions whose outcome was later corrected
    min_amount_usd: float | None = None
    terms: tuple[str, ...] = Field(default=(), max_length=MAX_TERMS)  # free words: they rank
    exclude_terms: tuple[str, ...] = Field(default=(), max_length=MAX_TERMS)
    kind: Kind = "list"
    understood_by: Literal["rules", "model"] = "rules"

    @property
    def has_subject(self) -> bool:
        """Something other than free words says what the question is about."""
        return bool(self.topics or self.specifics or self.outcomes or self.statuses or self.corrected or self.min_amount_usd)

    @property
    def terms_filter(self) -> bool:
        """Free words must match (any of them) only when they are all the question is about."""
        return bool(self.terms) and not self.has_subject

    def describe(self, venture_names: Mapping[str, str], topic_labels: Mapping[str, str]) -> str:
        """How the question was understood, for the footer: "Acme · Q3 2026 · pricing, excluding ads"."""
        parts: list[str] = []
        if self.ventures:
            joiner = " vs " if self.kind == "compare" else " and "
            parts.append(joiner.join(venture_names.get(v, v) for v in self.ventures))
        else:
            parts.append("all ventures you can see")
        if self.exclude_ventures:
            parts[-1] += " except " + ", ".join(venture_names.get(v, v) for v in self.exclude_ventures)
        if self.period is not None:
            parts.append(self.period.label)
        subject = [topic_labels.get(t, t) for t in self.topics] + [f"“{s}”" for s in self.specifics]
        if not self.has_subject and self.terms:
            subject.append("mentioning " + " or ".join(f"“{t}”" for t in self.terms[:6]))
        excluded = [topic_labels.get(t, t) for t in self.exclude_topics] + [f"“{t}”" for t in self.exclude_terms]
        if excluded:
            subject.append("excluding " + ", ".join(excluded))
        if subject:
            parts.append(", ".join(subject))
        facts = [STATUS_WORDS[s] for s in self.statuses] + [OUTCOME_WORDS[o] for o in self.outcomes]
        if self.corrected:
            facts.append("outcome corrected")
        if self.min_amount_usd:
            facts.append(f"over ${self.min_amount_usd:,.0f}")
        if facts:
            parts.append(" or ".join(facts))
        if self.kind == "yes_no":
            parts.append("did it work?")
        return " · ".join(parts)
