"""The spend ledger: one `Spend` row per model call, reserved before and settled after.

Budgets are enforced here, not by litellm (whose `max_budget` does not stop calls): a call
first reserves its estimated cost, and only if the agent's month-to-date spend (settled and
reserved) plus the estimate stays within its envelope. Concurrent reservations serialize on
the agent row (`SELECT … FOR UPDATE` on Postgres) or on the database write lock (SQLite's
`BEGIN IMMEDIATE`), so two calls cannot both take the last dollar. A reservation whose caller
died is settled by `settle_abandoned`, which each replica runs as a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, Run, RunStatus, Spend
from lumen.db.session import Database
from lumen.domain.timeranges import month_start
from lumen.llm.costs import to_money
from lumen.llm.errors import BudgetExceeded
from lumen.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Attribution:
    """Who a call is for. With an agent_id, the agent's monthly budget applies.

    `budget_usd_month` overrides the agent row's `budget_usd_month`; leave it None to use the
    row (the value synced from lumen.yml). Calls without an agent (platform synthesis, ask)
    are recorded but not budgeted.
    """

    purpose: str = "decide"
    run_id: int | None = None
    agent_id: int | None = None
    venture_id: int | None = None
    budget_usd_month: Decimal | None = None


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
    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(
        self,
        attribution: Attribution,
        model: str,
        estimate_usd: Decimal,
        *,
        now: datetime | None = None,
    ) -> int:
        """Insert an unsettled row holding the estimate; raise BudgetExceeded instead if over."""
        now = now or utcnow()
        async with self.db.transaction() as session:
            if attribution.agent_id is not None:
                await self._check_budget(session, attribution, model, estimate_usd, now)
            row = _spend_row(attribution, model, cost_usd=estimate_usd, settled=False, created_at=now)
            session.add(row)
            await session.flush()
            return row.id

    async def check(self, attribution: Attribution, model: str, estimate_usd: Decimal) -> None:
        """The budget check alone, for a free call: nothing to reserve, but a spent envelope still stops it."""
        if attribution.agent_id is None:
            return
        async with self.db.sessions() as session:
            await self._check_budget(session, attribution, model, estimate_usd, utcnow(), lock=False)

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

    async def _check_budget(
        self,
        session: AsyncSession,
        attribution: Attribution,
        model: str,
        estimate_usd: Decimal,
        now: datetime,
        *,
        lock: bool = True,
    ) -> None:
        agent_id = attribution.agent_id
        if agent_id is None:  # not an agent's call: no envelope applies
            return
        if lock:
            # The lock on the agent row is what serializes reservations on Postgres;
            # SQLAlchemy leaves FOR UPDATE out on SQLite, where BEGIN IMMEDIATE already did it.
            query = select(Agent.budget_usd_month).where(Agent.id == agent_id).with_for_update()
            row_budget = (await session.execute(query)).scalar_one_or_none()
            spent = await month_to_date(session, agent_id, now)
        else:
            # Nothing to serialize: the budget and the month's spend in one round trip.
            query = select(Agent.budget_usd_month, _month_to_date_query(agent_id, now).scalar_subquery())
            row = (await session.execute(query.where(Agent.id == agent_id))).first()
            row_budget, spent = (row[0], to_money(row[1])) if row is not None else (None, Decimal(0))
        budget = (
            attribution.budget_usd_month if attribution.budget_usd_month is not None else row_budget
        )
        if budget is None:
            return
        if spent + estimate_usd > Decimal(budget):
            raise BudgetExceeded(agent_id, Decimal(budget), spent, estimate_usd, model)

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
