"""`/lumen help`: every subcommand listed, and an unknown command named back safely."""

from __future__ import annotations


from lumen.render.help import SUBCOMMANDS, help_blocks, help_text
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, assert_escaped, texts, valid_blocks


def test_help_lists_every_subcommand() -> None:
    blocks = valid_blocks(help_blocks())
    assert blocks[0]["text"]["text"] == "Lumen commands"
    shown = texts(blocks)
    for usage, summary in SUBCOMMANDS.values():
        assert f"`/lumen {usage}` — {summary}" in shown
    assert "I don't know" not in shown
    assert help_text() == "Lumen commands: " + ", ".join(f"/lumen {u}" for u, _ in SUBCOMMANDS.values())


def test_an_unknown_command_is_named_back_escaped() -> None:
    blocks = valid_blocks(help_blocks(HOSTILE))
    assert f"I don't know `{HOSTILE_ESCAPED}`. Here is what I can do:" in texts(blocks)
    assert_escaped(texts(blocks))
    assert help_text("frobnicate").startswith("Unknown command `frobnicate`. Lumen commands: /lumen status")
    valid_blocks(help_blocks("x" * 10_000))  # a pasted essay is clipped


def test_help_text_escapes_the_unknown_command() -> None:
    assert_escaped(help_text(HOSTILE))
