"""What listeners, jobs and commands share: settings, lumen.yml, the database, and nudges."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from dataclasses import dataclass, field

from lumen.approvals.directory import ApproverDirectory
from lumen.config import LumenConfig, Settings
from lumen.db.session import Database
from lumen.engine.drain import InFlight
from lumen.llm import Gateway
from lumen.ventures.status import StatusCache


def _nothing() -> None:
    return None


@dataclass
class Services:
    settings: Settings
    config: LumenConfig
    db: Database
    # Set by a running replica so work queued here is picked up at once, not at the next poll.
    run_queued: Callable[[], None] = field(default=_nothing)
    outbox_queued: Callable[[], None] = field(default=_nothing)
    # Who may approve; a replica gives it the Slack client for groups and channels.
    directory: ApproverDirectory = field(default_factory=lambda: ApproverDirectory(None))
    status_cache: StatusCache = field(default_factory=StatusCache)
    # Slack listener work still running after its ack; a stop waits for it.
    inflight: InFlight = field(default_factory=InFlight)
    # Every model call goes through this one gateway (created on first use: it reads Settings).
    _gateway: Gateway | None = None
    _http: aiohttp.ClientSession | None = None

    async def http(self) -> aiohttp.ClientSession:
        """One pooled HTTP client for response_urls and the like, instead of one per message."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = Gateway.from_settings(self.settings, self.db)
        return self._gateway

    @property
    def workspace_tz(self) -> str:
        return self.config.workspace.timezone
