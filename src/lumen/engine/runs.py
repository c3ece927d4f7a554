"""Runs as durable work items: enqueue once, claim with a lease, fence stale workers.

One agent runs one run at a time, across replicas: a queued run of an agent whose other
run holds a live lease waits (it is claimed once that one ends). A run paused at a gate
(`awaiting_approval`) holds no lease and blocks nothing.

A claim bumps the run's epoch. Every write a worker makes for a run first
touches the run row `WHERE epoch = <its epoch>`; a worker whose lease was taken
over finds no row and its transaction is rolled back (`LeaseLost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lumen.db.base import utcnow
from lumen.db.models import Agent, Run, RunKind, RunStatus, RunTrigger
from lumen.db.session import Database
from lumen.db.upsert import insert_ignoring_conflict
from lumen.errors import InternalError, Invariant

DEFAULT_LEASE = timedelta(seconds=30)


class LeaseLost(InternalError):
    """Another worker owns this run now; this worker must stop writing."""


@dataclass(frozen=True)
class Claim:
    run_id: int
    epoch: int
    owner: str
    # How far each write under this claim pushes the lease out: the worker's lease, not a default.
    lease: timedelta = DEFAULT_LEASE


def wake_key(agent_ref: str, nominal: datetime) -> str:
    """`wake:acme/ceo:2026-11-23T14:00:00+00:00`: one run per agent per nominal fire time."""
    return f"wake:{agent_ref}:{nominal.astimezone(timezone.utc).isoformat(timespec='seconds')}"


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    trigger: RunTrigger,
    kind: RunKind = RunKind.WAKE,
    agent_id: int | None = None,
    venture_id: int | None = None,
    scheduled_for: datetime | None = None,
    context: dict | None = None,
    model_override: str | None = None,
    replay_of_run_id: int | None = None,
    side_effects: bool = True,
) -> int | None:
    """Insert a queued run; None if a run with this key already exists (another replica won).

    Use `enqueue_new` for keys that are unique by construction.
    """
    return await _insert_once(
        session,
        key=key,
        trigger=trigger,
        kind=kind,
        agent_id=agent_id,
        venture_id=venture_id,
        scheduled_for=scheduled_for,
        status=RunStatus.QUEUED,
        context=context or {},
        model_override=model_override,
        replay_of_run_id=replay_of_run_id,
        side_effects=side_effects,
    )


async def record_skip(
    session: AsyncSession,
    *,
    key: str,
    reason: str,
    trigger: RunTrigger,
    kind: RunKind = RunKind.WAKE,
    agent_id: int | None = None,
    venture_id: int | None = None,
    scheduled_for: datetime | None = None,
    context: dict | None = None,
) -> int | None:
    """A run that will not run, kept under its key with why (`lumen runs list` shows it,
    status cancelled): a skipped condition, a coalesced trigger, a limit reached.
    None if the key was taken already, like `enqueue`."""
    return await _insert_once(
        session,
        key=key,
        trigger=trigger,
        kind=kind,
        agent_id=agent_id,
        venture_id=venture_id,
        scheduled_for=scheduled_for,
        status=RunStatus.CANCELLED,
        context=(context or {}) | {"skipped": reason},
        error=reason[:4000],
        finished=True,
    )


async def _insert_once(
    session: AsyncSession, *, key: str, status: RunStatus, finished: bool = False, **columns: Any
) -> int | None:
    """The run row under `key`, unless a row holds that key already (then None)."""
    now = utcnow()
    values = {
        "idempotency_key": key,
        "status": status,
        "side_effects": True,
        "epoch": 0,
        "attempts": 0,
        "created_at": now,
        **({"finished_at": now} if finished else {}),
        **columns,
    }
    statement = insert_ignoring_conflict(session.bind.dialect.name, Run, values, ["idempotency_key"]).returning(Run.id)
    return (await session.execute(statement)).scalar_one_or_none()


async def run_id_of(session: AsyncSession, key: str) -> int:
    """The run queued under `key`."""
    run_id = await session.scalar(select(Run.id).where(Run.idempotency_key == key))
    if run_id is None:
        raise Invariant(f"no run with key {key!r}")
    return run_id


async def enqueue_new(session: AsyncSession, **values: Any) -> int:
    """`enqueue` with a key that cannot exist yet (it carries a fresh uuid): returns the run's id."""
    run_id = await enqueue(session, **values)
    if run_id is None:
        raise Invariant(f"run key {values.get('key')!r} already existed")
    return run_id


# Built once: an idle replica asks this twice a second, and building the statement cost
# more than running it. A read, so an idle poll takes neither SQLite's write lock nor a row lock.
_CLAIMABLE = or_(Run.status == RunStatus.QUEUED, (Run.status == RunStatus.RUNNING) & (Run.lease_expires_at < bindparam("now")))
_ANY_CLAIMABLE = select(Run.id).where(_CLAIMABLE).limit(1)
_ANY_CLAIMABLE_OF_KINDS = select(Run.id).where(_CLAIMABLE, Run.kind.in_(bindparam("kinds", expanding=True))).limit(1)


async def any_claimable(db: Database, now: datetime, kinds: tuple[RunKind, ...] | None = None) -> bool:
    """Whether `claim_next` could find anything: the cheap look before the write that takes it."""
    async with db.sessions() as session:
        if kinds:
            found = await session.scalar(_ANY_CLAIMABLE_OF_KINDS, {"now": now, "kinds": list(kinds)})
        else:
            found = await session.scalar(_ANY_CLAIMABLE, {"now": now})
    return found is not None


