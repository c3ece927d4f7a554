"""Questions: /lumen ask, @Lumen mentions, DMs and Slack's assistant view. Answers go in a thread,
and a long answer's "Show all N" button posts the rest there."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from lumen.ask.service import answer_question, rest_of_answer
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.domain import questions
from lumen.engine import outbox, ratelimit
from lumen.log import get_logger
from lumen.render import messages
from lumen.render.answers import SHOW_ALL_ACTION
from lumen.slack import payloads
from lumen.slack.direct_writes import assistant_status
from lumen.slack.listeners import ack_first

log = get_logger(__name__)

SUGGESTED_PROMPTS = [
    {"title": "What is waiting for me?", "message": "Which approvals are waiting for me?"},
    {"title": "What did we try?", "message": "What did Acme try last quarter?"},
    {"title": "What failed?", "message": "What failed in the past two months?"},
]
MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def question_text(raw: str) -> str:
    return " ".join(MENTION.sub(" ", raw or "").split())


async def answer_in_thread(
    c: Container,
    question: str,
    *,
    user_id: str,
    channel_id: str,
    thread_ts: str | None = None,
    thread_of: str | None = None,
    key: str,
) -> None:
    """Answer and queue the reply; a failure still gets the asker an answer, not silence."""
    if questions.too_long(question):  # refused before any work on it (nor counted): see domain/questions.py
        log.warning("lumen.ask.too_long", chars=len(question), user=user_id)
        payload: dict[str, Any] = {"text": questions.too_long_reply(question)}
    else:
        payload = await _answer(c, question, user_id=user_id, channel_id=channel_id)
    payload |= {"channel": channel_id}
    if thread_of:
        payload["thread_of"] = thread_of
    else:
        payload["thread_ts"] = thread_ts
    async with c.db.transaction() as session:
        await outbox.enqueue(session, "chat.postMessage", payload, dedupe_key=f"{key}:answer")
    c.signals.outbox.notify()


async def _answer(c: Container, question: str, *, user_id: str, channel_id: str) -> dict[str, Any]:
    """The answer's message. Past the asker's questions per minute, it says when to ask again,
    and no model runs."""
    try:
        async with c.db.transaction() as session:
            allowance = await ratelimit.take(session, "question", user_id, c.settings.questions_per_minute, utcnow())
        if not allowance.allowed:
            return {"text": messages.slow_down("questions", allowance.limit, allowance.retry_after_s)}
        answer = await answer_question(
            c.db.sessions, c.gateway, c.directory, question, tz=c.workspace_tz, user_id=user_id, channel_id=channel_id,
            routing=c.config.workspace.routing,
        )
        return {"text": answer.text[:3000], "blocks": answer.blocks}
    except Exception:
        log.exception("lumen.ask.failed", question=question)
        return {"text": messages.ask_failed()}


async def post_the_rest(c: Container, body: dict[str, Any]) -> None:
    """"Show all N": the decisions the answer did not show, in the answer's thread."""
    click = payloads.button_click(body)
    if click is None or not click.channel_id or not click.message_ts:
        log.warning("lumen.slack.bad_click", action=SHOW_ALL_ACTION)
        return
    thread_ts = payloads.thread_of(body) or click.message_ts
    parts = await rest_of_answer(c.db.sessions, c.directory, click.value, user_id=click.user_id, channel_id=click.channel_id)
    async with c.db.transaction() as session:
        for index, blocks in enumerate(parts):
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {"channel": click.channel_id, "thread_ts": thread_ts, "text": "The rest of the answer", "blocks": blocks},
                # Once per answer: a second click, or a retried delivery, posts nothing twice.
                dedupe_key=f"ask:rest:{click.channel_id}:{click.message_ts}:{index}",
            )
    c.signals.outbox.notify()


def register(app: AsyncApp, c: Container) -> None:
    assistant = AsyncAssistant()

    async def show_all(body: dict[str, Any]) -> None:
        await post_the_rest(c, body)

    app.action(SHOW_ALL_ACTION)(ack_first(show_all, c.inflight))

    @assistant.thread_started
    @c.inflight.in_background
    async def started(payload: dict[str, Any]) -> None:
        thread = payload["assistant_thread"]
        async with c.db.transaction() as session:
            await outbox.enqueue(
                session,
                "assistant.threads.setSuggestedPrompts",
                {
                    "channel_id": thread["channel_id"],
                    "thread_ts": thread["thread_ts"],
                    "prompts": SUGGESTED_PROMPTS,
                    "title": "Ask Lumen about your ventures",
                },
                dedupe_key=f"assistant:{thread['channel_id']}:{thread['thread_ts']}:prompts",
            )
        c.signals.outbox.notify()

    # Lumen reads no thread context, so it stores none: Bolt's default handler would call the
    # Web API twice before returning, holding up Slack's answer.
    @assistant.thread_context_changed
    async def context_changed() -> None:
        return None

    @assistant.user_message
    @c.inflight.in_background
    async def asked(payload: dict[str, Any], client: AsyncWebClient) -> None:
        question = question_text(payload.get("text", ""))
        channel, thread_ts = payload["channel"], payload.get("thread_ts") or payload["ts"]
        key = f"ask:assistant:{channel}:{payload['ts']}"
        async with c.db.transaction() as session:
            await outbox.enqueue(
                session,
                "assistant.threads.setTitle",
                {"channel_id": channel, "thread_ts": thread_ts, "title": question[:80] or "A question for Lumen"},
                dedupe_key=f"{key}:title",
            )
        await assistant_status(client, channel, thread_ts, "is thinking…")
        await answer_in_thread(c, question, user_id=payload["user"], channel_id=channel, thread_ts=payload.get("thread_ts"), key=key)

    app.use(EventsOnly(assistant))


class EventsOnly(AsyncMiddleware):
    """Slack's assistant view speaks only in events. Bolt's assistant middleware evaluates its
    listeners' matchers on every request; a slash command or a click skips it (profiled: half
    of Lumen's own cost per `/lumen status`)."""

    def __init__(self, inner: AsyncMiddleware) -> None:
        self.inner = inner

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        if req.body.get("type") != "event_callback":
            return await next()
        return await self.inner.async_process(req=req, resp=resp, next=next)
