"""Slack's Block Kit limits, and helpers that keep builders inside them."""

from __future__ import annotations

from typing import Any

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_MODAL = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_FALLBACK_TEXT = 40_000

Block = dict[str, Any]


def clip(text: str, limit: int) -> str:
    """Cut text to a limit, marking the cut so nobody mistakes it for the whole."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


class BlockLimitError(ValueError):
    pass


def check_blocks(blocks: list[Block], *, modal: bool = False) -> list[Block]:
    """Raise BlockLimitError if any of Slack's limits is broken; return the blocks."""
    limit = MAX_BLOCKS_MODAL if modal else MAX_BLOCKS_MESSAGE
    if len(blocks) > limit:
        raise BlockLimitError(f"{len(blocks)} blocks, Slack allows {limit}")
    for index, block in enumerate(blocks):
        _check_block(index, block)
    return blocks


def _check_text(where: str, obj: dict[str, Any] | None, limit: int) -> None:
    if obj and len(obj.get("text", "")) > limit:
        raise BlockLimitError(f"{where}: text of {len(obj['text'])} chars, limit {limit}")


def _check_block(index: int, block: Block) -> None:
    where = f"block {index} ({block.get('type')})"
    if len(block.get("block_id", "")) > MAX_BLOCK_ID:
        raise BlockLimitError(f"{where}: block_id too long")
    kind = block.get("type")
    if kind == "header":
        _check_text(where, block.get("text"), MAX_HEADER_TEXT)
    elif kind == "section":
        _check_text(where, block.get("text"), MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            raise BlockLimitError(f"{where}: {len(fields)} fields, limit {MAX_FIELDS}")
        for field in fields:
            _check_text(where, field, MAX_FIELD_TEXT)
        if "accessory" in block:
            _check_element(where, block["accessory"])
    elif kind == "context":
        if len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
            raise BlockLimitError(f"{where}: too many context elements")
    elif kind == "actions":
        elements = block.get("elements", [])
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            raise BlockLimitError(f"{where}: too many elements")
        for element in elements:
            _check_element(where, element)


def _check_element(where: str, element: dict[str, Any]) -> None:
    if len(element.get("action_id", "")) > MAX_ACTION_ID:
        raise BlockLimitError(f"{where}: action_id too long")
    if element.get("type") == "button":
        _check_text(where, element.get("text"), MAX_BUTTON_TEXT)
        if len(element.get("value", "")) > MAX_BUTTON_VALUE:
            raise BlockLimitError(f"{where}: button value too long")
