"""Channel IDs are learned when Slack can say them, not only at start: a replica that started
while Slack was unreachable learns them once it is back, and posts by ID from then on."""

from __future__ import annotations

from sqlalchemy import select

from devslack import Workspace
from lumen.container import Container
from lumen.db.models import Venture
from lumen.devmode import dev_stack
from tests.engine.helpers import eventually


async def _channel_ids(container: Container) -> dict[str, str | None]:
    async with container.db.sessions() as session:
        return dict((await session.execute(select(Venture.slug, Venture.channel_id))).all())


async def test_a_replica_started_while_slack_was_down_learns_the_channel_ids_later(container: Container) -> None:
    ws = Workspace.demo()
    ws.fail("*", "service_unavailable", status=503)
    async with dev_stack(container.settings, container.config, workspace=ws):
        assert set((await _channel_ids(container)).values()) == {None}
        ws.fail("*", None)

        async def learned() -> dict[str, str | None] | None:
            ids = await _channel_ids(container)
            return ids if None not in ids.values() else None

        ids = await eventually(learned, timeout=20)
        for slug, channel_id in ids.items():
            venture = container.config.venture(slug)
            assert venture is not None
            assert ws.resolve_channel(venture.channel).id == channel_id

        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme cmo")
        [post] = await ws.wait_for(lambda: ws.calls_to("chat.postMessage"), timeout=20)
        assert post.params["channel"] == ids["acme"]
