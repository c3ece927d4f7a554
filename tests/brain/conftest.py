"""Fixtures for the brain tests: the offline gateway, the real stack, and a few waits.

Everything runs on both databases through the root `container` fixture. The stack is the dev
workspace and a Lumen replica talking over real HTTP; its replica accepts POST /api/outcomes
with API_TOKEN.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lumen.config import LumenConfig
from lumen.settings import Settings
from lumen.db.models import Run, RunStatus, Venture
from lumen.db.session import Database
from lumen.devmode import DevStack, dev_stack
from devslack import Message, Workspace
from lumen.llm import Gateway
from lumen.runtime import prepare
from lumen.container import Container
from tests.conftest import EXAMPLE_CONFIG
from tests.support.databases import sqlite_url
from tests.test_cli import Result, lumen

API_TOKEN = "lumen-api-test-token"
FAST_RETRIES = (0.05, 0.05, 0.05)
# A Monday long enough ago that every generated week lies in the past.
START = datetime(2025, 3, 3, tzinfo=timezone.utc)
DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.AWAITING_APPROVAL)


@pytest.fixture
def gateway(container: Container) -> Gateway:
    """The gateway as `lumen serve` builds it from the default settings: the offline model."""
    return Gateway.from_settings(container.settings, container.db)


@pytest.fixture
async def stack(container: Container) -> AsyncIterator[DevStack]:
    settings = container.settings.model_copy(update={"api_token": API_TOKEN})
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(settings, container.config, workspace=workspace) as running:
        yield running


async def venture_id(db: Database, slug: str) -> int:
    async with db.sessions() as session:
        found = await session.scalar(select(Venture.id).where(Venture.slug == slug))
    assert found is not None, slug
    return found


async def wait_for_run(db: Database, run_id: int, timeout: float = 10.0) -> Run:
    """Until a worker has taken the run to an end (or to a gate)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.sessions() as session:
            run = await session.get(Run, run_id)
        if run is not None and run.status in DONE:
            return run
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"run {run_id} still {run.status if run else 'missing'} after {timeout} s")
        await asyncio.sleep(0.05)


def action_ids(message: Message) -> set[str]:
    return {
        element.get("action_id")
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    }


def texts(message: Message) -> str:
    from tests.slack.support import block_texts

    return message.text + "\n" + block_texts(message.blocks)


async def wait_for_message(
    ws: Workspace, channel: str, predicate: Any, timeout: float = 30.0
) -> Message:
    found = await ws.wait_for(
        lambda: [m for m in ws.messages(channel) if predicate(m)], timeout=timeout
    )
    return found[-1]


@pytest.fixture
async def cli_container(tmp_path: Path, example_config: LumenConfig) -> AsyncIterator[Container]:
    """Container on a SQLite file that `lumen …` subprocesses share with the test (see `cli`).

    The CLI tests run on SQLite only: each command is a fresh process (about a second of
    imports), and the queries behind them run on both databases in the other tests.
    """
    (tmp_path / "lumen.yml").write_text(EXAMPLE_CONFIG.read_text())
    settings = Settings(LUMEN_DATABASE_URL=sqlite_url(tmp_path), LUMEN_CONFIG=str(tmp_path / "lumen.yml"))
    container = await prepare(settings, example_config)
    try:
        yield container
    finally:
        await container.db.dispose()


async def cli(directory: Path, *args: str) -> Result:
    """`lumen …` in a subprocess on the `cli_container` database of the test's tmp_path."""
    return await lumen(
        directory, *args, LUMEN_DATABASE_URL=sqlite_url(directory), LUMEN_CONFIG=str(directory / "lumen.yml")
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (subprocesses, a year of history); -m 'not slow' skips it")
