"""The container: what edges (Slack listeners, the HTTP API, the CLI) and run handlers share.

Built once by the composition root (`lumen.runtime.build_container`) and never changed
after: every part it holds is complete when it is handed out. Parts with state of their own
(the signals, the in-flight listener work, the HTTP pool) keep it inside themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from lumen.db.session import Database
from lumen.domain.config import LumenConfig
from lumen.domain.directory import Directory
from lumen.engine.drain import InFlight
from lumen.engine.signals import Signals
from lumen.llm import Gateway
from lumen.settings import Settings
from lumen.ventures.status import StatusCache


class HttpPool:
    """One pooled HTTP client for response_urls and the like, opened on first use."""

    def __init__(self, timeout_s: float = 15) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass(frozen=True)
class Container:
    settings: Settings
    config: LumenConfig
    db: Database
    # Every model call goes through this one gateway.
    gateway: Gateway
    # Who belongs to which user group and channel (Slack-backed in a replica).
    directory: Directory
    # "A run was queued", "a post is waiting": a replica's worker and outbox listen.
    signals: Signals = field(default_factory=Signals)
    # Slack listener work still running after its ack; a stop waits for it.
    inflight: InFlight = field(default_factory=InFlight)
    status_cache: StatusCache = field(default_factory=StatusCache)
    http: HttpPool = field(default_factory=HttpPool)

    @property
    def workspace_tz(self) -> str:
        return self.config.workspace.timezone

    async def close(self) -> None:
        await self.http.close()
