"""The outbox: every Slack side effect is a row, written with the change that caused it.

The dispatcher delivers due rows with backoff. A 429 waits exactly the
`Retry-After` Slack asked for and costs no attempt; an outage just keeps the
rows pending until Slack answers again. A message that needs another's `ts`
(a thread reply, an update) names it with `thread_of` / `update_of` and waits
for it. A file is a row too (`files.upload`, Slack's three-step upload done here); a post
that shows it names it with `files_of` and gets its file id once it is up. A post whose
blocks Slack refuses falls back to its `fallback_blocks` (an image, say, left out) rather
than to nothing.

The outbox knows no feature: a row's `ref` is opaque to it, and the features that need
to remember where their message landed (a decision's permalink, an approval's ts)
register a `Delivered` hook, called in the transaction that marks the row sent.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.db.session import Database
from lumen.db.upsert import insert_ignoring_conflict
from lumen.engine.signals import Signal
from lumen.log import get_logger

log = get_logger(__name__)

# Errors no retry can fix; the row is kept as dead for the operator.
PERMANENT_ERRORS = {
    "channel_not_found",
    "invalid_auth",
    "account_inactive",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "user_not_found",
    "is_archived",
    "not_authed",
}
# While sending, a row is hidden from other dispatchers for this long.
CLAIM_TIMEOUT = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=24)
BATCH = 20
# A pseudo-method: Slack's files.getUploadURLExternal, the upload, files.completeUploadExternal.
FILE_UPLOAD = "files.upload"
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format"}


@dataclass(frozen=True)
class Sent:
    """A delivered message: where it landed, and the `ref` its row was queued with."""

    method: str
    ref: dict[str, Any]
    channel: str | None
    ts: str | None
    permalink: str | None
    file_id: str | None = None


# Called in the transaction that marks a row sent (for example: record a decision's ts).
Delivered = Callable[[AsyncSession, Sent], Awaitable[None]]


async def enqueue(
    session: AsyncSession,
    method: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str,
    ref: dict[str, Any] | None = None,
) -> None:
    """Queue a Slack call in the caller's transaction. The same key twice is one row.

    `ref` travels to the `Delivered` hooks; `ref["permalink"] = True` asks for the posted
    message's permalink too.
    """
    values = {
        "dedupe_key": dedupe_key,
        "method": method,
        "payload": payload,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "ref": ref or {},
        "created_at": utcnow(),
    }
    await session.execute(
        insert_ignoring_conflict(session.bind.dialect.name, OutboxMessage, values, ["dedupe_key"])
    )


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        *,
        queued: Signal | None = None,
        delivered: Sequence[Delivered] = (),
        poll_interval: float = 0.5,
    ) -> None:
        self.db = db
        # Our own client: a 429 is scheduled here, not slept through inside the SDK.
        self.client = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=10)
        self.queued = queued or Signal()
        self.delivered = tuple(delivered)
        self.poll_interval = poll_interval
        self._stopping = False

    def notify(self) -> None:
        """Something was just queued: look now instead of at the next poll."""
        self.queued.notify()

    async def run_forever(self) -> None:
        while not self._stopping:
            self.queued.clear()
            try:
                delivered = await self.dispatch_due()
            except Exception:
                log.exception("lumen.outbox.dispatch_failed")
                delivered = 0
            if delivered:
                continue
            await self.queued.wait(self.poll_interval)

    def stop(self) -> None:
        self._stopping = True
        self.queued.notify()

    async def dispatch_due(self) -> int:
        """Deliver what is due now; return how many rows were handled."""
        rows = await self._claim_batch()
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _claim_batch(self) -> list[OutboxMessage]:
        now = utcnow()
        async with self.db.transaction() as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.scalars(query)).all())
            if rows:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(next_attempt_at=now + CLAIM_TIMEOUT)
                )
        return rows

    async def _parent_result(self, key: str) -> dict[str, Any] | None:
        async with self.db.sessions() as session:
            parent = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        if parent is None or parent.status != OutboxStatus.SENT:
            return None
        return parent.result or {}

    async def _deliver(self, row: OutboxMessage) -> None:
        payload = dict(row.payload)
        payload.pop("fallback_blocks", None)
        files = payload.pop("files_of", None) or {}
        for placeholder, key in files.items():
            parent = await self._parent_result(key)
            if parent is None:  # the file it shows is not up yet
                await self._reschedule(row, timedelta(seconds=1), None, count=False)
                return
            payload = _replaced(payload, placeholder, str(parent.get("file_id", "")))
        for link, fields in (("thread_of", ("thread_ts",)), ("update_of", ("channel", "ts"))):
            key = payload.pop(link, None)
            if key is None:
                continue
            parent = await self._parent_result(key)
            if parent is None:  # the message it depends on is not out yet
                await self._reschedule(row, timedelta(seconds=1), None, count=False)
                return
            if link == "thread_of":
                payload["thread_ts"] = parent["ts"]
                payload.setdefault("channel", parent["channel"])
            else:
                payload["channel"], payload["ts"] = parent["channel"], parent["ts"]
        try:
            if row.method == FILE_UPLOAD:
                await self._sent(row, await self._upload(payload))
                return
            response = await self.client.api_call(row.method, json=payload)
        except SlackApiError as exc:
            await self._failed(row, exc)
            return
        except Exception as exc:  # Slack unreachable, timeouts: retry with backoff
            await self._reschedule(row, self._backoff(row.attempts), f"{type(exc).__name__}: {exc}")
            return
        await self._sent(row, response.data if isinstance(response.data, dict) else {})

    async def _upload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Upload a file privately (no channel): the bot can show it in blocks by its id."""
        response = await self.client.files_upload_v2(
            content=base64.b64decode(payload["content_b64"]),
            filename=payload.get("filename", "file"),
            title=payload.get("title"),
            alt_txt=payload.get("alt_text"),
        )
        uploaded = (response.get("files") or [response.get("file") or {}])[0]
        return {"file_id": uploaded.get("id"), "permalink": uploaded.get("permalink")}

    async def _failed(self, row: OutboxMessage, exc: SlackApiError) -> None:
        status = exc.response.status_code
        error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
        if error in BLOCK_ERRORS and row.payload.get("fallback_blocks") is not None:
            await self._fall_back(row, error)
        elif status == 429 or error == "ratelimited":
            retry_after = int(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
            log.info("lumen.outbox.ratelimited", outbox_id=row.id, retry_after=retry_after)
            await self._reschedule(row, timedelta(seconds=retry_after), "ratelimited", count=False)
        elif error == "not_in_channel" and row.attempts < 2:
            await self._join(row.payload.get("channel"))
            await self._reschedule(row, timedelta(0), error)
        elif error in PERMANENT_ERRORS or error == "not_in_channel":
            await self._dead(row, error)
        else:
            await self._reschedule(row, self._backoff(row.attempts), error or f"HTTP {status}")

    async def _fall_back(self, row: OutboxMessage, error: str) -> None:
        """Slack refused the blocks: send the plainer ones the row carries, at once."""
        payload = dict(row.payload)
        payload["blocks"] = payload.pop("fallback_blocks")
        payload.pop("files_of", None)
        log.warning("lumen.outbox.fell_back", outbox_id=row.id, error=error)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(payload=payload, next_attempt_at=utcnow(), last_error=error)
            )

    async def _join(self, channel: str | None) -> None:
        if not channel:
            return
        try:
            await self.client.conversations_join(channel=channel)
        except Exception as exc:
            log.warning("lumen.outbox.join_failed", channel=channel, error=str(exc))

    def _backoff(self, attempts: int) -> timedelta:
        seconds = min(MAX_BACKOFF.total_seconds(), 0.5 * 2**attempts)
        return timedelta(seconds=seconds * random.uniform(0.8, 1.2))

    async def _reschedule(
        self, row: OutboxMessage, delay: timedelta, error: str | None, *, count: bool = True
    ) -> None:
        if count and utcnow() - row.created_at > GIVE_UP_AFTER:
            await self._dead(row, error or "gave up")
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    next_attempt_at=utcnow() + delay,
                    attempts=OutboxMessage.attempts + (1 if count else 0),
                    last_error=error,
                )
            )

    async def _dead(self, row: OutboxMessage, error: str) -> None:
        log.error("lumen.outbox.dead", outbox_id=row.id, method=row.method, error=error)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status=OutboxStatus.DEAD, last_error=error, attempts=OutboxMessage.attempts + 1)
            )

    async def _sent(self, row: OutboxMessage, data: dict[str, Any]) -> None:
        channel = data.get("channel") or row.payload.get("channel")
        ts = data.get("ts") or row.payload.get("ts")
        result: dict[str, Any] = {"channel": channel, "ts": ts}
        if data.get("file_id"):
            result |= {"file_id": data["file_id"], "permalink": data.get("permalink")}
        permalink = None
        if row.ref.get("permalink") and row.method == "chat.postMessage" and channel and ts:
            try:
                permalink = (await self.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
            except Exception:  # a missing permalink must not re-send the message
                log.warning("lumen.outbox.permalink_failed", outbox_id=row.id)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=utcnow(),
                    attempts=OutboxMessage.attempts + 1,
                    result=result,
                    last_error=None,
                )
            )
            sent = Sent(row.method, dict(row.ref or {}), channel, ts, permalink or result.get("permalink"), result.get("file_id"))
            for hook in self.delivered:
                await hook(session, sent)
        log.info("lumen.outbox.sent", outbox_id=row.id, method=row.method, channel=channel, ts=ts)


def _replaced(payload: dict[str, Any], placeholder: str, value: str) -> dict[str, Any]:
    """The payload with every occurrence of `placeholder` (in any string) replaced."""
    return json.loads(json.dumps(payload).replace(json.dumps(placeholder)[1:-1], json.dumps(value)[1:-1]))
