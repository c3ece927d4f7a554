"""Three replicas on Postgres for about a minute of chaos: SIGKILLed and restarted at random,
Slack slow, failing, unreachable and rate-limiting in turn, under a steady load. Nothing
expected is lost, nothing is done twice. See tests/chaos/harness.py for what is checked;
benchmarks/chaos.py runs the same for as long as you like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.harness import Chaos, Options
from tests.support.databases import postgres_admin_url, postgres_database


@pytest.mark.timeout(300)
async def test_three_replicas_through_a_minute_of_chaos_lose_nothing_and_do_nothing_twice(tmp_path: Path) -> None:
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("needs Postgres: set LUMEN_TEST_POSTGRES_URL (several replicas only share Postgres)")
    async with postgres_database(admin, prefix="lumen_test_chaos") as url:
        report = await Chaos(url, tmp_path, Options(duration=30, phase_s=3.5)).run()
    print(json.dumps({"counts": report.counts, "figures": report.figures}, indent=2, default=str))
    assert report.problems == []
    counts = report.counts
    # The chaos happened: replicas died, Slack misbehaved in every way, the load got through.
    assert counts["sigkills"] >= 2 and set(counts["slack_weather"]) == {"slow", "500", "refused", "429"}
    assert counts["decisions"] > 0 and counts["approvals"].get("approved", 0) > 0
    assert counts["questions_delivered_by_slack"] > 0 and counts["commands_acked"] > 0
