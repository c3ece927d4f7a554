"""Messages to agents: a reply in a decision's thread, or `@Lumen acme cmo …` in the
venture's channel, wakes that agent (agents/conversations.py). Thin: one transaction, one
service call; the answer comes from the run, through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lumen.agents import conversations
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.engine import inbox, outbox, ratelimit
from lumen.log import get_logger
from lumen.render import messages
from lumen.errors import NotAllowed
from lumen.render.conversations import agent_paused_text
from lumen.ventures import service as ventures

log = get_logger(__name__)

# Subtypes that are still a person speaking (a reply also sent to the channel); edits,
# deletions, joins and the like are not something anyone said to an agent.
PERSON_SUBTYPES = frozenset({"thread_broadcast"})


def from_a_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Never the bot's own posts, nor another bot's, nor an edit or a deletion."""
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return False
    if bot_user_id and event.get("user") == bot_user_id:
        return False
    subtype = event.get("subtype")
    return subtype is None or subtype in PERSON_SUBTYPES


async def converse(c: Container, event: dict[str, Any], *, mentioned: bool) -> bool:
    """Wake the agent the message is for; False when it is for no agent (Ask may answer it)."""
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return False
    thread_ts = event.get("thread_ts")
    text = conversations.plain_text(event.get("text", ""))
    user = event.get("user", "")
    async with c.db.sessions() as session:
        listener = None
        if mentioned:  # naming an agent wins, even in another agent's thread
            found = await conversations.addressed(session, channel, event.get("text", ""))
            if found is not None:
                listener, text = found[0], found[1] or text
        if listener is None and thread_ts and thread_ts != ts:
            listener = await conversations.thread_owner(session, channel, thread_ts)
        if listener is None:
            return False
        if await inbox.recorded(session, conversations.heard_key(channel, ts)):
            return True  # heard already: its other event (message and app_mention both come)
    answer_in = thread_ts or ts
    venture = listener.venture
    try:  # waking an agent by talking to it is a wake-up: `permissions.wake` says who may
        await ventures.require(c.directory, c.config, venture, venture.name, venture.channel, user, "wake")
    except NotAllowed as refused:
        async with c.db.transaction() as session:
            await outbox.enqueue(
                session, "chat.postEphemeral", {"channel": channel, "user": user, "text": str(refused)}, dedupe_key=f"heard:{channel}:{ts}:refused"
            )
        c.signals.outbox.notify()
        return True
    async with c.db.transaction() as session:
        allowance = await ratelimit.take(session, "conversation", user, c.settings.questions_per_minute, utcnow())
        if not allowance.allowed:
            await outbox.enqueue(
                session,
                "chat.postEphemeral",
                {"channel": channel, "user": user, "text": messages.slow_down("messages to agents", allowance.limit, allowance.retry_after_s)},
                dedupe_key=f"heard:{channel}:{ts}:slow",
            )
            woken = None
        else:
            heard = conversations.Heard(channel_id=channel, thread_ts=answer_in, ts=ts, user=user, text=text)
            woken = await conversations.hear(session, listener, heard, quiet=timedelta(seconds=c.settings.conversation_quiet_s))
            if woken.paused:
                await outbox.enqueue(
                    session,
                    "chat.postMessage",
                    {"channel": channel, "thread_ts": answer_in, "text": agent_paused_text(listener.agent.role, listener.venture.name)},
                    # Once per thread while it stays paused, however many replies come.
                    dedupe_key=f"paused:{listener.agent.id}:{channel}:{answer_in}:{listener.agent.updated_at.isoformat()}"[:200],
                )
    c.signals.outbox.notify()
    if woken is not None and woken.run_id is not None:
        c.signals.runs.notify()
    return True
