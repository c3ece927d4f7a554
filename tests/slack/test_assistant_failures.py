"""The assistant's status and title are cosmetic: when Slack refuses or delays them, the
answer still arrives, and is not held up behind them."""

from __future__ import annotations

from devslack import Message, Workspace
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.devmode import DevStack
from tests.engine.helpers import all_rows, eventually


def bot_replies(ws: Workspace, channel_id: str, thread_ts: str) -> list[Message]:
    return [m for m in ws.thread(channel_id, thread_ts) if m.ts != thread_ts and m.user == ws.bot.id]


async def ask_in_assistant(ws: Workspace, question: str) -> list[Message]:
    thread = await ws.open_assistant_thread("U0ALICE")
    await ws.send_message("U0ALICE", thread.channel_id, question, thread_ts=thread.thread_ts)
    return await ws.wait_for(lambda: bot_replies(ws, thread.channel_id, thread.thread_ts), timeout=15)


async def test_a_missing_scope_on_status_and_title_costs_neither_the_answer_nor_endless_retries(stack: DevStack) -> None:
    ws = stack.workspace
    ws.fail("assistant.threads.setStatus", "missing_scope")
    ws.fail("assistant.threads.setTitle", "missing_scope")
    [answer] = await ask_in_assistant(ws, "Which approvals are waiting for alice?")
    assert answer.text

    async def title_row() -> OutboxMessage | None:
        rows = [r for r in await all_rows(stack.container.db, OutboxMessage) if r.method == "assistant.threads.setTitle"]
        return rows[0] if rows and rows[0].status != OutboxStatus.PENDING else None

    title = await eventually(title_row, timeout=10)
    assert (title.status, title.last_error) == (OutboxStatus.DEAD, "missing_scope")


async def test_a_status_call_that_slack_rate_limits_or_fails_does_not_hold_up_the_answer(stack: DevStack) -> None:
    ws = stack.workspace
    # Waited out, these would keep the answer back for minutes.
    ws.rate_limit("assistant.threads.setStatus", times=5, retry_after=30)
    [first] = await ask_in_assistant(ws, "What did acme try on pricing?")
    ws.fail("assistant.threads.setStatus", "internal_error", status=500)
    [second] = await ask_in_assistant(ws, "What failed at brightbox?")
    assert first.text and second.text
