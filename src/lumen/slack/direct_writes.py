"""The Slack writes that do not go through the outbox, all of them, each with its reason.

Every other write Lumen makes to Slack is an outbox row, committed with the change that
caused it and delivered with retries. These cannot wait for that: losing a modal or a
cosmetic status loses nothing that matters (the person clicks again), and a slash command's
reply that Slack cannot take at once falls back to the outbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from lumen.container import Container
from lumen.engine import outbox
from lumen.engine.slack_calls import RESPONSE_URL
from lumen.log import get_logger

log = get_logger(__name__)

STATUS_TIMEOUT_S = 2


async def open_modal(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """views.open: a trigger_id lives three seconds, and opening a modal changes no state.

    When Slack cannot open it (down, refusing, the trigger expired), nothing is lost: the
    person sees no modal and clicks again. One log line, not a traceback."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except Exception as exc:  # Slack's error, a refused connection, a timeout: all mean "no modal"
        log.warning("lumen.slack.modal_not_opened", callback_id=view.get("callback_id"), error=f"{type(exc).__name__}: {exc}"[:200])


async def respond(c: Container, response_url: str, message: dict[str, Any], *, key: str) -> None:
    """The answer to a slash command, on its response_url: it is the reply the person is
    waiting for now, so it is sent at once, not queued behind other posts.

    When Slack cannot take it now (no connection, no answer, a 5xx or a 429), it goes to the
    outbox (`response_url` rows, under `key`) and is sent again from there until Slack takes
    it or the response_url expires (30 minutes). A reply Slack answered 2xx is never sent
    again; one it refused for good (404: expired or used up) is logged and left. One log
    line either way, never a traceback: the caller's error handling is not for Slack's trouble.
    """
    client = AsyncWebhookClient(response_url, session=await c.http.session(), retry_handlers=[])
    try:
        response = await client.send_dict(message)
    except Exception as exc:  # refused, reset, timed out: Slack did not take it (or did not say)
        problem = f"{type(exc).__name__}: {exc}"[:200]
    else:
        if 200 <= response.status_code < 300:
            return
        problem = f"HTTP {response.status_code}: {(response.body or '')[:120]}"
        if response.status_code < 500 and response.status_code != 429:
            log.warning("lumen.slack.response_url_refused", key=key, error=problem)
            return
    log.warning("lumen.slack.response_url_failed", key=key, error=problem, retry="outbox")
    async with c.db.transaction() as session:
        await outbox.enqueue(session, RESPONSE_URL, {"url": response_url, "message": message}, dedupe_key=key)
    c.signals.outbox.notify()


async def assistant_status(client: AsyncWebClient, channel_id: str, thread_ts: str, status: str) -> None:
    """assistant.threads.setStatus ("is thinking…"): only useful while the answer is being
    composed, so it cannot wait in a queue. Best effort, one try of at most STATUS_TIMEOUT_S:
    a refusal (a missing scope), a 429 or a slow Slack must neither cost the answer nor hold it up."""
    once = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=STATUS_TIMEOUT_S, retry_handlers=[])
    try:
        await asyncio.wait_for(
            once.assistant_threads_setStatus(channel_id=channel_id, thread_ts=thread_ts, status=status), STATUS_TIMEOUT_S
        )
    except Exception as exc:
        log.warning("lumen.slack.assistant_status_failed", channel=channel_id, error=str(exc)[:200])
