"""Conversations in Slack wake agents: a reply in a decision's thread, or `@Lumen acme cmo …`
in the venture's channel (and later replies in the thread it opens), becomes an `event` run of
that agent with the messages as input.

A burst of replies makes one run. The run waits out a quiet window (`scheduled_for`) before a
worker may claim it; a message arriving while it is queued joins it (its row locked, in the
message's transaction), and a message arriving once it runs queues one follow-up, which the
later messages join in turn. The runs of a thread are keyed `reply:<agent>:<channel>:<thread>:<n>`
under the runs' UNIQUE key, `n` counting the thread's runs that have started: two replicas
hearing two replies at once reach for the same key and make one run; the one whose insert
loses joins the winner's. Each message is heard once, whichever of its events
(`message`, `app_mention`) arrives, and however often.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents import repository
from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, Approval, ConversationThread, Decision, Run, RunStatus, RunTrigger, Venture
from lumen.db.upsert import insert_ignoring_conflict
from lumen.engine import inbox, outbox, runs
from lumen.errors import Invariant
from lumen.log import get_logger
from lumen.render.conversations import could_not_answer_text
from lumen.ventures import service as ventures

log = get_logger(__name__)

MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
MAX_MESSAGES = 12  # a run reads at most the latest this many messages of its burst
MAX_MESSAGE_CHARS = 1500
MAX_WINDOWS = 4  # a burst's run waits at most this many quiet windows after its first message


@dataclass(frozen=True)
class Heard:
    """One message a person wrote to an agent."""

    channel_id: str
    thread_ts: str  # the thread the answer goes to
    ts: str
    user: str
    text: str


@dataclass(frozen=True)
class Listener:
    """The agent a message is for, and the decision whose thread it is in (if any)."""

    venture: Venture
    agent: Agent
    decision_id: int | None = None


@dataclass(frozen=True)
class Woken:
    run_id: int | None  # None: the message was heard before
    joined: bool = False  # it joined a run queued for the thread
    paused: bool = False  # the agent is paused: nothing runs, the thread is told


def plain_text(raw: str) -> str:
    return " ".join(MENTION.sub(" ", raw or "").split())


async def thread_owner(session: AsyncSession, channel_id: str, thread_ts: str) -> Listener | None:
    """The agent whose decision (or approval) message started this thread, if one did."""
    decision_id = await session.scalar(
        select(Decision.id).where(Decision.slack_ts == thread_ts, Decision.slack_channel_id == channel_id).limit(1)
    )
    if decision_id is None:
        decision_id = await session.scalar(
            select(Approval.decision_id).where(Approval.message_ts == thread_ts, Approval.channel_id == channel_id).limit(1)
        )
    if decision_id is None:
        return await _opened_thread(session, channel_id, thread_ts)
    found = await repository.decision_with_owners(session, decision_id)
    if found is None:
        return None
    _, venture, agent = found
    if venture.archived_at is not None or agent.archived_at is not None:
        return None
    return Listener(venture, agent, decision_id)


async def _opened_thread(session: AsyncSession, channel_id: str, thread_ts: str) -> Listener | None:
    """The agent someone opened this thread with (`@Lumen acme cmo …`), if anyone did."""
    thread = await session.get(ConversationThread, (channel_id, thread_ts))
    agent = await session.get(Agent, thread.agent_id) if thread is not None else None
    venture = await session.get(Venture, agent.venture_id) if agent is not None else None
    if agent is None or venture is None or agent.archived_at is not None or venture.archived_at is not None:
        return None
    return Listener(venture, agent, None)


async def addressed(session: AsyncSession, channel_id: str, text: str) -> tuple[Listener, str] | None:
    """`acme cmo what about …` (or `cmo …`) in that venture's own channel: the agent, and the
    rest of the message. None when the words name no agent of the channel's venture: a plain
    question, for Ask."""
    words = plain_text(text).split(" ")
    for venture in await ventures.active_ventures(session):
        if venture.channel_id != channel_id:
            continue
        names = {venture.slug.lower(), venture.name.lower(), *(str(a).lower() for a in venture.aliases or [])}
        rest = words[1:] if words and words[0].lower().strip(",:") in names else words
        if not rest:
            return None
        role = rest[0].lower().strip(",:")
        for agent in ventures.live_agents(venture):
            if agent.role == role:
                return Listener(venture, agent), " ".join(rest[1:])
        return None
    return None


def heard_key(channel_id: str, ts: str) -> str:
    """The inbox key that makes each message heard once."""
    return f"heard:{channel_id}:{ts}"[:64]


def thread_prefix(agent_id: int, channel_id: str, thread_ts: str) -> str:
    return f"reply:{agent_id}:{channel_id}:{thread_ts}:"


async def hear(session: AsyncSession, listener: Listener, message: Heard, *, quiet: timedelta) -> Woken:
    """Wake the agent with `message`: join the thread's queued run, or queue one."""
    # Each message once, whether it came as `message`, as `app_mention`, or both.
    claim = await inbox.claim(session, heard_key(message.channel_id, message.ts))
    if claim is None:
        return Woken(None)
    await inbox.handled(session, claim)
    agent = listener.agent
    if listener.decision_id is None:  # a thread opened by naming the agent: its replies are for it too
        await session.execute(
            insert_ignoring_conflict(
                session.bind.dialect.name,
                ConversationThread,
                {"channel_id": message.channel_id, "thread_ts": message.thread_ts, "agent_id": agent.id, "created_at": utcnow()},
                ["channel_id", "thread_ts"],
            )
        )
    if agent.status != AgentStatus.ACTIVE:
        return Woken(None, paused=True)
    now = utcnow()
    entry = {"ts": message.ts, "user": message.user, "text": message.text[:MAX_MESSAGE_CHARS]}
    prefix = thread_prefix(agent.id, message.channel_id, message.thread_ts)
    for _ in range(3):
        queued = await _queued(session, agent.id, prefix)
        if queued is not None:
            conversation = dict(queued.context.get("conversation") or {})
            # In the thread's order: two messages' events may be handled in either order.
            conversation["messages"] = sorted([*conversation.get("messages", []), entry], key=_ts_order)
            queued.context = {**queued.context, "conversation": conversation}
            # The window starts again with each message, up to a few windows after the first:
            # a thread that never falls quiet is still answered.
            queued.scheduled_for = min(now + quiet, queued.created_at + quiet * MAX_WINDOWS)
            log.info("lumen.conversation.joined", run_id=queued.id, agent_id=agent.id, thread_ts=message.thread_ts)
            return Woken(queued.id, joined=True)
        # Numbered by the thread's runs that have started: replies racing to queue the next
        # one all reach for the same key, and the UNIQUE key lets one of them have it.
        started = await session.scalar(
            select(func.count())
            .select_from(Run)
            .where(
                Run.agent_id == agent.id,  # the agent's runs first (ix_runs_agent_created), then its thread's
                Run.idempotency_key.startswith(prefix, autoescape=True),
                Run.status != RunStatus.QUEUED,
            )
        )
        run_id = await runs.enqueue(
            session,
            key=f"{prefix}{started or 0}",
            trigger=RunTrigger.EVENT,
            agent_id=agent.id,
            venture_id=listener.venture.id,
            scheduled_for=now + quiet,
            context={
                "requested_by": message.user,
                "conversation": {
                    "channel_id": message.channel_id,
                    "thread_ts": message.thread_ts,
                    "decision_id": listener.decision_id,
                    "messages": [entry],
                },
            },
        )
        if run_id is not None:
            log.info("lumen.conversation.woken", run_id=run_id, agent_id=agent.id, thread_ts=message.thread_ts)
            return Woken(run_id)
        # Another replica queued this thread's run a moment ago: join it.
    raise Invariant(f"thread {prefix!r}: no run to join and none could be queued")


