"""The outbox: every Slack side effect is a row, written with the change that caused it.

The dispatcher delivers due rows, and guarantees what it can about "once":

- A claim cannot outlive itself. Claimed rows carry the dispatcher's token and stay hidden
  until their `next_attempt_at`; before each call the dispatcher renews its claim (and finds
  out if the claim ran out while Slack was slow and another replica took the row), and every
  write after the call is conditional on the token.
- A sender that dies in the middle of a call leaves the row marked in flight. A post carries
  its key in Slack's message metadata, so the next sender looks for it before posting again;
  an update is not sent again if the message already says it. (An ephemeral message or a
  response_url reply cannot be looked for: those may, rarely, arrive twice.)
- A 429 holds back every row of its method, here and (through the rows' `next_attempt_at`)
  on the other replicas, for the `Retry-After` Slack asked for; it costs no attempt.
- An outage (no connection, a timeout, a 5xx) pauses the dispatcher: it probes Slack with one
  row at a time, at most a few seconds apart, and when a probe goes through it brings forward
  every row the outage left waiting, instead of letting each sit out its own backoff.
- A message that needs another's `ts` (a thread reply, an update) names it with `thread_of` /
  `update_of` and waits for it; when that message is dead, it dies too, with a log line.
- The `response_url` pseudo-method posts a slash command's reply to its response_url.
- A file is a row too (`files.upload`: Slack's three-step upload); a post that shows it names
  it with `files_of` and gets its file id once it is up. A post whose blocks Slack refuses (or
  whose file never went up) falls back to its `fallback_blocks` (the image left out) rather
  than to nothing.

The outbox knows no feature: a row's `ref` is opaque to it, and the features that need
to remember where their message landed (a decision's permalink, an approval's ts)
register a `Delivered` hook, called in the transaction that marks the row sent.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import OutboxMessage, OutboxStatus
from lumen.db.session import Database
from lumen.db.upsert import insert_ignoring_conflict
from lumen.engine.slack_calls import (
    BLOCK_ERRORS,
    CHECKABLE,
    RESPONSE_URL,
    Answer,
    Outcome,
    call_slack,
    landed,
    tagged,
)
from lumen.engine.signals import Signal
from lumen.log import get_logger

log = get_logger(__name__)

# Built once: asked twice a second by an idle replica.
_ANY_DUE = (
    select(OutboxMessage.id)
    .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= bindparam("now"))
    .limit(1)
)

# While sending, a row is hidden from other dispatchers for this long after each renewal:
# longer than one call (the client's timeout) and its permalink can take.
CLAIM_TIMEOUT = timedelta(seconds=60)
# A batch is hidden this long at first (at most CLAIM_TIMEOUT): what a dispatcher has not
# reached by then (Slack is slow) is free for another, and what a killed one held comes back soon.
BATCH_HOLD = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=24)
# Slack honours a response_url for 30 minutes.
RESPONSE_URL_TTL = timedelta(minutes=30)
BATCH = 20
# During an outage, one probe at a time, this far apart at most.
PROBE_MIN_S, PROBE_MAX_S = 0.5, 5.0
# A row that waits for its parent looks again this often at most.
PARENT_POLL_MAX = timedelta(seconds=5)
UNREACHABLE = "unreachable: "


@dataclass(frozen=True)
class Sent:
    """A delivered message: where it landed, and the `ref` its row was queued with."""

    method: str
    ref: dict[str, Any]
    channel: str | None
    ts: str | None
    permalink: str | None
    file_id: str | None = None  # an uploaded file's id (`files.upload` rows)


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
    message's permalink too. `method` may be `response_url`, with `{"url": …, "message": …}`.
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
        # Our own client and no retry handlers: a 429 or an outage is scheduled here, not slept
        # through inside the SDK while the row's claim runs out.
        self.client = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=10, retry_handlers=[])
        self.queued = queued or Signal()
        self.delivered = tuple(delivered)
        self.poll_interval = poll_interval
        self._stopping = False
        self._looping = False
        self._deadline: float | None = None  # loop time by which a stopping replica must be done
        self._held_until: dict[str, float] = {}  # method -> monotonic time its 429 ends
        self._outage = _Outage()
        self._longest_call = 0.0
        # Rows left waiting by an outage before this process started come forward on the
        # first call that goes through.
        self._bring_forward_on_success = True

    def notify(self) -> None:
        """Something was just queued: look now instead of at the next poll."""
        self.queued.notify()

    async def run_forever(self) -> None:
        self._looping = True
        try:
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
        finally:
            self._looping = False

    def finish_by(self, deadline: float) -> None:
        """The replica stops at `deadline` (loop time): start no call that cannot end by then."""
        self._deadline = deadline

    def stop(self) -> None:
        """Finish the call in hand, give the rest of the batch back, and leave the loop."""
        self._stopping = True
        self.queued.notify()

    async def dispatch_due(self) -> int:
        """Deliver what is due now; return how many rows were handled.

        In the loop, a stop gives back the rows not yet started; a last pass after the loop
        (a stopping replica's) goes on while there is time for another call.
        """
        return await self._dispatch(looping=self._looping)

    # --- claiming ------------------------------------------------------------------------

    async def _dispatch(self, *, looping: bool) -> int:
        if self._outage.active:
            if not self._outage.probe_due():
                return 0
            rows = await self._claim(probe=True)
            if not rows and self._outage.last_probed:  # round again from the oldest
                self._outage.probed(None)
                rows = await self._claim(probe=True)
            if not rows:
                self._outage.end()  # nothing left that the outage touched
                return 0
        else:
            rows = await self._claim(probe=False)
        for n, row in enumerate(rows):
            # A stop, a deadline too close for a call, or an outage (one probe at a time):
            # the rest of the batch goes back.
            if (looping and self._stopping) or not self._time_for_a_call() or (self._outage.active and n > 0):
                await self._release(rows[n:])
                break
            await self._deliver(row)
        return len(rows)

    async def _claim(self, *, probe: bool) -> list[OutboxMessage]:
        """Take due rows (a probe: the oldest row an outage left waiting, due or not)."""
        now, token = utcnow(), uuid.uuid4().hex
        if not probe:  # an idle poll only reads: no write lock, no statement built
            async with self.db.sessions() as session:
                if await session.scalar(_ANY_DUE, {"now": now}) is None:
                    return []
        held = [m for m, until in self._held_until.items() if until > time.monotonic()]
        async with self.db.transaction() as session:
            query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            if probe:
                query = query.where(
                    OutboxMessage.last_error.like(f"{UNREACHABLE}%"),
                    OutboxMessage.claim_token.is_(None) | (OutboxMessage.next_attempt_at <= now),
                    OutboxMessage.id > self._outage.last_probed,
                ).limit(1)
            else:
                query = query.where(OutboxMessage.next_attempt_at <= now).limit(BATCH)
            if held:
                query = query.where(OutboxMessage.method.not_in(held))
            query = query.order_by(OutboxMessage.id)
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.scalars(query)).all())
            if rows:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(next_attempt_at=now + min(BATCH_HOLD, CLAIM_TIMEOUT), claim_token=token)
                )
                for row in rows:
                    row.claim_token = token
        if probe and rows:
            self._outage.probed(rows[0].id)
        return rows

    async def _renew(self, row: OutboxMessage, *, in_flight: bool = False) -> bool:
        """Still ours? Then ours for another CLAIM_TIMEOUT, from now: long enough for the call.

        `in_flight` marks the row as being sent, until its answer is recorded: whoever finds
        the mark on a pending row knows the call may have landed, and looks before sending.
        """
        values: dict[str, Any] = {"next_attempt_at": utcnow() + CLAIM_TIMEOUT}
        if in_flight:
            values["result"] = {"in_flight": utcnow().isoformat()}
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(*self._mine(row), OutboxMessage.status == OutboxStatus.PENDING)
                .values(**values)
            )
        if result.rowcount != 1:
            log.warning("lumen.outbox.claim_lost", outbox_id=row.id, method=row.method)
            return False
        return True

    @staticmethod
    def _mine(row: OutboxMessage) -> tuple[Any, ...]:
        return (OutboxMessage.id == row.id, OutboxMessage.claim_token == row.claim_token)

    async def _release(self, rows: Sequence[OutboxMessage], at: timedelta = timedelta(0)) -> None:
        """Give claimed rows back untouched, due `at` from now."""
        if not rows:
            return
        async with self.db.transaction() as session:
            for row in rows:
                await session.execute(
                    update(OutboxMessage).where(*self._mine(row)).values(next_attempt_at=utcnow() + at, claim_token=None)
                )

    def _time_for_a_call(self) -> bool:
        if self._deadline is None:
            return True
        left = self._deadline - asyncio.get_running_loop().time()
        return left > max(0.5, 1.5 * self._longest_call)

    # --- delivering ----------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> None:
        held = self._held_until.get(row.method, 0.0) - time.monotonic()
        if held > 0:
            await self._release([row], timedelta(seconds=held))
            return
        payload = await self._with_parents(row)
        if payload is None:
            return
        if row.method == RESPONSE_URL and utcnow() - row.created_at > RESPONSE_URL_TTL:
            await self._dead(row, "response_url expired before Slack took the reply")
            return
        if not await self._renew(row, in_flight=row.method in CHECKABLE):
            return
        if (row.result or {}).get("in_flight"):
            # The last sender died (or its claim ran out) during the call: did it land?
            found = await landed(self.client, row.method, payload, row.dedupe_key, row.created_at)
            if found is not None:
                log.info("lumen.outbox.found_landed", outbox_id=row.id, outcome=found.outcome.value)
                await self._settle(row, found, looked=True)
                return
        started = time.monotonic()
        answer = await call_slack(self.client, row.method, tagged(row.method, payload, row.dedupe_key))
        self._longest_call = max(self._longest_call * 0.9, time.monotonic() - started)
        await self._settle(row, answer)

    async def _settle(self, row: OutboxMessage, answer: Answer, *, looked: bool = False) -> None:
        """Record what Slack said. `looked`: it answered a look for an earlier call, not the
        call itself; unless the call was found, it may still have landed."""
        if answer.outcome is Outcome.SENT:
            self._outage.end()
            await self._sent(row, answer.data)
            if self._bring_forward_on_success:
                self._bring_forward_on_success = False
                await self._bring_forward()
        elif answer.outcome is Outcome.RATE_LIMITED:
            await self._rate_limited(row, answer.retry_after, in_flight=looked)
        elif answer.outcome is Outcome.UNREACHABLE:
            if self._outage.failed(row.id):
                log.warning("lumen.outbox.slack_unreachable", error=answer.error)
                self._bring_forward_on_success = True
            # No answer is no proof the call did not land: the in-flight mark stays, unless
            # the request never left (no connection).
            in_flight = looked or answer.maybe_landed
            await self._reschedule(row, self._backoff(row.attempts), UNREACHABLE + answer.error, in_flight=in_flight)
        elif answer.outcome is Outcome.NOT_IN_CHANNEL and row.attempts < 2:
            await self._join(row.payload.get("channel"))
            await self._reschedule(row, timedelta(0), answer.error)
        elif answer.error in BLOCK_ERRORS and row.payload.get("fallback_blocks") is not None:
            await self._fall_back(row, answer.error)
        elif answer.outcome in (Outcome.PERMANENT, Outcome.NOT_IN_CHANNEL):
            await self._dead(row, answer.error)
        else:
            await self._reschedule(row, self._backoff(row.attempts), answer.error)

    async def _with_parents(self, row: OutboxMessage) -> dict[str, Any] | None:
        """The payload with its parents filled in (a thread's or a message's channel and ts, a
        file's id); None if it must wait or die."""
        payload = dict(row.payload)
        fallback = payload.pop("fallback_blocks", None)
        for placeholder, key in (payload.pop("files_of", None) or {}).items():
            async with self.db.sessions() as session:
                file = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            if file is not None and file.status == OutboxStatus.SENT:
                payload = _replaced(payload, placeholder, str((file.result or {}).get("file_id", "")))
            elif file is not None and file.status == OutboxStatus.DEAD and fallback is not None:
                payload = _with_blocks(payload, fallback)  # the file never went up: the message goes without it
            elif file is None and fallback is not None:
                payload = _with_blocks(payload, fallback)
            else:  # not up yet: look again soon
                await self._release([row], timedelta(seconds=1))
                return None
        for link in ("thread_of", "update_of"):
            key = payload.pop(link, None)
            if key is None:
                continue
            async with self.db.sessions() as session:
                parent = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            if parent is not None and parent.status == OutboxStatus.DEAD:
                await self._dead(row, f"parent {key} is dead: {parent.last_error}")
                return None
            if parent is None or parent.status != OutboxStatus.SENT:
                if utcnow() - row.created_at > GIVE_UP_AFTER:
                    await self._dead(row, f"parent {key} never went out")
                else:  # not out yet: look again when it may be
                    wait = parent.next_attempt_at - utcnow() if parent is not None else PARENT_POLL_MAX
                    await self._release([row], min(PARENT_POLL_MAX, max(timedelta(seconds=0.2), wait)))
                return None
            result = parent.result or {}
            if link == "thread_of":
                payload["thread_ts"] = result["ts"]
                payload.setdefault("channel", result["channel"])
            else:
                payload["channel"], payload["ts"] = result["channel"], result["ts"]
        return payload

    async def _rate_limited(self, row: OutboxMessage, retry_after: float, *, in_flight: bool = False) -> None:
        """Hold back every row of the method: this dispatcher's, and the unclaimed ones in the table."""
        log.info("lumen.outbox.ratelimited", outbox_id=row.id, method=row.method, retry_after=retry_after)
        self._held_until[row.method] = time.monotonic() + retry_after
        until = utcnow() + timedelta(seconds=retry_after)
        values: dict[str, Any] = {"next_attempt_at": until, "last_error": "ratelimited", "claim_token": None}
        if not in_flight:
            values["result"] = None
        async with self.db.transaction() as session:
            await session.execute(update(OutboxMessage).where(*self._mine(row)).values(**values))
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.method == row.method,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.claim_token.is_(None),
                    OutboxMessage.next_attempt_at < until,
                )
                .values(next_attempt_at=until)
            )

    async def _bring_forward(self) -> None:
        """Slack answers again: the rows an outage pushed back are due now."""
        now = utcnow()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.claim_token.is_(None),
                    OutboxMessage.next_attempt_at > now,
                    OutboxMessage.last_error.like(f"{UNREACHABLE}%"),
                )
                .values(next_attempt_at=now)
            )
        if result.rowcount:
            log.info("lumen.outbox.backlog_resumed", rows=result.rowcount)

    async def _fall_back(self, row: OutboxMessage, error: str) -> None:
        """Slack refused the blocks: send the row's plainer ones next, at once."""
        log.warning("lumen.outbox.blocks_refused", outbox_id=row.id, error=error)
        payload = dict(row.payload)
        payload = _with_blocks(payload, payload.pop("fallback_blocks"))
        payload.pop("files_of", None)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(*self._mine(row))
                .values(payload=payload, next_attempt_at=utcnow(), last_error=error, claim_token=None, result=None)
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

    async def _reschedule(self, row: OutboxMessage, delay: timedelta, error: str | None, *, in_flight: bool = False) -> None:
        """Try again after `delay`. `in_flight`: the call may have landed, keep the mark that says so."""
        if utcnow() - row.created_at > GIVE_UP_AFTER:
            await self._dead(row, error or "gave up")
            return
        values: dict[str, Any] = {
            "next_attempt_at": utcnow() + delay,
            "attempts": OutboxMessage.attempts + 1,
            "last_error": error,
            "claim_token": None,
        }
        if not in_flight:
            values["result"] = None  # Slack answered: the call did not land
        async with self.db.transaction() as session:
            await session.execute(update(OutboxMessage).where(*self._mine(row)).values(**values))

    async def _dead(self, row: OutboxMessage, error: str) -> None:
        log.error("lumen.outbox.dead", outbox_id=row.id, method=row.method, key=row.dedupe_key, error=error)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(*self._mine(row))
                .values(status=OutboxStatus.DEAD, last_error=error, attempts=OutboxMessage.attempts + 1, claim_token=None, result=None)
            )

    async def _sent(self, row: OutboxMessage, data: dict[str, Any]) -> None:
        channel = data.get("channel") or row.payload.get("channel")
        ts = data.get("ts") or row.payload.get("ts")
        permalink = None
        if row.ref.get("permalink") and row.method == "chat.postMessage" and channel and ts and self._time_for_a_call():
            try:
                permalink = (await self.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
            except Exception:  # a missing permalink must not re-send the message
                log.warning("lumen.outbox.permalink_failed", outbox_id=row.id)
        async with self.db.transaction() as session:
            marked = await session.execute(
                update(OutboxMessage)
                .where(*self._mine(row))
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=utcnow(),
                    attempts=OutboxMessage.attempts + 1,
                    result={"channel": channel, "ts": ts} | ({"file_id": data["file_id"]} if data.get("file_id") else {}),
                    last_error=None,
                    claim_token=None,
                )
            )
            if marked.rowcount != 1:
                # The claim ran out during the call and another dispatcher has the row now.
                log.error("lumen.outbox.claim_expired_in_call", outbox_id=row.id, method=row.method, key=row.dedupe_key)
                return
            sent = Sent(row.method, dict(row.ref or {}), channel, ts, permalink or data.get("permalink"), data.get("file_id"))
            for hook in self.delivered:
                await hook(session, sent)
        log.info("lumen.outbox.sent", outbox_id=row.id, method=row.method, channel=channel, ts=ts)


