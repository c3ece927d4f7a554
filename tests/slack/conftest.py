"""The real stack for Slack tests: the dev workspace and a Lumen replica talking over HTTP.

`stack` runs on both databases (through `services`); the workspace retries events quickly
so that a failing delivery does not keep a test waiting for Slack's back-off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lumen.devmode import DevStack, dev_stack
from lumen.devslack import Workspace
from lumen.services import Services

FAST_RETRIES = (0.05, 0.05, 0.05)


@pytest.fixture
async def stack(services: Services) -> AsyncIterator[DevStack]:
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(services.settings, services.config, workspace=workspace) as running:
        yield running


@pytest.fixture
async def socket_stack(services: Services) -> AsyncIterator[DevStack]:
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    async with dev_stack(
        services.settings, services.config, workspace=workspace, socket_mode=True
    ) as running:
        yield running
