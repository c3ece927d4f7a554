"""Buttons on Lumen's messages: "Show trail in thread"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from lumen.audit.service import decision_trail
from lumen.container import Container
from lumen.engine import outbox
from lumen.log import get_logger
from lumen.render.decisions import TRAIL_ACTION, thread_link, trail_payload, trail_pointer
from lumen.slack import payloads
from lumen.slack.listeners import ack_first
from lumen.ventures import service as ventures

log = get_logger(__name__)

log = get_logger(__name__)


def register(app: AsyncApp, c: Container) -> None:
    async def post_trail(body: dict[str, Any]) -> None:
        """The trail goes in the decision's thread once, whoever clicks and however often; each
        click gets a note, only for the clicker, with a link that opens that thread."""
        click = payloads.button_click(body)
        if click is None or click.number is None or not click.channel_id:
            log.warning("lumen.slack.bad_click", action=TRAIL_ACTION)
            return
        reader = ventures.Reader(click.user_id, click.channel_id)
        async with c.db.transaction() as session:
            if await ventures.venture_of_decision(session, click.number, c.directory, reader) is None:
                log.warning("lumen.slack.trail_refused", decision_id=click.number, user=click.user_id)
                return  # no such decision, or a private one's id in another channel's button
            trail = await decision_trail(session, click.number)
            if trail is None:
                return
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {"channel": click.channel_id, "thread_ts": click.message_ts} | trail_payload(trail.run_id, trail.steps, trail.status),
                dedupe_key=f"trail:{click.number}",
            )
            link = thread_link(trail.permalink, click.channel_id, click.message_ts)
            await outbox.enqueue(
                session,
                "chat.postEphemeral",
                {"channel": click.channel_id, "user": click.user_id, "text": trail_pointer(trail.run_id, link)},
                dedupe_key=f"trail:{click.number}:pointer:{click.user_id}:{click.action_ts or click.message_ts}",
            )
        c.signals.outbox.notify()

    app.action(TRAIL_ACTION)(ack_first(post_trail, c.inflight))
