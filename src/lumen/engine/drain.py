"""Graceful stop: let work in flight finish, and cancel only what outlives the grace period.

Cancelling a task in the middle of a write transaction is safe for the data (the lease and
the journal cover it), but on SQLite a connection abandoned mid-transaction can keep the
write lock until the process exits. Waiting first makes an ordinary stop leave nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec

from lumen.errors import Reported
from lumen.log import get_logger

log = get_logger(__name__)

# Long enough for a model call or a Slack post to finish; short enough for a rolling deploy.
DEFAULT_GRACE_SECONDS = 20.0
# The last part of the grace belongs to the outbox: the posts of the runs that just finished
# go out, and a Slack call in hand ends, however long the model calls still running take.
OUTBOX_SHARE = 0.25

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


# The tasks a request has started so far (see InFlight.collect).
_collecting: ContextVar[list[asyncio.Task[None]] | None] = ContextVar("lumen_collecting", default=None)


class InFlight:
    """Work that requests start after answering Slack (listener work), so a stop can wait for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def stopping(self) -> bool:
        """The replica is stopping: work that only waits and tries again should give up now."""
        return self._stopping

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        if (collected := _collecting.get()) is not None:
            collected.append(task)
        return task

    @contextmanager
    def collect(self) -> Iterator[list[asyncio.Task[None]]]:
        """The tasks spawned inside the block: what one request left running after its answer."""
        spawned: list[asyncio.Task[None]] = []
        token = _collecting.set(spawned)
        try:
            yield spawned
        finally:
            _collecting.reset(token)

    def in_background(self, work: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, Awaitable[None]]:
        """Wrap a listener so that it returns at once and its body runs in a tracked task."""

        @wraps(work)
        async def started(*args: P.args, **kwargs: P.kwargs) -> None:
            self.spawn(work(*args, **kwargs), name=f"lumen-listener:{work.__name__}")

        return started

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None and not isinstance(error, Reported):
            # Nobody awaits these tasks: say what failed rather than let asyncio mutter at exit.
            log.error("lumen.slack.listener_failed", task=task.get_name(), exc_info=error)

    async def drain(self, grace: float) -> None:
        self._stopping = True
        await drain(list(self._tasks), grace, what="slack listeners")
