"""Where a venture's posts go: one rule for every message Lumen sends to a venture."""

from __future__ import annotations


def channel_address(channel_id: str | None, channel_name: str) -> str:
    """The channel's ID once Slack told us, else `#name` (chat.postMessage accepts both).

    The ID survives a rename; the name works before the first start against Slack.
    """
    return channel_id or f"#{channel_name.lstrip('#')}"
