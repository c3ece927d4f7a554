"""The inbox at Slack's door: each delivery is handled once, and none is dropped.

An event is claimed (`engine/inbox.py`, by its event_id) after Bolt has checked its
signature and before it is acked; Slack's copies of it are dropped while it is claimed or
once it is handled. It is marked handled only when the work its listeners started after the
ack is done; if that work fails, or the request does, the claim is released, so Slack's
retry, or the sweep, handles it after all. A replica that dies holding a claim loses it when
the lease runs out, and the sweep on another replica replays the event from the body the
receipt keeps.

Slack never retries a slash command, a click or a modal, so nothing needs deduplicating
there, and its ack must stay as quick as it is (no write before it): such a delivery is
recorded, by its trigger_id, right after the ack, while its work starts, and again until the
database takes it (for a couple of minutes). From then on it is handled like an event: a
work that failed (the database was down) or a replica that died is made good by the sweep.
What a crash in the few milliseconds between the ack and the record loses stays lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from lumen.db.session import Database
from lumen.engine import inbox
from lumen.engine.drain import InFlight
from lumen.log import get_logger
from lumen.metrics import SLACK_EVENTS_DEDUPLICATED

log = get_logger(__name__)

# A body in, (the message, its JSON) out when it can be answered at once without any I/O.
ReadyAnswer = Callable[[dict[str, Any]], "tuple[dict[str, Any], bytes] | None"]

# Where a request carries its claim; a replay comes with one, a delivery from Slack never does.
CLAIM = "lumen_inbox_claim"
# A command's or click's key, to record after the ack.
RECORD = "lumen_inbox_record"
# How long a command or click is offered to a database that does not answer.
RECORD_FOR_S = 120.0


def delivery_key(body: dict[str, Any]) -> str | None:
    """What tells one delivery from another: an event's id, an interaction's trigger id."""
    if body.get("type") == "event_callback":
        return body.get("event_id")
    trigger_id = body.get("trigger_id")
    return f"trigger:{trigger_id}"[:64] if trigger_id else None


class DedupeEvents(AsyncMiddleware):
    """Bolt middleware (after the signature check): claim the delivery, or drop a copy of it.

    A class, not a function: Bolt inspects a function middleware's parameters on every
    request to inject them, which cost more than the rest of this middleware."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        body, context = req.body, req.context
        key = delivery_key(body)
        if key is not None and context.get(CLAIM) is None:
            if body.get("type") != "event_callback":
                context[RECORD] = key  # recorded after the ack: see InboxApp
            else:
                async with self.db.transaction() as session:
                    claim = await inbox.claim(session, key, body)
                if claim is None:
                    SLACK_EVENTS_DEDUPLICATED.inc()
                    log.info("lumen.slack.event_duplicate", event_id=key)
                    return BoltResponse(status=200, body="")
                context[CLAIM] = claim
        await next()
        return resp


class InboxApp(AsyncApp):
    """Bolt's app, closing each event's receipt when the work the request started is done."""

    def __init__(self, *args: Any, db: Database, inflight: InFlight, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._db = db
        self._inflight = inflight
        # Answers the HTTP front door may give before dispatching (slack/listeners/commands.py).
        self.ready_answers: ReadyAnswer | None = None

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        with self._inflight.collect() as spawned:
            try:
                response = await super().async_dispatch(req)
            except BaseException:
                await self._release(req.context.get(CLAIM))
                raise
        claim, record = req.context.get(CLAIM), req.context.get(RECORD)
        if claim is not None:
            if response.status >= 500:
                await self._release(claim)
            else:
                self._inflight.spawn(close_receipt(self._db, claim, spawned), name=f"lumen-inbox:{claim.key}")
        elif record is not None and spawned and not _answered_in_ack(req, response) and response.status < 500:
            # Otherwise the ack itself was the whole answer (help, a status from memory; what it
            # spawned, a cache refresh, is not the person's), and a replay could only answer again.
            self._inflight.spawn(record_and_close(self._db, self._inflight, record, req.body, spawned), name=f"lumen-inbox:{record}")
        return response

    async def _release(self, claim: inbox.Claim | None) -> None:
        if claim is None:
            return
        with suppress(Exception):  # the lease runs out anyway
            async with self._db.transaction() as session:
                await inbox.release(session, claim)


def _answered_in_ack(req: AsyncBoltRequest, response: BoltResponse) -> bool:
    return bool(req.body.get("command")) and bool(response.body)


async def close_receipt(db: Database, claim: inbox.Claim, work: Sequence[asyncio.Task[None]]) -> None:
    """Handled once the work is done; released if it failed. The claim is renewed meanwhile."""
    renewing = asyncio.create_task(_keep_claim(db, claim))
    failed = True
    try:
        results = await asyncio.gather(*work, return_exceptions=True)
        failed = any(isinstance(result, BaseException) for result in results)
    finally:
        renewing.cancel()
        await _close(db, claim, handled=not failed)


async def _close(db: Database, claim: inbox.Claim, *, handled: bool) -> None:
    """Asked again while the database is away (a restart takes seconds): a receipt left open
    would be replayed when its lease runs out, and the work done twice."""
    for delay in (0.5, 1.0, 2.0, 4.0, 8.0, 0.0):
        try:
            async with db.transaction() as session:
                await (inbox.handled if handled else inbox.release)(session, claim)
            return
        except Exception as exc:
            if not delay:
                log.warning("lumen.inbox.close_failed", key=claim.key, handled=handled, error=str(exc)[:200])
                return
            await asyncio.sleep(delay)


async def record_and_close(
    db: Database, inflight: InFlight, key: str, body: dict[str, Any], work: Sequence[asyncio.Task[None]]
) -> None:
    """Record a command or click just acked (its work is under way meanwhile), then close it
    as an event's receipt is closed. A database that does not answer is asked again, until
    RECORD_FOR_S or the replica stops."""
    loop = asyncio.get_running_loop()
    give_up, delay = loop.time() + RECORD_FOR_S, 0.5
    while True:
        try:
            async with db.transaction() as session:
                claim = await inbox.claim(session, key, body)
            break
        except Exception as exc:
            if loop.time() + delay > give_up or inflight.stopping:
                log.error("lumen.inbox.not_recorded", key=key, error=str(exc)[:200])
                return
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)
    if claim is not None:  # None: recorded already (a replay of it is under way)
        await close_receipt(db, claim, work)


async def _keep_claim(db: Database, claim: inbox.Claim) -> None:
    interval = inbox.CLAIM_LEASE.total_seconds() / 3
    while True:
        await asyncio.sleep(interval)
        with suppress(Exception):
            async with db.transaction() as session:
                if not await inbox.renew(session, claim):
                    return


async def replay_abandoned(app: AsyncApp, db: Database) -> int:
    """Handle the deliveries nobody is handling: released after a failure, or held by a replica
    that died. Each is dispatched again, as Socket Mode would (the signature was checked when
    it came in), with the claim taken here. A command's reply goes to its response_url, which
    Slack honours for 30 minutes."""
    async with db.sessions() as session:
        keys = await inbox.abandoned(session)
    replayed = 0
    for key in keys:
        async with db.transaction() as session:
            claim = await inbox.take_over(session, key)
            body = await inbox.body_of(session, claim) if claim is not None else None
        if claim is None or body is None:
            continue  # another replica took it
        log.info("lumen.slack.delivery_replayed", key=key)
        await app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode", context={CLAIM: claim}))
        replayed += 1
    return replayed
