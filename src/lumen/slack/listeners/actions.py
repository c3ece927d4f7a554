"""Buttons on Lumen's messages."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from lumen.engine import outbox
from lumen.engine.trail import decision_trail
from lumen.services import Services
from lumen.slack.listeners import ack_first
from lumen.slack.blocks.decisions import TRAIL_ACTION, trail_payload


def register(app: AsyncApp, services: Services) -> None:

    async def post_trail(body: dict[str, Any]) -> None:
        action = body["actions"][0]
        decision_id = int(action["value"])
        container = body.get("container", {})
        channel = container.get("channel_id") or body.get("channel", {}).get("id")
        thread_ts = container.get("message_ts") or body.get("message", {}).get("ts")
        async with services.db.transaction() as session:
            trail = await decision_trail(session, decision_id)
            if trail is None:
                return
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {"channel": channel, "thread_ts": thread_ts}
                | trail_payload(trail.run_id, trail.steps, trail.status),
                # One trail per message and click: a retried delivery posts nothing twice.
                dedupe_key=f"trail:{decision_id}:{action.get('action_ts', thread_ts)}",
            )
        services.outbox_queued()

    app.action(TRAIL_ACTION)(ack_first(post_trail, services.inflight))
