"""One Slack call for the outbox, and what its answer means for the row.

Slack says "no" in several ways that call for different things: wait exactly as long as
asked (429), wait for Slack to come back (no connection, a timeout, a 5xx), join the channel
first, try again later, or never (an error no retry can fix).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

# Not a Web API method: a slash command's reply, posted to its response_url.
RESPONSE_URL = "response_url"
# Not one method either: Slack's files.getUploadURLExternal, the upload, files.completeUploadExternal.
FILE_UPLOAD = "files.upload"
# Slack refused the blocks themselves: a row with plainer ones falls back to them.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})

# Errors no retry can fix; the row is kept as dead for the operator.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "not_authed",
        "missing_scope",
        "not_allowed_token_type",
        "invalid_arguments",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
        "is_archived",
        "restricted_action",
    }
)
# Slack itself is in trouble: like no answer at all.
UNAVAILABLE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})


# Posts carry their outbox key in Slack's message metadata, so that a post whose sender died
# before recording it can be found instead of posted again.
METADATA_TYPE = "lumen_outbox"
# The methods whose landing can be checked afterwards (see `landed`).
CHECKABLE = frozenset({"chat.postMessage", "chat.update"})


class Outcome(Enum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    NOT_IN_CHANNEL = "not_in_channel"
    PERMANENT = "permanent"
    FAILED = "failed"  # some other refusal: try again later


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    retry_after: float = 0.0
    # Could the call have reached Slack though no answer says so? Not when we never connected.
    maybe_landed: bool = False


async def call_slack(client: AsyncWebClient, method: str, payload: dict[str, Any]) -> Answer:
    if method == RESPONSE_URL:
        return await _respond(payload, client.timeout)
    try:
        if method == FILE_UPLOAD:
            return Answer(Outcome.SENT, data=await _upload(client, payload))
        response = await client.api_call(method, json=payload)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return refusal(exc.response.status_code, str(data.get("error", "")), exc.response.headers)
    except aiohttp.ClientConnectorError as exc:  # no connection: the request never left
        return Answer(Outcome.UNREACHABLE, error=_described(exc))
    except Exception as exc:  # a timeout, a dropped connection: it may have been taken
        return Answer(Outcome.UNREACHABLE, error=_described(exc), maybe_landed=True)
    return Answer(Outcome.SENT, data=response.data if isinstance(response.data, dict) else {})


def tagged(method: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
    """The payload to send: a post carries its outbox key in its metadata."""
    if method != "chat.postMessage" or "metadata" in payload:
        return payload
    return {**payload, "metadata": {"event_type": METADATA_TYPE, "event_payload": {"key": key}}}


async def landed(client: AsyncWebClient, method: str, payload: dict[str, Any], key: str, since: datetime) -> Answer | None:
    """Did a call cut off before its answer was recorded reach Slack after all?

    A post is looked for by its metadata among the channel's (or the thread's) messages since
    the row was queued; an update by whether the message already says what it would say.
    SENT if so, None if not (send it), UNREACHABLE if Slack cannot be asked now.
    """
    channel = payload.get("channel")
    if method not in CHECKABLE or not channel:
        return None
    try:
        if method == "chat.update":
            found = await client.conversations_replies(channel=channel, ts=payload["ts"], limit=1)
            messages = [m for m in found.get("messages", []) if m.get("ts") == payload["ts"]]
            same = bool(messages) and messages[0].get("text") == payload.get("text")
            return Answer(Outcome.SENT, data={"channel": channel, "ts": payload["ts"]}) if same else None
        window = {"channel": channel, "oldest": f"{since.timestamp() - 5:.6f}", "include_all_metadata": True, "limit": 1000}
        if payload.get("thread_ts"):
            found = await client.conversations_replies(ts=payload["thread_ts"], **window)
        else:
            found = await client.conversations_history(**window)
    except SlackApiError as exc:
        answer = refusal(exc.response.status_code, str((exc.response.data or {}).get("error", "")), exc.response.headers)
        return answer if answer.outcome in (Outcome.UNREACHABLE, Outcome.RATE_LIMITED) else None
    except Exception as exc:
        return Answer(Outcome.UNREACHABLE, error=_described(exc))
    for message in found.get("messages", []):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == METADATA_TYPE and (metadata.get("event_payload") or {}).get("key") == key:
            return Answer(Outcome.SENT, data={"channel": channel, "ts": message["ts"]})
    return None


def refusal(status: int, error: str, headers: Any) -> Answer:
    if status == 429 or error == "ratelimited":
        return Answer(Outcome.RATE_LIMITED, error="ratelimited", retry_after=_retry_after(headers))
    if status >= 500 or error in UNAVAILABLE_ERRORS:
        return Answer(Outcome.UNREACHABLE, error=error or f"HTTP {status}", maybe_landed=True)
    if error == "not_in_channel":
        return Answer(Outcome.NOT_IN_CHANNEL, error=error)
    if error in PERMANENT_ERRORS:
        return Answer(Outcome.PERMANENT, error=error)
    return Answer(Outcome.FAILED, error=error or f"HTTP {status}")


async def _respond(payload: dict[str, Any], timeout: int) -> Answer:
    client = AsyncWebhookClient(payload["url"], timeout=timeout, retry_handlers=[])
    try:
        response = await client.send_dict(payload["message"])
    except Exception as exc:
        return Answer(Outcome.UNREACHABLE, error=_described(exc))
    status = response.status_code
    if 200 <= status < 300:
        return Answer(Outcome.SENT)
    if status == 429:
        return Answer(Outcome.RATE_LIMITED, error="ratelimited", retry_after=_retry_after(response.headers))
    if status >= 500:
        return Answer(Outcome.UNREACHABLE, error=f"HTTP {status}")
    # 404: the response_url expired or was used up; 400: Slack will not take it. Not retried.
    return Answer(Outcome.PERMANENT, error=f"HTTP {status}: {(response.body or '')[:120]}")


async def _upload(client: AsyncWebClient, payload: dict[str, Any]) -> dict[str, Any]:
    """Upload a file privately (no channel): the bot shows it in blocks by its id."""
    response = await client.files_upload_v2(
        content=base64.b64decode(payload["content_b64"]),
        filename=payload.get("filename", "file"),
        title=payload.get("title"),
        alt_txt=payload.get("alt_text"),
    )
    uploaded = (response.get("files") or [response.get("file") or {}])[0]
    return {"file_id": uploaded.get("id"), "permalink": uploaded.get("permalink")}


def _retry_after(headers: Any) -> float:
    try:
        return max(1.0, float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or 1))
    except ValueError:
        return 1.0


def _described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
