"""The Slack writes that do not go through the outbox, all of them, each with its reason.

Every other write Lumen makes to Slack is an outbox row, committed with the change that
caused it and delivered with retries. These cannot wait for that, and losing one loses
nothing that matters: the person sees no modal (and clicks again), or a cosmetic status.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from lumen.container import HttpPool
from lumen.log import get_logger

log = get_logger(__name__)

STATUS_TIMEOUT_S = 2


async def open_modal(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """views.open: a trigger_id lives three seconds, and opening a modal changes no state."""
    await client.views_open(trigger_id=trigger_id, view=view)


async def respond(pool: HttpPool, response_url: str, message: dict[str, Any]) -> None:
    """The answer to a slash command, on its response_url: it is the reply the person is
    waiting for now, valid for 30 minutes and 5 uses, and it changes no state."""
    client = AsyncWebhookClient(response_url, session=await pool.session())
    response = await client.send(**message)
    if response.status_code != 200:
        log.warning("lumen.slack.response_url_failed", status=response.status_code, body=response.body[:200])


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
