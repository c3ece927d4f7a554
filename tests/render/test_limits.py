"""Lumen's own guard on Slack's Block Kit limits: clip marks cuts, check_blocks refuses what Slack would."""

from __future__ import annotations

from typing import Any

import pytest

from lumen.render.limits import BlockLimitError, check_blocks, clip


def test_clip_leaves_short_text_alone_and_marks_a_cut() -> None:
    assert clip("short", 10) == "short"
    assert clip("x" * 10, 10) == "x" * 10
    cut = clip("word " * 100, 20)
    assert len(cut) <= 20 and cut.endswith("…") and not cut.endswith(" …")


def _button(**overrides: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}, "value": "1"} | overrides


def test_check_blocks_returns_valid_blocks_unchanged() -> None:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Hi"}}, {"type": "actions", "elements": [_button()]}]
    assert check_blocks(blocks) is blocks


def test_check_blocks_counts_blocks_per_surface() -> None:
    """Messages hold 50 blocks, modals and the Home tab 100."""
    blocks = [{"type": "divider"}] * 51
    with pytest.raises(BlockLimitError, match="51 blocks"):
        check_blocks(blocks)
    assert check_blocks(blocks, modal=True) is blocks
    with pytest.raises(BlockLimitError):
        check_blocks([{"type": "divider"}] * 101, modal=True)


@pytest.mark.parametrize(
    "block",
    [
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "accessory": _button(action_id="a" * 256)},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11},
        {"type": "actions", "elements": [_button()] * 26},
        {"type": "actions", "elements": [_button(text={"type": "plain_text", "text": "x" * 76})]},
        {"type": "actions", "elements": [_button(value="1" * 2001)]},
        {"type": "divider", "block_id": "b" * 256},
    ],
    ids=[
        "header", "section-text", "fields-count", "field-text", "action-id",
        "context", "actions", "button-text", "button-value", "block-id",
    ],
)
def test_check_blocks_refuses_each_broken_limit(block: dict[str, Any]) -> None:
    with pytest.raises(BlockLimitError):
        check_blocks([block])
