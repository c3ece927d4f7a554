"""Counting a prompt in the model's own tokens, through litellm's token counter.

litellm knows the tokenizer of OpenAI's models (tiktoken, whose tables it bundles: nothing
is fetched, and Lumen turns its Hugging Face downloads off). For any other model it would
count with an OpenAI tokenizer anyway, which says nothing of how that model's provider
counts; there, and for the budget's sake, a conservative 3 characters a token is used.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from lumen.llm._litellm import litellm
from lumen.llm.costs import _chars, estimate_tokens

# Conservative: English runs near 4 characters a token; code, numbers and other scripts fewer.
FALLBACK_CHARS_PER_TOKEN = 3
# What a chat format adds around each message (OpenAI's is 3, and 3 to prime the reply).
MESSAGE_OVERHEAD_TOKENS = 4


def count_tokens(model: str, messages: list[dict[str, Any]]) -> int:
    """Tokens a prompt takes, as near as this process can tell (for fitting a context)."""
    try:
        return int(litellm().token_counter(model=model, messages=messages))
    except Exception:  # an exotic model or message shape: the rough count is better than none
        return estimate_tokens(messages)


def prompt_tokens_for_budget(model: str, messages: list[dict[str, Any]], tools: Any = None) -> int:
    """Tokens to reserve for a prompt: the model's tokenizer where litellm knows it,
    else characters / 3; never fewer than the characters / 3 of the tools' schemas."""
    tool_tokens = math.ceil(_chars(tools) / FALLBACK_CHARS_PER_TOKEN) if tools else 0
    if knows_tokenizer(model):
        try:
            return int(litellm().token_counter(model=model, messages=messages)) + tool_tokens
        except Exception:
            pass
    overhead = MESSAGE_OVERHEAD_TOKENS * (len(messages) + 1)
    return math.ceil(_chars(messages) / FALLBACK_CHARS_PER_TOKEN) + overhead + tool_tokens


@lru_cache(maxsize=256)
def knows_tokenizer(model: str) -> bool:
    """Whether litellm counts this model with the tokenizer its provider bills by."""
    name = model.split("/", 1)[1] if "/" in model else model
    if "gpt-4o" in name:
        return True
    import tiktoken  # litellm's dependency; loaded with litellm

    try:
        tiktoken.encoding_name_for_model(name)
    except KeyError:
        return False
    return True
