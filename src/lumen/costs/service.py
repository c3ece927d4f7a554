"""Where the money went this month, what it bought, and where each envelope is heading.

`lumen costs` and `/lumen costs` both show this one report. Months are UTC, as the envelopes
are. Cost per decision and per successful outcome count everything a venture spent (decisions,
synthesis, questions) against the decisions it made and the successes recorded this month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from collections.abc import Callable, Iterable
import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.costs import repository
from lumen.costs.charts import CostChart, charts_for, files_of, queue_uploads, scope_key
from lumen.costs.repository import SpendPoint
from lumen.db.models import Agent
from lumen.domain.budgets import Limits, period_start
from lumen.domain.forecast import WINDOW_DAYS, daily_totals, forecast_path, project_month
from lumen.llm import Gateway
from lumen.llm.models import is_offline
from lumen.render.charts import SpendSeries
from lumen.render.home_costs import HomeCosts, charted
from lumen.render.costs import CostsReport, EnvelopeLine, SpendLine, UnitCost, WakeEstimate
from lumen.ventures import service as ventures


async def costs_report(
    session: AsyncSession,
    venture_ref: str | None,
    now: datetime,
    platform: Limits | None = None,
    pricing: WakePricing | None = None,
    hidden: frozenset[str] = frozenset(),
) -> CostsReport:
    """The month's report; with `pricing`, each agent's next wake-up is estimated too.
    `hidden`: private ventures the reader may not see, left out with their spend."""
    month = period_start(now, "month")
    scoped = (
        [await ventures.find_venture(session, venture_ref, hidden)]
        if venture_ref
        else [v for v in await ventures.active_ventures(session) if v.slug not in hidden]
    )
    ids = [v.id for v in scoped]
    slugs = {v.id: v.slug for v in scoped}
    history_start = min(month, period_start(now, "day") - timedelta(days=WINDOW_DAYS))
    points = await repository.spend_since(session, history_start, scoped[0].id if venture_ref else None)
    unseen = {v.id for v in await ventures.active_ventures(session) if v.slug in hidden}
    points = [p for p in points if p.venture_id not in unseen]
    this_month = [p for p in points if p.at >= month and (venture_ref is None or p.venture_id in slugs)]
    agents = await repository.agents_of(session, ids)
    roles = {agent.id: f"{slug}/{agent.role}" for agent, slug in agents}

    def venture_of(p: SpendPoint) -> str:
        return slugs.get(p.venture_id, "(platform)") if p.venture_id is not None else "(platform)"

    def agent_of(p: SpendPoint) -> str:
        return roles.get(p.agent_id, f"agent {p.agent_id}") if p.agent_id is not None else f"{venture_of(p)}/—"

    envelopes: list[EnvelopeLine] = []
    if venture_ref is None and platform is not None and platform.month_usd is not None:
        envelopes.append(_envelope("the platform", "platform", points, now, platform.month_usd))
    for venture in scoped:
        mine = [p for p in points if p.venture_id == venture.id]
        envelopes.append(_envelope(venture.slug, "venture", mine, now, venture.budget_usd_month))
    for agent, slug in agents:
        mine = [p for p in points if p.agent_id == agent.id]
        envelopes.append(_envelope(f"{slug}/{agent.role}", "agent", mine, now, agent.budget_usd_month))

    decisions = await repository.decisions_since(session, month, ids)
    successes = await repository.successes_since(session, month, ids)
    spend_by_venture = _sum_by(this_month, lambda p: p.venture_id)
    units = [
        UnitCost(
            venture=v.slug,
            spent_usd=spend_by_venture.get(v.id, Decimal(0)),
            decisions=decisions.get(v.id, 0),
            successes=successes.get(v.id, 0),
        )
        for v in scoped
    ]
    if venture_ref:  # as App Home draws it: the same chart, shared within the hour
        chart = next((e.series for e in _measured(envelopes)[0]), None)
    else:  # everything the reader may see, against the platform's budget if there is one
        chart = _envelope("all ventures", "platform", points, now, platform.month_usd if platform else None).series
    return CostsReport(
        chart=chart,
        month=now.strftime("%B %Y"),
        scope=scoped[0].slug if venture_ref else "all ventures",
        total_usd=sum((p.cost_usd for p in this_month), Decimal(0)),
        calls=len(this_month),
        by_venture=_lines(this_month, venture_of) if venture_ref is None else [],
        by_agent=_lines(this_month, agent_of),
        by_purpose=_lines(this_month, lambda p: p.purpose),
        by_model=_lines(this_month, lambda p: p.model),
        units=units,
        envelopes=envelopes,
        simulated=any(is_offline(p.model) and p.cost_usd for p in this_month),
        wakes=[await _wake_estimate(session, slug, agent, pricing, now) for agent, slug in agents] if pricing else [],
    )


__all__ = ["CostChart", "files_of", "queue_uploads"]  # the charts' face, for the edges


async def home_costs(
    session: AsyncSession, now: datetime, platform: Limits | None, hidden: frozenset[str]
) -> tuple[HomeCosts, list[CostChart]]:
    """App Home's costs for a viewer (`hidden`: the private ventures they may not see), and the
    charts it shows, some perhaps still to upload (`charts.queue_uploads`, in the writing
    transaction). A venture without a budget of its own is measured against its agents' together."""
    report = await costs_report(session, None, now, platform, hidden=hidden)
    agent_lines = [e for e in report.envelopes if e.scope == "agent"]
    lines, summed = _measured(report.envelopes)
    made = await charts_for(session, {e.name: e.series for e in charted(lines) if e.series is not None}, now)
    blocks = {chart.key.split(":")[1]: chart.block for chart in made}
    view = HomeCosts(
        month=report.month,
        ventures=lines,
        units={u.venture: u for u in report.units},
        agents=agent_lines,
        charts=blocks,
        simulated=report.simulated,
        summed=frozenset(summed),
    )
    return view, made


