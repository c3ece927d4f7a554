"""The Slack-backed `Directory`: user IDs, the members of user groups and of channels.

Group and channel membership comes from Slack and changes rarely; it is cached
for a few minutes so a click is answered without a round of Web API calls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from lumen.log import get_logger

log = get_logger(__name__)

CACHE_SECONDS = 300.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient | None, *, ttl: float = CACHE_SECONDS) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, approvers: Mapping[str, Any], *, backup: bool = False) -> frozenset[str]:
        prefix = "backup_" if backup else ""
        users = set(approvers.get(f"{prefix}users", []))
        for group in approvers.get(f"{prefix}usergroups", []):
            users |= await self._cached(f"group:{group}", lambda g=group: self._group(g))
        for channel in approvers.get(f"{prefix}channels", []):
            users |= await self._cached(f"channel:{channel}", lambda c=channel: self._channel(c))
        return frozenset(users)

    async def may_approve(self, approvers: Mapping[str, Any], user_id: str, *, escalated: bool = False) -> bool:
        allowed = await self.members(approvers)
        if escalated:
            allowed |= await self.members(approvers, backup=True)
        return user_id in allowed

    async def _cached(self, key: str, load) -> frozenset[str]:  # type: ignore[no-untyped-def]
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        try:
            value = frozenset(await load())
        except Exception as exc:  # Slack down: fall back to what we knew, else nobody
            log.warning("lumen.approvers.lookup_failed", key=key, error=str(exc))
            return hit[1] if hit else frozenset()
        self._cache[key] = (time.monotonic(), value)
        return value

    async def _group(self, group: str) -> list[str]:
        if self.client is None:
            return []
        response = await self.client.usergroups_users_list(usergroup=group)
        return list(response.get("users", []))

    async def _channel(self, channel: str) -> list[str]:
        if self.client is None:
            return []
        channel_id = channel
        if channel.startswith("#"):
            channel_id = await self._channel_id(channel[1:])
        members: list[str] = []
        async for page in await self.client.conversations_members(channel=channel_id, limit=500):
            members += page.get("members", [])
        return members

    async def _channel_id(self, name: str) -> str:
        if self.client is None:
            raise LookupError(f"no Slack client to look #{name} up")
        async for page in await self.client.conversations_list(types="public_channel,private_channel", limit=500):
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    return channel["id"]
        raise LookupError(f"no channel named #{name}")
