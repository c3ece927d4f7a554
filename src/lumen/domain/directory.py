"""Who belongs where: the question features ask of Slack, as a protocol.

An approval names its approvers as user IDs, user groups and channels; whether a person is
among them takes a lookup in Slack. Features depend on this protocol only; the Slack edge
implements it (`lumen.slack.directory`), and tests may give any object with these methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Directory(Protocol):
    async def members(self, approvers: Mapping[str, Any], *, backup: bool = False) -> frozenset[str]:
        """Everyone an approvers mapping names (`users`, `usergroups`, `channels`, or `backup_…`)."""
        ...

    async def may_approve(self, approvers: Mapping[str, Any], user_id: str, *, escalated: bool = False) -> bool:
        """Is the user among the approvers (or, once escalated, the backups)?"""
        ...


def channel_approvers(channel_id: str) -> dict[str, list[str]]:
    """The approvers mapping for "the members of this channel" (a private venture's audience)."""
    return {"channels": [channel_id]}
