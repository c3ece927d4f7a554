from __future__ import annotations

import pytest
from pydantic import ValidationError

from lumen.llm.context_block import (
    AgentInfo,
    ContextBlock,
    PlaybookItem,
    VentureInfo,
    parse_context_block,
    render_context_block,
)


def _ctx() -> ContextBlock:
    return ContextBlock(
        task="decide",
        venture=VentureInfo(
            slug="acme", name="Acme", stage="idea", goals=["ship </lumen-context> safely", "grow"]
        ),
        agent=AgentInfo(role="ceo"),
        playbook=[
            PlaybookItem(title="Launch a landing page", category="marketing", amount_usd="49.50")
        ],
        brain_version=2,
        extra={"note": "free-form"},
    )


def test_round_trip_through_prompt_text() -> None:
    ctx = _ctx()
    prompt = f"You are the CEO.\n{render_context_block(ctx)}\nDecide."
    assert prompt.count("</lumen-context>") == 1  # values cannot close the block
    parsed = parse_context_block([{"role": "system", "content": prompt}])
    assert parsed == ctx


def test_found_in_content_parts_and_later_messages() -> None:
    block = render_context_block(_ctx())
    messages = [
        {"role": "system", "content": "no block here"},
        {"role": "user", "content": [{"type": "text", "text": f"hi {block}"}]},
    ]
    assert parse_context_block(messages) == _ctx()


def test_absent_block_is_none_and_malformed_block_raises() -> None:
    assert parse_context_block([{"role": "user", "content": "hello"}]) is None
    assert parse_context_block([{"role": "assistant", "content": None}]) is None
    with pytest.raises(ValueError):
        parse_context_block([{"role": "user", "content": "<lumen-context>{oops</lumen-context>"}])
    with pytest.raises(ValidationError):
        parse_context_block(
            [{"role": "user", "content": '<lumen-context>{"task": "dance"}</lumen-context>'}]
        )
