"""Bolt middleware: drop Events API retries we already handled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from lumen.db.session import Database
from lumen.engine.inbox import first_delivery
from lumen.log import get_logger
from lumen.metrics import SLACK_EVENTS_DEDUPLICATED

log = get_logger(__name__)


def dedupe_events(db: Database) -> Callable[..., Awaitable[Any]]:
    async def middleware(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await _first(db, event_id):
            SLACK_EVENTS_DEDUPLICATED.inc()
            log.info("lumen.slack.event_duplicate", event_id=event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    return middleware


async def _first(db: Database, event_id: str) -> bool:
    async with db.transaction() as session:
        return await first_delivery(session, event_id)
