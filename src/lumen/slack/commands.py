"""Parsing `/lumen …` text into a subcommand: pure, no Slack objects."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

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
    "help": ("help", "this list"),
}


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]
    raw: str  # everything after the subcommand, as typed

    @property
    def known(self) -> bool:
        return self.name in SUBCOMMANDS


def parse_command(text: str) -> Command:
    text = (text or "").strip()
    if not text:
        return Command("help", (), "")
    head, _, rest = text.partition(" ")
    try:
        args = tuple(shlex.split(rest))
    except ValueError:  # an unbalanced quote: fall back to whitespace
        args = tuple(rest.split())
    return Command(head.lower(), args, rest.strip())