def _with_blocks(payload: dict[str, Any], blocks: list[Any]) -> dict[str, Any]:
    """The payload with other blocks: a message's, a view's (views.publish), or a response_url reply's."""
    if isinstance(payload.get("view"), dict):
        return {**payload, "view": {**payload["view"], "blocks": blocks}}
    if isinstance(payload.get("message"), dict):
        return {**payload, "message": {**payload["message"], "blocks": blocks}}
    return {**payload, "blocks": blocks}


def _replaced(payload: dict[str, Any], placeholder: str, value: str) -> dict[str, Any]:
    """The payload with every occurrence of `placeholder` (in any string) replaced."""
    return json.loads(json.dumps(payload).replace(json.dumps(placeholder)[1:-1], json.dumps(value)[1:-1]))


class _Outage:
    """Whether Slack looks down from here, and when to probe it next.

    Two different rows failing for want of Slack, with nothing delivered in between, is an
    outage; one row that keeps failing (a message Slack chokes on) is not.
    """

    def __init__(self) -> None:
        self.active = False
        self.last_probed = 0
        self._failed_row: int | None = None
        self._delay = 0.0
        self._next_probe = 0.0

    def failed(self, row_id: int) -> bool:
        """Count a row's failure; True when it starts an outage."""
        if self.active:
            self._delay = min(PROBE_MAX_S, max(PROBE_MIN_S, self._delay * 2))
            self._next_probe = time.monotonic() + self._delay
            return False
        if self._failed_row is not None and self._failed_row != row_id:
            self.active, self._delay = True, PROBE_MIN_S
            self._next_probe = time.monotonic() + self._delay
            return True
        self._failed_row = row_id
        return False

    def probe_due(self) -> bool:
        return time.monotonic() >= self._next_probe

    def probed(self, row_id: int | None) -> None:
        # Round the rows in turn, so that one row Slack chokes on cannot keep the outage up.
        self.last_probed = row_id or 0

    def end(self) -> None:
        self.active, self._failed_row, self._delay, self.last_probed = False, None, 0.0, 0
