"""Wake-ups from events and conditions (lumen.yml `triggers:`), with their runaway guards.

- `after:` a run of another agent of the venture ended well: the follower's run is queued in
  the transaction that records that end, keyed `after:<venture>/<role>:<upstream run id>`.
  Its depth (how many `after:` links led to it) and its path travel in the run's context; at
  an agent the chain already woke (a loop), or past the depth limit, the chain stops, the
  venture's channel is told, and no model is called.
- `on_outcome:` an outcome was recorded for the venture: keyed by the outcome's id.
- `webhook:` POST /api/triggers/<venture>/<role>: keyed by the caller's Idempotency-Key, or by
  the body's hash and a 5-minute window (domain/triggers.py `webhook_keys`).
- `when:` a condition over the venture's records, checked when the schedule fires; a firing
  whose condition does not hold is kept as a skipped run saying why.

Every trigger goes through `trigger`, so they share one key space, the per-hour ceiling
and coalescing (engine/triggers.py). Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, AgentStatus, Decision, Outcome, Run, RunKind, RunStatus, RunTrigger, Step, Venture
from lumen.domain.triggers import Conditions, TriggerLimits, chain_key, outcome_key, shown_input, webhook_keys
from lumen.engine import outbox, runs
from lumen.engine import triggers as engine
from lumen.engine.triggers import Fired
from lumen.errors import NotFound
from lumen.log import get_logger
from lumen.render.agents import chain_stopped_payload
from lumen.settings import Settings
from lumen.ventures.service import find_agent, find_venture

log = get_logger(__name__)


def limits_from(settings: Settings) -> TriggerLimits:
    return TriggerLimits(max_depth=settings.chain_depth, runs_per_hour=settings.agent_runs_per_hour)


async def trigger(
    session: AsyncSession,
    agent: Agent,
    *,
    key: str,
    source: str,
    input: dict[str, Any],
    limits: TriggerLimits,
    depth: int = 0,
    chain: list[str] | None = None,
    also_keys: tuple[str, ...] = (),
) -> Fired:
    """Wake `agent` for an event, once per `key`: queued, coalesced into the run already
    waiting, or skipped (paused agent, ceiling reached), each kept under the key with why.

    `input` is what the agent is shown about the event, as quoted data.
    """
    note: dict[str, Any] = {"source": source, "input": input, "depth": depth} | ({"chain": chain} if chain else {})
    if agent.status != AgentStatus.ACTIVE or agent.archived_at is not None:
        reason = f"the agent is {agent.status.value if agent.archived_at is None else 'archived'}: a {source} trigger does not wake it"
        run_id = await runs.record_skip(
            session, key=key, reason=reason, trigger=RunTrigger.EVENT,
            agent_id=agent.id, venture_id=agent.venture_id, context={"trigger": note},
        )
        if run_id is None:
            return Fired(await runs.run_id_of(session, key), "duplicate")
        return Fired(run_id, "skipped", reason)
    fired = await engine.fire(
        session,
        agent_id=agent.id,
        venture_id=agent.venture_id,
        key=key,
        trigger=note,
        runs_per_hour=limits.ceiling(agent.triggers),
        also_keys=also_keys,
    )
    log.info("lumen.trigger.fired", agent_id=agent.id, source=source, key=key, outcome=fired.outcome, run_id=fired.run_id)
    return fired


# --- after: chains -------------------------------------------------------------------------


def chain_after(limits: TriggerLimits):  # type: ignore[no-untyped-def]
    """The engine's run-ended hook for `after:` (registered by the composition root)."""

    async def ended(session: AsyncSession, run: Run, status: RunStatus) -> None:
        if status != RunStatus.SUCCEEDED or run.kind != RunKind.WAKE or run.agent_id is None or not run.side_effects:
            return
        if run.venture_id is None:
            return
        # One query for the common case, a run nobody follows: the venture's agents.
        colleagues = await _live_agents_of(session, run.venture_id)
        upstream = next((a for a in colleagues if a.id == run.agent_id), None)
        if upstream is None:
            return
        followers = [a for a in colleagues if upstream.role in (a.triggers or {}).get("after", ())]
        if not followers:
            return
        venture = await session.get(Venture, run.venture_id)
        if venture is None:
            return
        # The deepest chain that led here, coalesced ones included: a chain cannot shed its
        # depth by riding along with a run that was already waiting.
        links = [n for n in (run.context.get("trigger"), *run.context.get("coalesced", [])) if isinstance(n, dict) and n.get("source") == "after"]
        deepest = max(links, key=lambda n: int(n.get("depth", 0)), default={})
        depth = int(deepest.get("depth", 0)) + 1
        chain = [*(deepest.get("chain") or []), f"{venture.slug}/{upstream.role}#{run.id}"]
        summary, decisions = await _what_it_did(session, run.id)
        woken = {link.split("#")[0] for link in chain}
        for follower in followers:
            key = chain_key(venture.slug, follower.role, run.id)
            # A loop is cut at its first repeat: waking an agent this chain already woke
            # would only go round again, paid for each time.
            if f"{venture.slug}/{follower.role}" in woken or depth > limits.max_depth:
                await _stop_chain(session, venture, follower, key, chain, depth, limits.max_depth)
                continue
            await trigger(
                session,
                follower,
                key=key,
                source="after",
                input={"after": f"{venture.slug}/{upstream.role}", "run_id": run.id, "summary": summary, "decisions": decisions},
                limits=limits,
                depth=depth,
                chain=chain,
            )

    return ended


