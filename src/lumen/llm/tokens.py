"""Counting a prompt in the model's own tokens, through litellm's token counter.

litellm knows the tokenizer of the models it prices (tiktoken for OpenAI's, and a default
for the rest, the offline model included), with the tables bundled: nothing is fetched.
"""

from __future__ import annotations

from typing import Any

from lumen.llm._litellm import litellm
from lumen.llm.costs import estimate_tokens


def count_tokens(model: str, messages: list[dict[str, Any]]) -> int:
    try:
        return int(litellm().token_counter(model=model, messages=messages))
    except Exception:  # an exotic model or message shape: the rough count is better than none
        return estimate_tokens(messages)
