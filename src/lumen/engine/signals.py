"""Nudges between the parts of one replica: "a run was queued", "a post is waiting".

A service that queues work sets the signal after its transaction commits; the worker or
the outbox dispatcher looks at once instead of at its next poll. Signals carry no data
and are never required: the pollers find the work anyway, only later.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field


class Signal:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def clear(self) -> None:
        """Clear before looking for work, not after: a notify() landing meanwhile is kept."""
        self._event.clear()

    async def wait(self, timeout: float) -> None:
        """Until notified, or `timeout` seconds."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


@dataclass(frozen=True)
class Signals:
    runs: Signal = field(default_factory=Signal)
    outbox: Signal = field(default_factory=Signal)
