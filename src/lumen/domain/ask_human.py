"""What an agent may ask a human instead of deciding: the `ask_human` tool's arguments.

A question pauses the run like a gate; the answer (or "no answer" at expiry) comes back into
the model's conversation as quoted data, and the model decides then. A run asks at most
MAX_QUESTIONS times: past that it is offered only `propose_decisions`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

ASK_HUMAN = "ask_human"
MAX_QUESTIONS = 2
MAX_OPTIONS = 5
OPTION_CHARS = 75  # a Slack button's text
QUESTION_CHARS = 1000
ANSWER_CHARS = 1000  # what a person may type in the free-text modal
# The gate category whose rule (approvers, expiry, reminders) a question follows; lumen.yml may
# set `gates.categories.ask_human` (or a venture's override) to change them.
QUESTION_CATEGORY = "ask_human"


class AskHuman(BaseModel):
    """Ask the venture's approvers one question instead of deciding, when a human's answer would
    change what you decide. Give up to five short options when the answer is a choice."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=5, max_length=QUESTION_CHARS, description="The question, in a sentence or two.")
    options: list[str] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description="Possible answers, each a few words; empty for a free-text answer.",
    )

    @field_validator("question")
    @classmethod
    def _question_said(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 5:
            raise ValueError("the question is empty")
        return value

    @field_validator("options")
    @classmethod
    def _distinct_short_options(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(o.split()) for o in value]
        if any(not o for o in cleaned):
            raise ValueError("an option is empty")
        if any(len(o) > OPTION_CHARS for o in cleaned):
            raise ValueError(f"an option is longer than {OPTION_CHARS} characters")
        if len({o.casefold() for o in cleaned}) != len(cleaned):
            raise ValueError("two options are the same")
        return cleaned