async def claim_next(
    db: Database, owner: str, lease: timedelta = DEFAULT_LEASE, *, kinds: tuple[RunKind, ...] | None = None
) -> Claim | None:
    """Take the oldest queued run, or one whose worker's lease expired, of an agent that
    is running nothing else."""
    now = utcnow()
    if not await any_claimable(db, now, kinds):
        return None
    # An alias, so the subquery is not correlated with the UPDATE's own rows.
    candidate = aliased(Run)
    claimable = select(candidate.id).where(
        or_(
            (candidate.status == RunStatus.QUEUED)
            # A run woken by an event waits out its quiet window (`scheduled_for`), so that a
            # burst of messages joins one run; other runs' `scheduled_for` is only a record.
            & or_(candidate.trigger != RunTrigger.EVENT, candidate.scheduled_for.is_(None), candidate.scheduled_for <= now),
            (candidate.status == RunStatus.RUNNING) & (candidate.lease_expires_at < now),
        ),
        or_(candidate.agent_id.is_(None), candidate.agent_id.not_in(_busy_agents(now))),
    )
    if kinds:
        claimable = claimable.where(candidate.kind.in_(kinds))
    claimable = claimable.order_by(candidate.id).limit(1)
    if db.dialect == "postgresql":
        # Replicas skip each other's locked candidates instead of queueing behind them.
        claimable = claimable.with_for_update(skip_locked=True)
    try:
        async with db.transaction() as session:
            # One statement: pick the candidate and take it, returning the new epoch.
            row = (
                await session.execute(
                    update(Run)
                    .where(Run.id == claimable.scalar_subquery())
                    .values(
                        status=RunStatus.RUNNING,
                        lease_owner=owner,
                        lease_expires_at=now + lease,
                        epoch=Run.epoch + 1,
                        attempts=Run.attempts + 1,
                        started_at=now,
                    )
                    .returning(Run.id, Run.epoch, Run.agent_id)
                )
            ).first()
            if row is not None and row[2] is not None and db.dialect == "postgresql":
                await _one_at_a_time(session, row[0], row[2], now)
    except _AgentBusy:
        return None
    if row is None:
        return None
    return Claim(run_id=row[0], epoch=row[1], owner=owner, lease=lease)


class _AgentBusy(Exception):
    """Another replica claimed a run of the same agent at the same moment: undo this claim."""


def _busy_agents(now: datetime) -> Any:
    """Agents with a run whose worker holds a live lease."""
    running = aliased(Run)
    return select(running.agent_id).where(
        running.status == RunStatus.RUNNING, running.lease_expires_at >= now, running.agent_id.is_not(None)
    )


async def _one_at_a_time(session: AsyncSession, run_id: int, agent_id: int, now: datetime) -> None:
    """Postgres: two replicas can each claim a run of one agent in the same instant (neither
    sees the other's uncommitted claim). Locking the agent's row makes the second wait for the
    first to commit, then see its run and give its own claim back."""
    await session.execute(select(Agent.id).where(Agent.id == agent_id).with_for_update())
    other = await session.scalar(
        select(Run.id).where(
            Run.agent_id == agent_id, Run.id != run_id, Run.status == RunStatus.RUNNING, Run.lease_expires_at >= now
        ).limit(1)
    )
    if other is not None:
        raise _AgentBusy(run_id)


async def fence(
    session: AsyncSession, claim: Claim, lease: timedelta | None = None, **run_values: Any
) -> None:
    """First statement of every write a worker makes: proves it still owns the run.

    `run_values` are set on the run by the same UPDATE (its cost, the versions it read).
    """
    result = await session.execute(
        update(Run)
        .where(Run.id == claim.run_id, Run.epoch == claim.epoch, Run.status == RunStatus.RUNNING)
        .values(lease_expires_at=utcnow() + (lease or claim.lease), **run_values)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"run {claim.run_id}: lease lost (epoch {claim.epoch} is stale)")


async def renew(db: Database, claim: Claim, lease: timedelta | None = None) -> None:
    async with db.transaction() as session:
        await fence(session, claim, lease)


async def finish(
    session: AsyncSession,
    claim: Claim,
    status: RunStatus,
    *,
    error: str | None = None,
    **run_values: Any,
) -> None:
    """Record the run's end, fenced: raises LeaseLost if another worker owns the run now.

    `run_values` are more columns of the run to set (those of steps written with the end).
    """
    values: dict = {**run_values, "status": status, "lease_owner": None, "lease_expires_at": None}
    if status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
        values["finished_at"] = utcnow()
    if error is not None:
        values["error"] = error[:4000]
    result = await session.execute(
        update(Run)
        .where(Run.id == claim.run_id, Run.epoch == claim.epoch, Run.status == RunStatus.RUNNING)
        .values(**values)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"run {claim.run_id}: lease lost (epoch {claim.epoch} is stale)")


async def claim(db: Database, run_id: int, owner: str, lease: timedelta = DEFAULT_LEASE) -> Claim | None:
    """Claim one particular queued run (the CLI runs a replay in its own process)."""
    now = utcnow()
    async with db.transaction() as session:
        run = await session.get(Run, run_id, with_for_update=db.dialect == "postgresql")
        if run is None or run.status != RunStatus.QUEUED:
            return None
        run.status = RunStatus.RUNNING
        run.lease_owner = owner
        run.lease_expires_at = now + lease
        run.epoch += 1
        run.attempts += 1
        run.started_at = now
        epoch = run.epoch
    return Claim(run_id=run_id, epoch=epoch, owner=owner, lease=lease)


def add_cost(cost_usd: Decimal) -> dict[str, Any]:
    """Run values for a paid step: add its cost to the run's."""
    return {"cost_usd": Run.cost_usd + cost_usd}
