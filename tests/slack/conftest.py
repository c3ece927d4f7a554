"""The real stack for Slack tests: the dev workspace and a Lumen replica talking over HTTP.

`stack` runs on both databases (through `container`); the workspace retries events quickly
so that a failing delivery does not keep a test waiting for Slack's back-off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lumen.devmode import DevStack, dev_stack
from devslack import Workspace
from lumen.container import Container

FAST_RETRIES = (0.05, 0.05, 0.05)


@pytest.fixture
async def stack(container: Container) -> AsyncIterator[DevStack]:
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(container.settings, container.config, workspace=workspace) as running:
        yield running


@pytest.fixture
async def socket_stack(container: Container) -> AsyncIterator[DevStack]:
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(
        container.settings, container.config, workspace=workspace, socket_mode=True
    ) as running:
        yield running
