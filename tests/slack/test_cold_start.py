"""A replica that starts while Slack's Web API is down still takes commands and clicks.

Bolt learns who the bot is (auth.test) on the first request. When that call fails, Bolt
answers Slack 200 with "please reinstall this app" and drops the request, and Slack never
retries a command or a click.
"""

from __future__ import annotations

from devslack import Workspace
from lumen.container import Container
from lumen.devmode import dev_stack
from lumen.render.decisions import TRAIL_ACTION
from tests.engine.helpers import decision_ids_posted
from tests.slack.conftest import FAST_RETRIES
from tests.slack.support import response_url_payloads


async def test_a_replica_whose_auth_test_fails_still_answers_commands_and_clicks(container: Container) -> None:
    ws = Workspace.demo(retry_delays=FAST_RETRIES)
    ws.fail("auth.test", "service_unavailable", status=503)  # from before the replica's first request
    async with dev_stack(container.settings, container.config, workspace=ws) as stack:
        helped = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "help")
        assert helped.status == 200 and "/lumen status" in helped.json()["text"]  # answered in the ack
        listed = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "approvals")
        assert (listed.status, listed.body) == (200, "")
        [reply] = await ws.wait_for(lambda: response_url_payloads(ws, listed), timeout=10)
        assert reply["text"]

        woken = await ws.slash_command("U0BOB", "venture-acme", "/lumen", "wake acme cmo")
        assert (woken.status, woken.body) == (200, "")
        await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-acme")), timeout=20)
        [card] = [m for m in ws.messages("venture-acme") if not m.is_reply and m.bot_id]

        clicked = await ws.click("U0CAROL", "venture-acme", card.ts, TRAIL_ACTION)
        assert (clicked.status, clicked.body) == (200, "")
        [trail] = await ws.wait_for(lambda: [m for m in ws.thread(card.channel, card.ts) if m.is_reply], timeout=10)
        assert trail.text.startswith("Trail of run #")
        assert [c.status for c in ws.calls_to("auth.test")] and {c.status for c in ws.calls_to("auth.test")} == {503}
        assert stack.replica is not None
