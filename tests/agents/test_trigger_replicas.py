"""A chain of two agents across two replica processes (Postgres): a signed `/lumen wake` reaches
one replica through the balancer; the woken agent's end wakes its follower; between them the
replicas make one run of each, and never run one agent twice at once."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import yaml

from lumen.container import Container
from lumen.db.models import Run, RunStatus, RunTrigger
from tests.agents.test_triggers import config_with, until
from tests.engine.helpers import agent_of, all_rows
from tests.slack.test_event_retries import workspace_behind
from tests.support.balancer import Balancer
from tests.support.replicas import ReplicaProcess, replica_env, several_replicas_need_postgres

DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.AWAITING_APPROVAL)


async def test_a_chain_of_two_agents_on_two_replica_processes_runs_each_once(container: Container, tmp_path: Path) -> None:
    several_replicas_need_postgres(container)
    config = config_with({"acme/ceo": {"after": ["cmo"]}})
    config_path = tmp_path / "lumen.yml"
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    async with AsyncExitStack() as stack:
        balancer = Balancer()
        await balancer.start()
        stack.push_async_callback(balancer.close)
        ws = await stack.enter_async_context(workspace_behind(balancer, container))
        settings = container.settings.model_copy(update={"slack_api_url": f"{ws.base_url}/api/", "config_path": config_path})
        replicas = [ReplicaProcess(name, replica_env(settings, LUMEN_TEST_QUICK="1"), tmp_path) for name in ("one", "two")]
        for replica in replicas:
            balancer.add(await replica.start())
            stack.push_async_callback(replica.stop)

        delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme cmo")
        assert delivery.status == 200
        cmo, ceo = await agent_of(container.db, "acme", "cmo"), await agent_of(container.db, "acme", "ceo")

        async def both_done() -> list[Run] | None:
            rows = await all_rows(container.db, Run)
            ended = [r for r in rows if r.status in DONE]
            return rows if {r.agent_id for r in ended} == {cmo.id, ceo.id} else None

        await until(both_done, timeout=60)
        # A moment more: a second chained run, if one were made, would show up now.
        await until(lambda: _quiet(container), timeout=10)
    rows = await all_rows(container.db, Run)
    [upstream] = [r for r in rows if r.agent_id == cmo.id]
    [follower] = [r for r in rows if r.agent_id == ceo.id]
    assert upstream.trigger == RunTrigger.MANUAL and upstream.status == RunStatus.SUCCEEDED
    assert follower.trigger == RunTrigger.EVENT and follower.idempotency_key == f"after:acme/ceo:{upstream.id}"
    assert len(rows) == 2
    # The replicas took these two runs and no other (a run may be taken over from a replica
    # that stalled past its 2 s test lease: the same run, carried on from its journal).
    claimed = [e for r in replicas for e in r.events("lumen.run.claimed")]
    assert {e["run_id"] for e in claimed} == {upstream.id, follower.id}


async def _quiet(container: Container) -> bool:
    rows = await all_rows(container.db, Run)
    return all(r.status not in (RunStatus.QUEUED, RunStatus.RUNNING) for r in rows)
