"""`/lumen help`: every subcommand, one line each."""

from __future__ import annotations

from lumen.render.common import context, escape, header, section
from lumen.render.limits import Block, check_blocks

# name -> (usage, summary). Help is rendered from this one table.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "status": ("status [venture]", "ventures, agents, approvals waiting, spend this month"),
    "approvals": ("approvals", "the approvals waiting for you"),
    "ask": ("ask <question>", "ask about a venture's history"),
    "brain": ("brain <venture> [version]", "a venture's brain, latest or version N"),
    "wake": ("wake <venture> <role>", "wake an agent now"),
    "pause": ("pause <venture> [role]", "pause a venture's agents, or one"),
    "resume": ("resume <venture> [role]", "resume paused agents"),
    "outcome": ("outcome <decision> <verdict> [note]", "record what a decision led to"),
    "budget": ("budget [venture]", "spend against budget, per agent"),
    "costs": ("costs [venture]", "spend by agent, purpose and model; unit costs; month-end projections"),
    "help": ("help", "this list"),
}


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
    prefix = f"Unknown command `{escape(unknown)}`. " if unknown else ""
    return prefix + "Lumen commands: " + ", ".join(f"/lumen {u}" for u, _ in SUBCOMMANDS.values())
