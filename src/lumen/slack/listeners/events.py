"""Mentions, DMs, the App Home tab and the assistant view."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from lumen.approvals.queries import pending_for
from lumen.slack.listeners.ask import answer_in_thread, question_text
from lumen.services import Services
from lumen.slack import messages
from lumen.slack.blocks.home import home_view
from lumen.ventures.status import venture_status


async def publish_home(services: Services, client: AsyncWebClient, user_id: str) -> None:
    async with services.db.sessions() as session:
        report = await venture_status(session, workspace_tz=services.workspace_tz)
        approvals = await pending_for(session, services.directory, user_id)
    await client.views_publish(user_id=user_id, view=home_view(report, user_id, approvals))


def register(app: AsyncApp, services: Services) -> None:
    async def answer(event: dict[str, Any], say: AsyncSay) -> None:
        question = question_text(event.get("text", ""))
        thread_ts = event.get("thread_ts") or event.get("ts")
        if len(question) < 3 or question.lower() in ("help", "hi", "hello"):
            await say(text=messages.mention_reply(event.get("user", "")), thread_ts=thread_ts)
            return
        await answer_in_thread(
            services,
            services.gateway,
            question,
            user_id=event.get("user", ""),
            channel_id=event["channel"],
            thread_ts=thread_ts,
            key=f"ask:{event['channel']}:{event.get('ts')}",
        )

    @app.event("app_mention")
    @services.inflight.in_background
    async def on_mention(event: dict[str, Any], say: AsyncSay) -> None:
        await answer(event, say)

    @app.event("message")
    @services.inflight.in_background
    async def on_message(event: dict[str, Any], say: AsyncSay) -> None:
        # Only direct messages from people; edits, bots and channel chatter are not for us.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await answer(event, say)

    @app.event("app_home_opened")
    @services.inflight.in_background
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(services, client, event["user"])
