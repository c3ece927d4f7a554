"""A thread reply or an update waits for the message it belongs to, but not forever: when
that message is dead, they die too, and say so."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
import pytest

from lumen.container import Container
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.engine import outbox
from lumen.engine.outbox import OutboxDispatcher
from tests.engine.helpers import all_rows, eventually
from tests.engine.test_outbox_claims import served_workspace
from tests.support.logs import record_logs


async def test_replies_and_updates_of_a_dead_post_are_given_up_with_a_log_line(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = container.db
    async with db.transaction() as session:
        await outbox.enqueue(session, "chat.postMessage", {"channel": "no-such-channel", "text": "Quarterly numbers"}, dedupe_key="numbers")
        await outbox.enqueue(session, "chat.postMessage", {"thread_of": "numbers", "text": "Details in the thread"}, dedupe_key="numbers:details")
        await outbox.enqueue(session, "chat.update", {"update_of": "numbers", "text": "Quarterly numbers (revised)"}, dedupe_key="numbers:revised")
    async with served_workspace() as (ws, api_url):
        dispatcher = OutboxDispatcher(db, AsyncWebClient(token=ws.bot_token, base_url=api_url))

        async def settled() -> list[OutboxMessage] | None:
            await dispatcher.dispatch_due()
            rows = await all_rows(db, OutboxMessage)
            return rows if all(r.status != OutboxStatus.PENDING for r in rows) else None

        logs = record_logs(monkeypatch, outbox)
        rows = await eventually(settled, timeout=10, interval=0.2)

    by_key = {r.dedupe_key: r for r in rows}
    assert by_key["numbers"].status == OutboxStatus.DEAD and by_key["numbers"].last_error == "channel_not_found"
    for key in ("numbers:details", "numbers:revised"):
        assert by_key[key].status == OutboxStatus.DEAD
        assert by_key[key].last_error == "parent numbers is dead: channel_not_found"
    dead = {entry["outbox_id"]: entry for entry in logs.named("lumen.outbox.dead")}
    assert set(dead) == {r.id for r in rows}
    assert dead[by_key["numbers:details"].id]["error"] == "parent numbers is dead: channel_not_found"
    assert ws.calls_to("chat.update") == [] and len(ws.calls_to("chat.postMessage")) == 1