def _measured(envelopes: list[EnvelopeLine]) -> tuple[list[EnvelopeLine], set[str]]:
    """The ventures' lines, each against its budget or, without one, its agents' together
    (and which are so measured): what App Home and the charts show."""
    agents = [e for e in envelopes if e.scope == "agent"]
    lines, summed = [], set()
    for line in (e for e in envelopes if e.scope == "venture"):
        budgets = [a.budget_usd for a in agents if a.name.startswith(f"{line.name}/") and a.budget_usd is not None]
        if line.budget_usd is None and budgets:
            total = sum(budgets, Decimal(0))
            series = replace(line.series, budget_usd=total) if line.series else None
            line = replace(line, projection=replace(line.projection, budget_usd=total), series=series)
            summed.add(line.name)
        lines.append(line)
    return lines, summed


async def report_chart(session: AsyncSession, report: CostsReport, hidden: frozenset[str], now: datetime) -> CostChart | None:
    """`/lumen costs`' chart: the venture's, or everything the reader sees."""
    if report.chart is None:
        return None
    scope = report.scope if report.scope != "all ventures" else scope_key([v.slug for v in await ventures.active_ventures(session) if v.slug not in hidden])
    made = await charts_for(session, {scope: report.chart}, now)
    return made[0] if made else None


def _envelope(name: str, scope: str, points: list[SpendPoint], now: datetime, budget: Decimal | None) -> EnvelopeLine:
    daily = daily_totals([(p.at, p.cost_usd) for p in points])
    simulated = any(is_offline(p.model) and p.cost_usd for p in points)
    return EnvelopeLine(
        name=name, scope=scope, projection=project_month(daily, now, budget), series=spend_series(name, daily, now, budget, simulated)
    )


def spend_series(name: str, daily: dict[date, Decimal], now: datetime, budget: Decimal | None, simulated: bool = False) -> SpendSeries:
    """What the chart draws: the month's cumulative spend, day by day up to now, and the
    forecast path from now to the month's end."""
    now = now.astimezone(UTC)
    first = datetime(now.year, now.month, 1, tzinfo=UTC)

    def position(at: datetime) -> float:
        return 1 + (at - first).total_seconds() / 86400

    spent: list[tuple[float, Decimal]] = [(1.0, Decimal(0))]
    total = Decimal(0)
    for day in range(1, now.day):
        total += daily.get(date(now.year, now.month, day), Decimal(0))
        spent.append((float(day + 1), total))
    total += daily.get(now.date(), Decimal(0))
    spent.append((position(now), total))
    path = forecast_path(daily, now)
    return SpendSeries(
        name=name,
        month=now.strftime("%B %Y"),
        days_in_month=calendar.monthrange(now.year, now.month)[1],
        spent=tuple(spent),
        forecast=tuple((position(p.at), p.expected_usd, p.low_usd, p.high_usd) for p in path),
        budget_usd=budget,
        simulated=simulated,
    )


