"""Mentions, DMs and the App Home tab."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from lumen.approvals import questions
from lumen.approvals import service as approvals
from lumen.container import Container
from lumen.costs import service as costs
from lumen.db.base import utcnow
from lumen.engine import outbox
from lumen.render import messages
from lumen.render.home import home_view
from lumen.slack.listeners.ask import answer_in_thread, question_text
from lumen.slack.listeners.conversations import converse, from_a_person
from lumen.ventures import service as ventures
from lumen.ventures.status import venture_status


async def publish_home(c: Container, user_id: str, key: str, note: str | None = None) -> None:
    """Queue the viewer's Home tab: their pending approvals, then every venture; `note` says
    what became of a click they just made there."""
    async with c.db.sessions() as session:
        # The Home tab is the viewer's alone: a private venture shows there to its members.
        hidden = await ventures.hidden_from(session, c.directory, ventures.Reader(user_id, None))
        report = await venture_status(session, workspace_tz=c.workspace_tz, hidden=hidden)
        cards = await approvals.pending_for(session, c.directory, user_id)
        asked = await questions.pending_for(session, c.directory, user_id)
        spend, charts = await costs.home_costs(session, utcnow(), c.gateway.ledger.platform, hidden)
    payload: dict[str, Any] = {"user_id": user_id, "view": home_view(report, user_id, cards, note, questions=asked, costs=spend)}
    if waiting := costs.files_of(charts):  # charts going up: shown once they are, or left out
        fallback = home_view(report, user_id, cards, note, questions=asked, costs=replace(spend, charts={}))
        payload |= {"files_of": waiting, "fallback_blocks": fallback["blocks"]}
    async with c.db.transaction() as session:
        await costs.queue_uploads(session, charts)
        await outbox.enqueue(session, "views.publish", payload, dedupe_key=key)
    c.signals.outbox.notify()


def register(app: AsyncApp, c: Container) -> None:
    async def answer(event: dict[str, Any]) -> None:
        question = question_text(event.get("text", ""))
        thread_ts = event.get("thread_ts") or event.get("ts")
        key = f"ask:{event['channel']}:{event.get('ts')}"
        if len(question) < 3 or question.lower() in ("help", "hi", "hello"):
            async with c.db.transaction() as session:
                await outbox.enqueue(
                    session,
                    "chat.postMessage",
                    {"channel": event["channel"], "thread_ts": thread_ts, "text": messages.mention_reply(event.get("user", ""))},
                    dedupe_key=f"{key}:hello",
                )
            c.signals.outbox.notify()
            return
        await answer_in_thread(
            c, question, user_id=event.get("user", ""), channel_id=event["channel"], thread_ts=thread_ts, key=key
        )

    @app.event("app_mention")
    @c.inflight.in_background
    async def on_mention(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if not from_a_person(event, context.bot_user_id):
            return
        # In a decision's thread, or `@Lumen acme cmo …`: the agent answers; otherwise Ask does.
        if await converse(c, event, mentioned=True):
            return
        await answer(event)

    @app.event("message")
    @c.inflight.in_background
    async def on_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Only people: edits, deletions, bots and the bot's own posts are not for us.
        if not from_a_person(event, context.bot_user_id):
            return
        if event.get("channel_type") == "im":
            await answer(event)
        elif event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            if context.bot_user_id and f"<@{context.bot_user_id}>" in (event.get("text") or ""):
                return  # its app_mention event is the one that counts (it may name another agent)
            await converse(c, event, mentioned=False)  # a reply in an agent's thread; other chatter is not for us

    @app.event("app_home_opened")
    @c.inflight.in_background
    async def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(c, event["user"], f"home:{event['user']}:{event.get('event_ts', '')}")
