"""Lumen's clock: `utcnow()` everywhere, which a simulation can move without touching the OS.

Every service reads the time through `utcnow()`. `at(moment)` makes the code running in the
current task (and the tasks it starts) see `moment` instead: the venture simulator and
`lumen dev`'s demo history replay months of weekly work in seconds, through the real engine,
with every row stamped when it would have happened. Outside such a block it is the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

_moment: ContextVar[datetime | None] = ContextVar("lumen_clock", default=None)


def utcnow() -> datetime:
    moment = _moment.get()
    return moment if moment is not None else datetime.now(timezone.utc)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Within the block (this task and tasks it starts), `utcnow()` is `moment`."""
    if moment.tzinfo is None:
        raise ValueError("the clock is set to aware UTC datetimes only")
    token = _moment.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _moment.reset(token)
