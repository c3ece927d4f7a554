"""The spend ledger: one `Spend` row per model call, reserved before and settled after.

Budgets are enforced here, not by litellm (whose `max_budget` does not stop calls): a call
first reserves its estimated cost, and only if every envelope covering it (its agent's, its
venture's, the platform's; monthly, and daily where declared) still holds the spend so far
(settled and reserved) plus the estimate. A provider that billed more than was reserved is
settled at what it billed, so the next reservation pays for the overage first; and the worst
billed/estimated ratio seen on a model scales its later estimates (domain.budgets.calibration),
so the same overage is reserved for next time. Until a model has billed once, it has one call in
flight at a time: its first bill calibrates the rest.

Concurrent reservations serialize on the rows they count (`SELECT … FOR UPDATE` on the agent and
the venture, an advisory lock for the platform, on Postgres) or on the database write lock
(SQLite's `BEGIN IMMEDIATE`), so two calls cannot both take the last dollar. A reservation whose
caller died is settled by `settle_abandoned`, which each replica runs as a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Select, and_, case, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, Run, RunStatus, Spend, Venture
from lumen.db.session import Database
from lumen.domain.budgets import (
    Envelope,
    Limits,
    Refusal,
    calibration,
    first_refusal,
    period_start,
    warnings_crossed,
)
from lumen.domain.timeranges import month_start
from lumen.llm.costs import to_money
from lumen.llm.errors import BudgetExceeded
from lumen.log import get_logger

log = get_logger(__name__)

_PLATFORM_LOCK = 7413022  # pg_advisory_xact_lock key: the platform envelope's "row"
_MODEL_LOCK = 7413023  # with hashtext(model): one uncalibrated call of a model at a time
# How far back a model's bills calibrate it, and how many of them.
_CALIBRATION_WINDOW = timedelta(days=30)
_CALIBRATION_CALLS = 50
# An unsettled first call older than this no longer holds its model's other calls back.
_PROBE_PATIENCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Attribution:
    """Who a call is for. With an agent_id, the agent's envelopes apply; with a venture_id,
    the venture's; the platform's apply to every call.

    `budget_usd_month` overrides the agent row's `budget_usd_month`; leave it None to use the
    row (the value synced from lumen.yml).
    """

    purpose: str = "decide"
    run_id: int | None = None
    agent_id: int | None = None
    venture_id: int | None = None
    budget_usd_month: Decimal | None = None


@dataclass(frozen=True)
class Reservation:
    spend_id: int
    reserved_usd: Decimal  # the estimate, calibrated: what a cut-off call is booked at


class Calibrating(Exception):
    """The model has never billed and its first call is in flight: wait for its bill."""


class BudgetAlerts(Protocol):
    """Told of a warning (in the reserving transaction) and of a stop (in its own)."""

    async def warning(self, session: AsyncSession, envelope: Envelope, spent_usd: Decimal, attribution: Attribution, now: datetime) -> None: ...

    async def stop(self, session: AsyncSession, refusal: Refusal, attribution: Attribution, model: str, now: datetime) -> None: ...


def _spend_row(attribution: Attribution, model: str, **figures: Any) -> Spend:
    return Spend(
        run_id=attribution.run_id,
        agent_id=attribution.agent_id,
        venture_id=attribution.venture_id,
        model=model[:200],
        purpose=attribution.purpose[:48],
        **figures,
    )


class SpendLedger:
    def __init__(self, db: Database, platform: Limits | None = None, alerts: BudgetAlerts | None = None) -> None:
        self.db = db
        # The platform's envelopes come from lumen.yml (workspace.budget_usd_*), not a row.
        self.platform = platform or Limits()
        self.alerts = alerts

    async def reserve(
        self,
        attribution: Attribution,
        model: str,
        estimate_usd: Decimal,
        *,
        now: datetime | None = None,
    ) -> int:
        """Insert an unsettled row holding the estimate; raise BudgetExceeded instead if over."""
        return (await self.reserve_call(attribution, model, estimate_usd, now=now, calibrate=False)).spend_id

    async def reserve_call(
        self,
        attribution: Attribution,
        model: str,
        estimate_usd: Decimal,
        *,
        now: datetime | None = None,
        calibrate: bool = True,
        probe: bool = True,
    ) -> Reservation:
        """Reserve the estimate, scaled by the model's calibration, against every envelope.

        Raises BudgetExceeded (and tells the alerts, once per period) if an envelope would
        overflow, or Calibrating while the model's first call is still in flight."""
        now = now or utcnow()
        refusal: Refusal | None = None
        async with self.db.transaction() as session:
            reserved = estimate_usd
            if calibrate and estimate_usd > 0:
                reserved = to_money(estimate_usd * await self._calibration(session, model, now, probe=probe))
            envelopes = await self._envelopes(session, attribution, lock=True)
            spent = await self._spent(session, attribution, envelopes, now) if envelopes else {}
            refusal = first_refusal(envelopes, spent, reserved)
            if refusal is None:
                row = _spend_row(
                    attribution, model, cost_usd=reserved, estimate_usd=estimate_usd, settled=False, created_at=now
                )
                session.add(row)
                await session.flush()
                if self.alerts is not None:
                    for envelope in warnings_crossed(envelopes, spent, reserved):
                        await self.alerts.warning(session, envelope, spent.get(envelope.key, Decimal(0)) + reserved, attribution, now)
                return Reservation(row.id, reserved)
        await self._stopped(refusal, attribution, model, now)
        raise BudgetExceeded(refusal.envelope, refusal.spent_usd, refusal.estimate_usd, model)

    async def check(self, attribution: Attribution, model: str, estimate_usd: Decimal) -> None:
        """The budget check alone, for a free call: nothing to reserve, but a spent envelope still stops it."""
        now = utcnow()
        async with self.db.sessions() as session:
            envelopes = await self._envelopes(session, attribution, lock=False)
            if not envelopes:
                return
            refusal = first_refusal(envelopes, await self._spent(session, attribution, envelopes, now), estimate_usd)
        if refusal is not None:
            await self._stopped(refusal, attribution, model, now)
            raise BudgetExceeded(refusal.envelope, refusal.spent_usd, refusal.estimate_usd, model)

    async def _stopped(self, refusal: Refusal, attribution: Attribution, model: str, now: datetime) -> None:
        log.warning(
            "lumen.llm.budget_stop",
            envelope=refusal.envelope.key,
            limit_usd=str(refusal.envelope.limit_usd),
            spent_usd=str(refusal.spent_usd),
            model=model,
            run_id=attribution.run_id,
            agent_id=attribution.agent_id,
            venture_id=attribution.venture_id,
        )
        if self.alerts is None:
            return
        try:
            async with self.db.transaction() as session:
                await self.alerts.stop(session, refusal, attribution, model, now)
        except Exception as exc:  # the stop itself holds; only its announcement failed
            log.error("lumen.llm.budget_stop_unposted", envelope=refusal.envelope.key, error=str(exc))

    async def record(
        self,
        attribution: Attribution,
        model: str,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: Decimal,
        latency_ms: int,
    ) -> int:
        """A settled row for a call that reserved nothing (a free model)."""
        async with self.db.transaction() as session:
            row = _spend_row(
                attribution,
                model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=cost_usd,
                latency_ms=latency_ms,
                settled=True,
                created_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            return row.id

    # --- the envelopes, the spend in them, and calibration ---------------------------------

    async def _envelopes(self, session: AsyncSession, attribution: Attribution, *, lock: bool) -> list[Envelope]:
        """Every envelope covering the call: the agent's, the venture's, the platform's.

        With `lock`, takes the locks that serialize reservations on Postgres, always in the
        same order (platform, venture, agent); SQLAlchemy leaves FOR UPDATE out on SQLite,
        where BEGIN IMMEDIATE already serialized the transaction. FOR NO KEY UPDATE, not FOR
        UPDATE: it serializes reservations all the same, but does not block the key-share locks
        that inserting a row referencing the venture takes (a run recording its decisions while
        holding its agent's row); FOR UPDATE deadlocked with that."""
        envelopes: list[Envelope] = []
        postgres = session.bind.dialect.name == "postgresql"
        platform = self.platform.envelopes("platform", None)
        if lock and postgres and platform:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PLATFORM_LOCK})
        if attribution.venture_id is not None:
            query = select(Venture.budget_usd_month, Venture.budget_usd_day).where(Venture.id == attribution.venture_id)
            row = (await session.execute(query.with_for_update(key_share=True) if lock else query)).first()
            if row is not None:
                envelopes += Limits(row[0], row[1]).envelopes("venture", attribution.venture_id)
        if attribution.agent_id is not None:
            query = select(Agent.budget_usd_month, Agent.budget_usd_day).where(Agent.id == attribution.agent_id)
            row = (await session.execute(query.with_for_update(key_share=True) if lock else query)).first()
            if row is not None:
                month = attribution.budget_usd_month if attribution.budget_usd_month is not None else row[0]
                # The agent's first: its envelope is the one a person reads about first.
                envelopes = Limits(month, row[1]).envelopes("agent", attribution.agent_id) + envelopes
        return envelopes + platform

    async def _spent(
        self, session: AsyncSession, attribution: Attribution, envelopes: list[Envelope], now: datetime
    ) -> dict[str, Decimal]:
        """Settled and reserved spend in each envelope's current period, in one query."""
        month, day = period_start(now, "month"), period_start(now, "day")
        columns = []
        for envelope in envelopes:
            subject = {"agent": Spend.agent_id, "venture": Spend.venture_id}.get(envelope.scope)
            condition = [Spend.created_at >= (month if envelope.period == "month" else day)]
            if subject is not None:
                condition.append(subject == envelope.subject_id)
            columns.append(func.coalesce(func.sum(case((and_(*condition), Spend.cost_usd))), 0))
        query = select(*columns).where(Spend.created_at >= month)
        if not any(e.scope == "platform" for e in envelopes):
            # Only this agent's and venture's rows count: let the indexes find them.
            wanted = []
            if attribution.agent_id is not None:
                wanted.append(Spend.agent_id == attribution.agent_id)
            if attribution.venture_id is not None:
                wanted.append(Spend.venture_id == attribution.venture_id)
            query = query.where(or_(*wanted))
        row = (await session.execute(query)).one()
        return {envelope.key: to_money(value) for envelope, value in zip(envelopes, row)}

    async def _calibration(self, session: AsyncSession, model: str, now: datetime, *, probe: bool) -> Decimal:
        """The factor on the model's estimates; raises Calibrating while its first bill is due."""
        recent = (
            select(Spend.cost_usd, Spend.estimate_usd)
            .where(
                Spend.model == model[:200],
                Spend.settled.is_(True),
                Spend.estimate_usd > 0,
                Spend.cost_usd > 0,
                # A real bill: a cut-off or abandoned call is booked at its reservation, 0 tokens.
                Spend.prompt_tokens + Spend.completion_tokens > 0,
                Spend.created_at >= now - _CALIBRATION_WINDOW,
            )
            .order_by(Spend.created_at.desc())
            .limit(_CALIBRATION_CALLS)
            .subquery()
        )
        worst, calls = (
            await session.execute(select(func.max(recent.c.cost_usd / recent.c.estimate_usd), func.count()).select_from(recent))
        ).one()
        if calls:
            return calibration(Decimal(str(worst)))
        if not probe:
            return Decimal(1)
        if session.bind.dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key, hashtext(:model))"), {"key": _MODEL_LOCK, "model": model[:200]}
            )
        in_flight = await session.scalar(
            select(func.count())
            .select_from(Spend)
            .where(
                Spend.model == model[:200],
                Spend.settled.is_(False),
                Spend.estimate_usd > 0,
                Spend.created_at >= now - _PROBE_PATIENCE,
            )
        )
        if in_flight:
            raise Calibrating(model)
        return Decimal(1)

    async def settle(
        self,
        spend_id: int,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: Decimal,
        latency_ms: int,
    ) -> None:
        """Replace the estimate with what the call really used (0 for a failed call)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Spend)
                .where(Spend.id == spend_id)
                .values(
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    cost_usd=cost_usd,
                    latency_ms=latency_ms,
                    settled=True,
                )
            )

    async def settle_abandoned(self, runless_after: timedelta, now: datetime | None = None) -> int:
        """Settle the reservations nobody is left to settle, at what was reserved; return how many.

        A reservation belongs to a call in flight. Its caller settles it, unless it died first
        (SIGKILL, a crash): then, for a run's call, once the worker that made it no longer holds
        the run (the lease expired, the run ended, or another worker claimed it since); for a
        call outside a run, once it is older than any call may last (`runless_after`). The
        provider bills a request it received whether or not anyone reads the answer, and what
        it billed is unknown here, so it is booked at the most it could be: the reservation.
        """
        now = now or utcnow()
        owner_gone = or_(
            Run.status != RunStatus.RUNNING,
            Run.lease_expires_at.is_(None),
            Run.lease_expires_at < now,
            Spend.created_at < Run.started_at,  # reserved under an earlier claim of the run
        )
        abandoned = (
            select(Spend.id)
            .outerjoin(Run, Run.id == Spend.run_id)
            .where(
                Spend.settled.is_(False),
                or_(
                    Spend.run_id.is_(None) & (Spend.created_at < now - runless_after),
                    Spend.run_id.is_not(None) & owner_gone,
                ),
            )
        )
        async with self.db.transaction() as session:
            ids = list((await session.scalars(abandoned)).all())
            if ids:
                await session.execute(update(Spend).where(Spend.id.in_(ids), Spend.settled.is_(False)).values(settled=True))
        if ids:
            log.warning("lumen.llm.reservations_settled", spend_ids=ids, booked="as reserved")
        return len(ids)

    async def month_to_date(self, agent_id: int, now: datetime | None = None) -> Decimal:
        async with self.db.sessions() as session:
            return await month_to_date(session, agent_id, now or utcnow())


def _month_to_date_query(agent_id: int, now: datetime) -> Select[tuple[Any]]:
    since = month_start(now, "UTC")
    return select(func.coalesce(func.sum(Spend.cost_usd), 0)).where(
        Spend.agent_id == agent_id, Spend.created_at >= since
    )


async def month_to_date(session: AsyncSession, agent_id: int, now: datetime) -> Decimal:
    """Settled and reserved spend of the agent since the start of the month, UTC."""
    return to_money((await session.execute(_month_to_date_query(agent_id, now))).scalar_one())
