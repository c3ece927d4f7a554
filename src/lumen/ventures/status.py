"""The status read model behind `/lumen status`: what each venture is doing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import AgentStatus
from lumen.domain.cron import next_fire_time
from lumen.domain.timeranges import month_start
from lumen.errors import NotFound
from lumen.render.status import AgentLine, StatusReport, VentureStatus
from lumen.ventures import repository


def _chart(found: tuple[int, str, str] | None) -> dict[str, object]:
    if found is None:
        return {}
    version, file_id, alt = found
    return {"brain_version": version, "chart_file": file_id, "chart_alt": alt}


async def venture_status(
    session: AsyncSession,
    *,
    venture_ref: str | None = None,
    workspace_tz: str = "UTC",
    now: datetime | None = None,
    channel_id: str | None = None,
    hidden: frozenset[str] = frozenset(),
) -> StatusReport:
    """Every venture, or the one `venture_ref` names; asked in a venture's channel
    (`channel_id`) with no ref, that channel's venture. `hidden`: private ventures the asker
    may not see, left out as if they did not exist."""
    now = now or utcnow()
    ventures = [v for v in await repository.active_ventures(session) if v.slug not in hidden]
    in_channel = None
    if not venture_ref and channel_id:
        in_channel = next((v for v in ventures if v.channel_id == channel_id), None)
        ventures = [in_channel] if in_channel is not None else ventures
    if venture_ref:
        found = repository.match_venture(ventures, venture_ref)
        if found is None:
            hint = repository.suggest_ventures(ventures, venture_ref)
            known = ", ".join(v.slug for v in ventures) or "none yet"
            raise NotFound(
                f"No venture called “{venture_ref}”."
                + (f" Did you mean {' or '.join(hint)}?" if hint else f" Known ventures: {known}.")
            )
        ventures = [found]
    agent_ids = [a.id for v in ventures for a in v.agents if a.archived_at is None]
    last = await repository.last_runs(session, agent_ids)
    pending = await repository.pending_approval_counts(session)
    spend = await repository.spend_since(session, month_start(now, workspace_tz))
    charts = await repository.latest_charts(session, [v.id for v in ventures])

    rows = []
    for venture in ventures:
        lines = []
        for agent in venture.agents:
            if agent.archived_at is not None:
                continue
            run = last.get(agent.id)
            active = agent.status == AgentStatus.ACTIVE
            lines.append(
                AgentLine(
                    role=agent.role,
                    status=agent.status.value,
                    model_tier=agent.model_tier,
                    schedule=agent.schedule,
                    budget_usd_month=agent.budget_usd_month,
                    last_wake=(run.started_at or run.created_at) if run else None,
                    last_run_status=run.status.value if run else None,
                    next_wake=next_fire_time(agent.schedule, venture.timezone, now)
                    if active
                    else None,
                )
            )
        rows.append(
            VentureStatus(
                slug=venture.slug,
                name=venture.name,
                stage=venture.stage,
                channel=venture.channel,
                channel_id=venture.channel_id,
                agents=tuple(lines),
                pending_approvals=pending.get(venture.id, 0),
                spend_month_usd=spend.get(venture.id, Decimal(0)),
                budget_month_usd=sum((a.budget_usd_month for a in lines), Decimal(0)),
                private=venture.private,
                **_chart(charts.get(venture.id)),
            )
        )
    return StatusReport(ventures=tuple(rows), as_of=now, timezone=workspace_tz, narrowed_to_channel=in_channel is not None)


class StatusCache:
    """A second's worth of status, shared by everyone who asks in that second.

    Status is read-only and the same for every viewer; a burst of `/lumen status`
    (a team opening their day) costs one set of queries, not one per person.
    Concurrent askers of a key that is being loaded wait for that one load.

    `ready` serves what is in memory without waiting: a report up to `max_age` seconds old
    (it says "as of" when), and tells the caller when it is due for a refresh, so that a burst
    arriving just after the second is up is still answered at once while one load runs.

    `refresh_when_quiet` starts that refresh once the askers pause for `quiet` seconds, or at
    once when the report is `urgent` old: a load is a handful of queries whose steps share the
    event loop with the acks, and run in the middle of a burst they were what its slowest
    answers waited for (`benchmarks/ack_latency.py`).
    """

    def __init__(
        self,
        ttl: float = 1.0,
        max_age: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        quiet: float = 0.05,
        urgent: float = 3.0,
    ) -> None:
        self.ttl, self.max_age, self.clock = ttl, max_age, clock
        self.quiet, self.urgent = quiet, min(urgent, max_age)
        self._latest: dict[tuple[str | None, str], tuple[float, StatusReport]] = {}
        self._loading: dict[tuple[str | None, str], asyncio.Future[StatusReport]] = {}
        self._waiting: dict[tuple[str | None, str], asyncio.TimerHandle] = {}

    def refresh_when_quiet(self, key: tuple[str | None, str], start: Callable[[], object]) -> None:
        """Call `start` (which loads `key` again) when nobody asked for `quiet` seconds, or now
        if the report in memory is `urgent` old. Each ask in between moves the moment on."""
        waiting = self._waiting.pop(key, None)
        if waiting is not None:
            waiting.cancel()
        latest = self._latest.get(key)
        if latest is None or self.clock() - latest[0] >= self.urgent:
            start()
            return

        def fire() -> None:
            self._waiting.pop(key, None)
            if key not in self._loading:
                start()

        self._waiting[key] = asyncio.get_running_loop().call_later(self.quiet, fire)

    def ready(self, key: tuple[str | None, str]) -> tuple[StatusReport | None, bool]:
        """(the latest report for `key` if at most `max_age` old, whether a refresh is due
        and not yet running). Never waits."""
        latest = self._latest.get(key)
        if latest is None:
            return None, False
        age = self.clock() - latest[0]
        if age > self.max_age:
            return None, False
        return latest[1], age >= self.ttl and key not in self._loading

    async def get(
        self, key: tuple[str | None, str], load: Callable[[], Awaitable[StatusReport]]
    ) -> StatusReport:
        """A report at most `ttl` old: the cached one, the one being loaded, or a new load."""
        latest = self._latest.get(key)
        if latest is not None and self.clock() - latest[0] < self.ttl:
            return latest[1]
        future = self._loading.get(key)
        if future is None:
            future = asyncio.ensure_future(self._load(key, load))
            self._loading[key] = future
        return await asyncio.shield(future)

    async def _load(self, key: tuple[str | None, str], load: Callable[[], Awaitable[StatusReport]]) -> StatusReport:
        started = self.clock()
        try:
            report = await load()  # a failure (or an unknown venture) is not remembered
            self._latest[key] = (started, report)
            return report
        finally:
            self._loading.pop(key, None)
