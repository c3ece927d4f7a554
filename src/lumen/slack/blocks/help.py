"""`/lumen help`: every subcommand, one line each."""

from __future__ import annotations

from lumen.slack.blocks.common import context, escape, header, section
from lumen.slack.blocks.limits import Block, check_blocks
from lumen.slack.commands import SUBCOMMANDS


def help_blocks(unknown: str | None = None) -> list[Block]:
    blocks: list[Block] = [header("Lumen commands")]
    if unknown:
        blocks.append(section(f"I don't know `{escape(unknown)}`. Here is what I can do:"))
    lines = [f"`/lumen {usage}` — {summary}" for usage, summary in SUBCOMMANDS.values()]
    blocks.append(section("\n".join(lines)))
    blocks.append(
        context("You can also mention @Lumen or send it a DM with a question about a venture.")
    )
    return check_blocks(blocks)


def help_text(unknown: str | None = None) -> str:
    prefix = f"Unknown command `{unknown}`. " if unknown else ""
    return prefix + "Lumen commands: " + ", ".join(f"/lumen {u}" for u, _ in SUBCOMMANDS.values())
