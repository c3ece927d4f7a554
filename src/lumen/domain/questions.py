"""How long a question may be: Ask reads every word of it (vocabulary, dates, the model's
prompt), so a question is refused above this, before any of that work starts."""

from __future__ import annotations

MAX_QUESTION_CHARS = 2000


def too_long(question: str) -> bool:
    return len(question) > MAX_QUESTION_CHARS


def too_long_reply(question: str) -> str:
    return (
        f"That question is {len(question):,} characters long; Lumen answers questions of up to "
        f"{MAX_QUESTION_CHARS:,} characters. Ask it in fewer words, or one part at a time."
    )
