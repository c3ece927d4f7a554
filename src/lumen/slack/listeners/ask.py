"""Questions: /lumen ask, @Lumen mentions, DMs and Slack's assistant view. Answers go in a thread."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.save_thread_context.async_save_thread_context import AsyncSaveThreadContext
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import AsyncSetSuggestedPrompts
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

from lumen.ask.service import answer_question
from lumen.engine import outbox
from lumen.llm import Gateway
from lumen.log import get_logger
from lumen.services import Services
from lumen.slack import messages

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
    services: Services,
    gateway: Gateway,
    question: str,
    *,
    user_id: str,
    channel_id: str,
    thread_ts: str | None = None,
    thread_of: str | None = None,
    key: str,
) -> None:
    """Answer and queue the reply; a failure still gets the asker an answer, not silence."""
    try:
        answer = await answer_question(services, gateway, question, user_id=user_id, channel_id=channel_id)
        payload: dict[str, Any] = {"text": answer.text[:3000], "blocks": answer.blocks}
    except Exception:
        log.exception("lumen.ask.failed", question=question)
        payload = {"text": messages.ask_failed()}
    payload |= {"channel": channel_id}
    if thread_of:
        payload["thread_of"] = thread_of
    else:
        payload["thread_ts"] = thread_ts
    async with services.db.transaction() as session:
        await outbox.enqueue(session, "chat.postMessage", payload, dedupe_key=f"{key}:answer")
    services.outbox_queued()


def register(app: AsyncApp, services: Services) -> None:
    gateway = services.gateway
    assistant = AsyncAssistant()

    @assistant.thread_started
    @services.inflight.in_background
    async def started(set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        await set_suggested_prompts(prompts=SUGGESTED_PROMPTS, title="Ask Lumen about your ventures")

    # Bolt's default for this event calls the Web API twice before returning, which with
    # process_before_response would hold up Slack's answer: do the same in the background.
    @assistant.thread_context_changed
    @services.inflight.in_background
    async def context_changed(save_thread_context: AsyncSaveThreadContext, payload: dict[str, Any]) -> None:
        await save_thread_context(payload["assistant_thread"]["context"])

    @assistant.user_message
    @services.inflight.in_background
    async def asked(payload: dict[str, Any], set_status: AsyncSetStatus, set_title: AsyncSetTitle) -> None:
        question = question_text(payload.get("text", ""))
        await set_title(question[:80] or "A question for Lumen")
        await set_status("is thinking…")
        await answer_in_thread(
            services,
            gateway,
            question,
            user_id=payload["user"],
            channel_id=payload["channel"],
            thread_ts=payload.get("thread_ts"),
            key=f"ask:assistant:{payload['channel']}:{payload['ts']}",
        )

    app.use(assistant)