async def _stop_chain(
    session: AsyncSession, venture: Venture, follower: Agent, key: str, chain: list[str], depth: int, limit: int
) -> None:
    path = f"{' → '.join(chain)} → {follower.role}"
    if any(link.split("#")[0] == f"{venture.slug}/{follower.role}" for link in chain):
        reason = f"a loop: {path} would wake {follower.role} again"
    else:
        reason = f"chain depth limit reached: {path} would be {depth} deep (limit {limit})"
    run_id = await runs.record_skip(
        session, key=key, reason=reason, trigger=RunTrigger.EVENT, agent_id=follower.id,
        venture_id=venture.id, context={"trigger": {"source": "after", "depth": depth, "chain": chain}},
    )
    if run_id is None:
        return
    log.warning("lumen.trigger.chain_stopped", agent_id=follower.id, depth=depth, chain=chain)
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": venture.address} | chain_stopped_payload(venture.slug, chain, f"{venture.slug}/{follower.role}", depth, limit),
        dedupe_key=f"chain-stopped:{run_id}",
    )


async def _what_it_did(session: AsyncSession, run_id: int) -> tuple[str, list[str]]:
    """The upstream run's summary and its decisions' titles, for the follower to read."""
    finished = await session.scalar(select(Step.output).where(Step.run_id == run_id, Step.name == "finished").limit(1))
    titles = (await session.scalars(select(Decision.title).where(Decision.run_id == run_id).order_by(Decision.ordinal).limit(10))).all()
    summary = str((finished or {}).get("summary", "")) if isinstance(finished, dict) else ""
    return summary, list(titles)


async def _live_agents_of(session: AsyncSession, venture_id: int) -> list[Agent]:
    return list(
        (await session.scalars(select(Agent).where(Agent.venture_id == venture_id, Agent.archived_at.is_(None)).order_by(Agent.id))).all()
    )


# --- on_outcome ------------------------------------------------------------------------------


async def outcome_recorded(session: AsyncSession, outcome_id: int, limits: TriggerLimits) -> list[Fired]:
    """Wake the venture's agents that listen for outcomes."""
    found = (
        await session.execute(
            select(Outcome, Decision, Venture)
            .join(Decision, Decision.id == Outcome.decision_id)
            .join(Venture, Venture.id == Decision.venture_id)
            .where(Outcome.id == outcome_id)
        )
    ).first()
    if found is None:
        return []
    outcome, decision, venture = found
    fired = []
    for agent in await _live_agents_of(session, venture.id):
        if not (agent.triggers or {}).get("on_outcome"):
            continue
        fired.append(
            await trigger(
                session,
                agent,
                key=outcome_key(venture.slug, agent.role, outcome.id),
                source="on_outcome",
                input={
                    "outcome_id": outcome.id,
                    "decision_id": decision.id,
                    "decision": decision.title,
                    "verdict": outcome.verdict.value,
                    "metric": outcome.metric,
                    "before": outcome.metric_before,
                    "after": outcome.metric_after,
                    "note": outcome.note,
                    "reported_by": outcome.reported_by,
                },
                limits=limits,
            )
        )
    return fired


