"""Shared by the engine and agent tests: the model stub, workers, the dev stack, and lookups.

The fixtures here are re-exported by `tests/engine/conftest.py` and `tests/agents/conftest.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.cli import main
from lumen.config import LumenConfig, parse_config
from lumen.settings import Settings
from lumen.db.models import Agent, Decision, OutboxMessage, Run, RunStatus, RunTrigger, Spend, Step, Venture
from lumen.db.session import Database
from lumen.devmode import DevStack, dev_stack
from devslack import Workspace
from lumen.engine import runs
from lumen.engine.scheduler import Scheduler
from lumen.engine.signals import Signal
from lumen.engine.worker import Worker
from lumen.agents import service as agents
from lumen.runtime import make_worker as worker_for
from lumen.llm import Gateway
from lumen.container import Container
from tests.support.openai_stub import Behaviour, OpenAIStub, tool_call

STUB_MODEL = "openai/stub-model"
# The demo lumen.yml as these tests know it (acme: ceo + cmo, brightbox: ceo), frozen so
# that edits to the bundled demo do not move the playbooks under the tests.
TEST_CONFIG = Path(__file__).parent / "lumen.test.yml"
T = TypeVar("T")

# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
def example_config() -> LumenConfig:
    return parse_config(TEST_CONFIG.read_text(encoding="utf-8"), source=str(TEST_CONFIG))


@pytest.fixture
def stub_settings(container: Container, stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose model tiers are `openai/stub-model`, reached at the stub (LUMEN_MODEL_API_BASE).

    The variable is set too, for the `lumen` commands and subprocesses a test starts.
    """
    monkeypatch.setenv("LUMEN_MODEL_API_BASE", stub.base_url)
    return container.settings.model_copy(
        update={"model_strong": STUB_MODEL, "model_fast": STUB_MODEL, "model_api_base": stub.base_url}
    )


@pytest.fixture
def make_worker(container: Container) -> Callable[..., Worker]:
    """A worker on the test's database with a short lease; the offline model unless told."""

    def make(settings: Settings | None = None, **kwargs: Any) -> Worker:
        gateway = Gateway.from_settings(settings or container.settings, container.db)
        kwargs.setdefault("concurrency", 1)
        kwargs.setdefault("lease", timedelta(seconds=2))
        kwargs.setdefault("poll_interval", 0.05)
        # The settings the worker's handlers read (the context budget, say) come from them too.
        settings_of = dataclasses.replace(container, settings=settings) if settings else container
        return worker_for(settings_of, gateway=gateway, **kwargs)

    return make


@pytest.fixture
def config_file(container: Container) -> Path:
    """lumen.yml where LUMEN_CONFIG points: the demo config, for the CLI and subprocesses."""
    path = Path(container.settings.config_path)
    path.write_text(TEST_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def open_stack(container: Container):  # type: ignore[no-untyped-def]
    """`async with open_stack(**settings) as stack`: the dev workspace + a running replica."""

    @asynccontextmanager
    async def open_(**updates: Any) -> AsyncIterator[DevStack]:
        workspace = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
        settings = container.settings.model_copy(update=updates)
        async with dev_stack(settings, container.config, workspace=workspace) as running:
            yield running

    return open_


def wake_scheduler(db: Database, enqueued: Signal | None = None) -> Scheduler:
    """A scheduler with the agents' wake-ups only, as a replica registers them."""
    return Scheduler(db, [agents.wake_schedules], enqueued=enqueued)


class Counting(Signal):
    """A signal that also counts its notifications into `into`."""

    def __init__(self, into: list[None]) -> None:
        super().__init__()
        self.into = into

    def notify(self) -> None:
        self.into.append(None)
        super().notify()


# --- scripted model answers -------------------------------------------------------------


def proposal(*decisions: dict[str, Any], summary: str = "stub summary") -> Behaviour:
    """A valid `propose_decisions` tool call."""
    return tool_call(PROPOSE_DECISIONS, {"decisions": list(decisions), "summary": summary})


# The first decision is fine, the second is not: nothing of the proposal may be stored.
HALF_VALID = tool_call(
    PROPOSE_DECISIONS,
    '{"decisions": [{"category": "marketing", "title": "Publish a churn report"},'
    ' {"category": "Not A Slug!", "title": "x"}]}',
)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --- the database -----------------------------------------------------------------------


async def agent_of(db: Database, venture: str, role: str) -> Agent:
    async with db.sessions() as session:
        agent = await session.scalar(
            select(Agent).join(Venture).where(Venture.slug == venture, Agent.role == role)
        )
    assert agent is not None, f"no agent {venture}/{role}"
    return agent


async def enqueue_wake(db: Database, venture: str, role: str, key: str | None = None) -> int:
    agent = await agent_of(db, venture, role)
    async with db.transaction() as session:
        run_id = await runs.enqueue(
            session,
            key=key or f"manual:{venture}/{role}:{time.monotonic_ns()}",
            trigger=RunTrigger.MANUAL,
            agent_id=agent.id,
            venture_id=agent.venture_id,
        )
    assert run_id is not None
    return run_id


async def wake_and_process(container: Container, make_worker, settings: Settings) -> tuple[int, RunStatus | None]:  # type: ignore[no-untyped-def]
    """Queue a wake-up of acme's ceo and run it to its end with a fresh worker."""
    run_id = await enqueue_wake(container.db, "acme", "ceo")
    worker = make_worker(settings)
    claim = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert claim is not None and claim.run_id == run_id
    return run_id, await worker.process(claim)


async def lumen_cli(container: Container, config_file: Path, *args: str) -> Result:
    """`lumen ARGS` on the test's database and lumen.yml, in a thread (it runs its own loop)."""
    env = {"LUMEN_DATABASE_URL": container.db.url, "LUMEN_CONFIG": str(config_file)}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def all_rows(db: Database, model: type[T], *where: Any, order_by: Any = None) -> list[T]:
    async with db.sessions() as session:
        query = select(model).where(*where).order_by(order_by if order_by is not None else model.id)  # type: ignore[attr-defined]
        return list((await session.scalars(query)).all())


async def get_run(db: Database, run_id: int) -> Run:
    async with db.sessions() as session:
        run = await session.get(Run, run_id)
    assert run is not None
    return run


async def steps_of(db: Database, run_id: int) -> list[Step]:
    return await all_rows(db, Step, Step.run_id == run_id, order_by=Step.seq)


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def decisions_of(db: Database, run_id: int) -> list[Decision]:
    return await all_rows(db, Decision, Decision.run_id == run_id, order_by=Decision.ordinal)


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    return await all_rows(db, OutboxMessage)


async def spend_rows(db: Database) -> list[Spend]:
    return await all_rows(db, Spend)


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Await `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout}s: {check}")
        await asyncio.sleep(interval)


# --- Slack messages -----------------------------------------------------------------------


def block_text(blocks: Any) -> str:
    """Every text in a block tree, joined: what a reader of the message sees."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


DECISION_REF = re.compile(r"decision #(\d+)")


def decision_ids_posted(messages: list[Any]) -> list[int]:
    """The decision ids of the decision cards among `messages`, one entry per message."""
    ids = []
    for message in messages:
        if message.is_reply:
            continue
        found = DECISION_REF.search(block_text(message.blocks))
        if found:
            ids.append(int(found.group(1)))
    return ids
