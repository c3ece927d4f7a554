"""The status cache: one load for a burst of askers, answers from memory while one refresh runs."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from lumen.render.status import StatusReport
from lumen.ventures.status import StatusCache

KEY = ("channel:C0ACME", "Europe/Berlin")


def _report(n: int) -> StatusReport:
    return StatusReport(ventures=(), as_of=datetime(2026, 3, 2, 9, n, tzinfo=timezone.utc), timezone="Europe/Berlin")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_shares_one_load_then_is_served_from_memory_while_one_refresh_runs() -> None:
    clock = Clock()
    cache = StatusCache(ttl=1.0, max_age=5.0, clock=clock)
    loads: list[int] = []
    gate = asyncio.Event()

    async def load() -> StatusReport:
        loads.append(len(loads))
        await gate.wait()
        return _report(len(loads))

    assert cache.ready(KEY) == (None, False)  # nothing yet: the askers must wait for a load
    askers = [asyncio.ensure_future(cache.get(KEY, load)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    first = await asyncio.gather(*askers)
    assert loads == [0] and all(r is first[0] for r in first)
    assert cache.ready(KEY) == (first[0], False)  # fresh: no refresh due

    clock.now += 1.5
    report, due = cache.ready(KEY)
    assert report is first[0] and due  # a little old: served, and a refresh is due
    refresh = asyncio.ensure_future(cache.get(KEY, load))
    await asyncio.sleep(0)
    assert cache.ready(KEY) == (first[0], False)  # one refresh at a time
    second = await refresh
    assert loads == [0, 1] and cache.ready(KEY) == (second, False)

    clock.now += 5.1
    assert cache.ready(KEY) == (None, False)  # too old to show: the next asker waits for a load


async def test_a_failed_load_is_not_remembered() -> None:
    cache = StatusCache()

    async def broken() -> StatusReport:
        raise RuntimeError("database away")

    try:
        await cache.get(KEY, broken)
    except RuntimeError:
        pass
    assert cache.ready(KEY) == (None, False)

    async def working() -> StatusReport:
        return _report(1)

    assert (await cache.get(KEY, working)).as_of.minute == 1


async def test_a_due_refresh_waits_for_the_askers_to_pause_unless_the_report_is_getting_old() -> None:
    clock = Clock()
    cache = StatusCache(ttl=1.0, max_age=5.0, clock=clock, quiet=0.02, urgent=3.0)

    async def load() -> StatusReport:
        return _report(0)

    await cache.get(KEY, load)
    started: list[float] = []
    clock.now += 1.5  # due
    for _ in range(5):  # a burst: each ask moves the refresh on, none starts it
        cache.refresh_when_quiet(KEY, lambda: started.append(clock.now))
        await asyncio.sleep(0.005)
    assert started == []
    await asyncio.sleep(0.05)  # the askers paused: one refresh
    assert started == [clock.now]

    clock.now += 2.0  # 3.5 s old: past `urgent`, the next ask starts it at once
    cache.refresh_when_quiet(KEY, lambda: started.append(clock.now))
    assert len(started) == 2
    await asyncio.sleep(0.05)
    assert len(started) == 2  # and no second one from a timer