def _sum_by(points: Iterable[SpendPoint], key) -> dict:  # type: ignore[no-untyped-def, type-arg]
    out: dict = defaultdict(Decimal)  # type: ignore[type-arg]
    for p in points:
        out[key(p)] += p.cost_usd
    return dict(out)


def _lines(points: list[SpendPoint], key) -> list[SpendLine]:  # type: ignore[no-untyped-def]
    spent: dict[str, Decimal] = defaultdict(Decimal)
    calls: dict[str, int] = defaultdict(int)
    for p in points:
        spent[key(p)] += p.cost_usd
        calls[key(p)] += 1
    return sorted((SpendLine(label, spent[label], calls[label]) for label in spent), key=lambda line: (-line.spent_usd, line.label))


# The prompt around the context (instructions, the tool's schema): a generous allowance.
_PROMPT_OVERHEAD_TOKENS = 1500
_RECENT_RUNS = 10


@dataclass(frozen=True)
class WakePricing:
    """How to price a wake-up: `model` maps a tier to its model today, `price(model, prompt,
    completion)` prices a call (the gateway's), and the sizes its calls may reach."""

    model: Callable[[str], str]
    price: Callable[[str, int, int], Decimal]
    context_tokens: int
    max_output_tokens: int


def wake_pricing(gateway: Gateway, context_tokens: int) -> WakePricing:
    """Pricing as the gateway would price the agent's calls today."""
    return WakePricing(
        model=lambda tier: gateway.tiers.chain(tier)[0],  # type: ignore[arg-type]
        price=gateway.price,
        context_tokens=context_tokens,
        max_output_tokens=gateway.options.max_output_tokens,
    )


async def estimate_wake(session: AsyncSession, venture_ref: str, role: str, pricing: WakePricing, now: datetime) -> WakeEstimate:
    """The expected cost of the agent's next wake-up: its recent runs' tokens at today's
    prices for the model its tier uses now; and the most a call of it may reserve."""
    venture = await ventures.find_venture(session, venture_ref)
    return await _wake_estimate(session, venture.slug, ventures.find_agent(venture, role), pricing, now)


async def _wake_estimate(session: AsyncSession, slug: str, agent: Agent, pricing: WakePricing, now: datetime) -> WakeEstimate:
    used = pricing.model(agent.model_tier)
    runs = await repository.recent_run_usage(session, agent.id, _RECENT_RUNS)
    priced = [pricing.price(used, r.prompt_tokens, r.completion_tokens) for r in runs]
    calls = sum(r.calls for r in runs) / len(runs) if runs else 1.0
    ceiling = pricing.price(used, pricing.context_tokens + _PROMPT_OVERHEAD_TOKENS, pricing.max_output_tokens)
    return WakeEstimate(
        agent=f"{slug}/{agent.role}",
        model=used,
        runs_seen=len(runs),
        calls_per_run=calls,
        prompt_tokens=round(sum(r.prompt_tokens for r in runs) / len(runs)) if runs else 0,
        completion_tokens=round(sum(r.completion_tokens for r in runs) / len(runs)) if runs else 0,
        expected_usd=sum(priced, Decimal(0)) / len(priced) if priced else None,
        low_usd=min(priced) if priced else None,
        high_usd=max(priced) if priced else None,
        ceiling_usd=ceiling * Decimal(str(max(1.0, calls))),
        spent_usd=await repository.agent_spend_since(session, agent.id, period_start(now, "month")),
        budget_usd=agent.budget_usd_month,
        simulated=is_offline(used) and ceiling > 0,
    )