async def _queued(session: AsyncSession, agent_id: int, prefix: str) -> Run | None:
    query = (
        select(Run)
        .where(Run.status == RunStatus.QUEUED, Run.agent_id == agent_id, Run.idempotency_key.startswith(prefix, autoescape=True))
        .order_by(Run.id.desc())
        .limit(1)
    )
    if session.bind.dialect.name == "postgresql":
        # Locked against a worker's claim (which skips locked rows); a row claimed meanwhile
        # no longer matches `queued` when the lock is granted.
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


def conversation_of(run: Run) -> dict[str, Any] | None:
    conversation = run.context.get("conversation")
    return conversation if isinstance(conversation, dict) else None


def _ts_order(entry: dict[str, Any]) -> tuple[int, int]:
    """A Slack ts ("1796161984.271279") as numbers: its text sorts wrong across digit counts."""
    seconds, _, micros = str(entry.get("ts", "")).partition(".")
    try:
        return int(seconds or 0), int(micros or 0)
    except ValueError:
        return 0, 0


async def tell_thread_it_failed(session: AsyncSession, run: Run, why: str) -> None:
    """The run woken by a thread failed (a budget spent, the model down): say so in that
    thread, once, in the transaction that records the failure."""
    conversation = run.context.get("conversation")
    if not run.side_effects or not isinstance(conversation, dict) or not conversation.get("channel_id"):
        return
    agent = await session.get(Agent, run.agent_id) if run.agent_id is not None else None
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {
            "channel": str(conversation["channel_id"]),
            "thread_ts": str(conversation.get("thread_ts") or ""),
            "text": could_not_answer_text(agent.role if agent else "agent", why),
        },
        dedupe_key=f"run:{run.id}:could-not-answer",
    )
