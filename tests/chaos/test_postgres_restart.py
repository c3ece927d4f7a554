"""Postgres restarts while two replicas work: they reconnect by themselves, and nothing is lost.

The suite's Postgres is shared by every engineer and CI, so this restarts a private,
throwaway cluster of its own (initdb and pg_ctl in a temporary directory, on a free port):
stopped with every connection cut, down for three seconds, started again, in the middle of
a load of wake-ups, approvals, clicks, questions and commands. The replicas must neither die
nor need a restart, and at the end everything expected happened once (tests/chaos/harness.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from tests.chaos.harness import Chaos, Options
from tests.support.databases import postgres_database
from tests.support.private_postgres import PrivatePostgres, postgres_binaries, private_postgres


@pytest.mark.timeout(300)
async def test_replicas_reconnect_after_a_postgres_restart_and_lose_nothing(tmp_path: Path) -> None:
    if postgres_binaries() is None:
        pytest.skip("needs the Postgres server binaries (initdb, pg_ctl) for a private cluster")
    with private_postgres() as cluster:
        async with postgres_database(cluster.url, prefix="lumen_restart") as url:
            restarted: list[PrivatePostgres] = []

            async def restart_postgres() -> None:
                await asyncio.to_thread(cluster.stop_for, 3.0)
                restarted.append(cluster)

            chaos = Chaos(url, tmp_path, Options(duration=16, replicas=2, killing=False, weather=False, events=[(6.0, restart_postgres)]))
            report = await chaos.run(check_replicas=_all_ready)
    print(json.dumps({"counts": report.counts, "figures": report.figures}, indent=2, default=str))
    assert restarted and report.problems == []
    counts = report.counts
    assert counts["replica_starts"] == 2  # neither died: they reconnected by themselves
    assert counts["runs"].get("succeeded", 0) > 0 and counts["questions_delivered_by_slack"] > 0


async def _all_ready(urls: list[str]) -> list[str]:
    """What /readyz says on each replica at the end: ready, all of them."""
    problems = []
    async with aiohttp.ClientSession() as http:
        for url in urls:
            async with http.get(f"{url}/readyz") as response:
                if response.status != 200:
                    problems.append(f"{url}/readyz: {response.status} {await response.text()}")
    return problems