# --- webhook ---------------------------------------------------------------------------------


class NoWebhook(NotFound):
    """The agent exists but takes no webhook."""


async def webhook(
    session: AsyncSession,
    venture_ref: str,
    role: str,
    body: dict[str, Any],
    *,
    idempotency_key: str | None,
    limits: TriggerLimits,
) -> Fired:
    venture = await find_venture(session, venture_ref)
    agent = find_agent(venture, role)
    if not (agent.triggers or {}).get("webhook"):
        raise NoWebhook(f"The {agent.role} agent of {venture.name} takes no webhook: set `triggers.webhook: true` for it in lumen.yml.")
    key, *older = webhook_keys(venture.slug, agent.role, body, idempotency_key, utcnow())
    return await trigger(
        session, agent, key=key, source="webhook", input=body, limits=limits, also_keys=tuple(older)
    )


# --- when: and the ceiling, at the scheduled time ------------------------------------------------


async def scheduled_skip(session: AsyncSession, agent_id: int, limits: TriggerLimits) -> str | None:
    """Why a scheduled firing of this agent should not run, or None to run it."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        return None
    triggers = agent.triggers or {}
    started = await engine.runs_in_last_hour(session, agent_id)
    ceiling = limits.ceiling(triggers)
    if started >= ceiling:
        return f"runs-per-hour ceiling reached: {started} runs in the last hour (limit {ceiling})"
    if triggers.get("when"):
        return await _condition_fails(session, agent, Conditions.model_validate(triggers["when"]))
    return None


async def _condition_fails(session: AsyncSession, agent: Agent, when: Conditions) -> str | None:
    since = await session.scalar(
        select(func.max(Run.created_at)).where(
            Run.agent_id == agent.id, Run.status != RunStatus.CANCELLED, Run.side_effects.is_(True), Run.kind == RunKind.WAKE
        )
    )
    if since is None:
        return None  # never ran: nothing to compare with
    if when.new_outcomes is not None:
        count = await session.scalar(
            select(func.count()).select_from(Outcome).join(Decision, Decision.id == Outcome.decision_id)
            .where(Decision.venture_id == agent.venture_id, Outcome.created_at > since)
        ) or 0
        if count < when.new_outcomes:
            return f"when: new_outcomes ≥ {when.new_outcomes} does not hold: {count} outcome(s) since the last run"
    if when.new_decisions is not None:
        count = await session.scalar(
            select(func.count()).select_from(Decision)
            .where(Decision.venture_id == agent.venture_id, Decision.agent_id != agent.id, Decision.created_at > since)
        ) or 0
        if count < when.new_decisions:
            return f"when: new_decisions ≥ {when.new_decisions} does not hold: {count} decision(s) by other agents since the last run"
    return None


# --- what the agent is shown ------------------------------------------------------------------


def trigger_note(run_context: dict[str, Any]) -> dict[str, Any] | None:
    """Why the run woke, for its prompt: the trigger's source and input, and any coalesced ones."""
    note = run_context.get("trigger")
    coalesced = run_context.get("coalesced") or []
    if not isinstance(note, dict) and not coalesced:
        return None
    shown: dict[str, Any] = {}
    if isinstance(note, dict):
        shown = {"source": note.get("source"), "input": shown_input(note.get("input"))}
        if note.get("chain"):
            shown["chain"] = note["chain"]
    if coalesced:
        shown["also"] = [{"source": c.get("source"), "input": shown_input(c.get("input"), 600)} for c in coalesced[-5:]]
    return shown

