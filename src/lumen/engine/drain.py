"""Graceful stop: let work in flight finish, and cancel only what outlives the grace period.

Cancelling a task in the middle of a write transaction is safe for the data (the lease and
the journal cover it), but on SQLite a connection abandoned mid-transaction can keep the
write lock until the process exits. Waiting first makes an ordinary stop leave nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from functools import wraps
from typing import Any, ParamSpec

from lumen.log import get_logger

log = get_logger(__name__)

# Long enough for a model call or a Slack post to finish; short enough for a rolling deploy.
DEFAULT_GRACE_SECONDS = 20.0

P = ParamSpec("P")


async def drain(tasks: Iterable[asyncio.Future[Any]], grace: float, *, what: str) -> None:
    """Wait up to `grace` seconds for `tasks`, then cancel the rest and wait for them to unwind."""
    pending = {task for task in tasks if not task.done()}
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=grace)
    if late:
        log.warning("lumen.stop.cancelled", what=what, count=len(late), grace_seconds=grace)
        for task in late:
            task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*late, return_exceptions=True)


class InFlight:
    """Tasks started by requests (Slack listeners) that a stop should wait for."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, work: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        """Wrap a coroutine function so each call registers the task it runs in."""

        @wraps(work)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await work(*args, **kwargs)

        return tracked

    async def drain(self, grace: float) -> None:
        current = asyncio.current_task()
        await drain((t for t in self._tasks if t is not current), grace, what="slack listeners")
