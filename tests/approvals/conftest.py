"""Fixtures for the approval tests: the real stack (dev workspace + a Lumen replica over HTTP).

`stack` runs on both databases (through `container`); `open_stack(config, workspace=…)` starts
one with another lumen.yml, for the policies the demo does not have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from lumen.config import LumenConfig
from lumen.devmode import DevStack, dev_stack
from devslack import Workspace
from lumen.container import Container
from tests.approvals.support import FAST_RETRIES

StackOpener = Callable[..., AbstractAsyncContextManager[DevStack]]


@pytest.fixture
def open_stack(container: Container) -> StackOpener:
    @asynccontextmanager
    async def open_(config: LumenConfig | None = None, *, workspace: Workspace | None = None) -> AsyncIterator[DevStack]:
        workspace = workspace or Workspace.demo(retry_delays=FAST_RETRIES)
        async with dev_stack(container.settings, config or container.config, workspace=workspace) as running:
            yield running

    return open_


@pytest.fixture
async def stack(open_stack: StackOpener) -> AsyncIterator[DevStack]:
    async with open_stack() as running:
        yield running
