"""App Home's costs: each venture the viewer may see, its spend this month against its
budget, where it is heading by month end, what a decision and a success cost, the envelopes
heading over, and charts of the ventures nearest their budgets. Pure: data in, blocks out.

A section of its own (home.py only places it), so other parts of App Home change apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from lumen.render.common import context, escape, header, section, usd
from lumen.render.costs import SIMULATED_NOTE, EnvelopeLine, UnitCost
from lumen.render.limits import Block, clip

MAX_LINES = 12
MAX_WARNINGS = 6
MAX_CHARTS = 3


@dataclass(frozen=True)
class HomeCosts:
    month: str  # "December 2026"
    ventures: list[EnvelopeLine]  # one per venture the viewer may see
    units: dict[str, UnitCost] = field(default_factory=dict)  # by venture slug
    agents: list[EnvelopeLine] = field(default_factory=list)  # their agents' envelopes, for warnings
    charts: dict[str, Block] = field(default_factory=dict)  # venture slug → its chart's image block
    simulated: bool = False
    summed: frozenset[str] = frozenset()  # ventures without a budget of their own: their agents' together


def _share(spent: Decimal, budget: Decimal | None, summed: bool) -> str:
    if budget is None:
        return " (no budget)"
    whose = " (its agents' budgets)" if summed else ""
    if not budget:
        return f" of {usd(budget)}{whose}"
    return f" of {usd(budget)}{whose}, {spent / budget:.0%}"


def _line(e: EnvelopeLine, unit: UnitCost | None, summed: bool) -> str:
    p = e.projection
    mark = "🟥" if p.crosses_budget else "🟨" if p.may_cross_budget else "🟩"
    parts = [
        f"{mark} *{escape(e.name)}* · {usd(p.spent_usd)}{_share(p.spent_usd, p.budget_usd, summed)}",
        f"→ {usd(p.expected_usd)} by month end ({usd(p.low_usd)}–{usd(p.high_usd)})" + (" _rough_" if p.rough and p.spent_usd else ""),
    ]
    if unit is not None and unit.per_decision is not None:
        parts.append(f"{usd(unit.per_decision)} a decision")
    if unit is not None and unit.per_success is not None:
        parts.append(f"{usd(unit.per_success)} a success")
    return " · ".join(parts)


def _warning(e: EnvelopeLine) -> str | None:
    p = e.projection
    if p.budget_usd is None or not p.budget_usd:
        return None
    if p.spent_usd >= p.budget_usd:
        return f"⛔ *{escape(e.name)}* has spent its {usd(p.budget_usd)} for the month: its calls are stopped."
    if p.spent_usd >= p.budget_usd * Decimal("0.8"):
        return f"⚠️ *{escape(e.name)}* has spent {p.spent_usd / p.budget_usd:.0%} of its {usd(p.budget_usd)}."
    if p.crosses_budget:
        return f"⚠️ *{escape(e.name)}* is heading over its {usd(p.budget_usd)}: {usd(p.expected_usd)} expected by month end."
    return None


def charted(ventures: list[EnvelopeLine], limit: int = MAX_CHARTS) -> list[EnvelopeLine]:
    """The ventures whose charts App Home shows: those with spend, nearest their budgets first."""

    def risk(e: EnvelopeLine) -> tuple[int, Decimal, Decimal]:
        p = e.projection
        ratio = p.expected_usd / p.budget_usd if p.budget_usd else Decimal(0)
        return (0 if p.crosses_budget else 1, -ratio, -p.spent_usd)

    return sorted((e for e in ventures if e.projection.spent_usd > 0), key=risk)[:limit]


def home_costs_blocks(costs: HomeCosts) -> list[Block]:
    if not costs.ventures:
        return []
    lines = [_line(e, costs.units.get(e.name), e.name in costs.summed) for e in costs.ventures[:MAX_LINES]]
    if len(costs.ventures) > MAX_LINES:
        lines.append(f"… and {len(costs.ventures) - MAX_LINES} more: `/lumen costs`")
    blocks: list[Block] = [header(f"Costs · {costs.month} (UTC)"), section(clip("\n".join(lines), 3000))]
    # A venture's summed budget is no envelope of its own: its agents' warn for it.
    warnings = [w for e in [*costs.ventures, *costs.agents] if e.name not in costs.summed and (w := _warning(e))]
    if warnings:
        shown = warnings[:MAX_WARNINGS] + ([f"… and {len(warnings) - MAX_WARNINGS} more"] if len(warnings) > MAX_WARNINGS else [])
        blocks.append(section(clip("\n".join(shown), 3000)))
    blocks += [costs.charts[e.name] for e in charted(costs.ventures) if e.name in costs.charts]
    notes = ["Month end: the last week's daily rate, with an 80 % range. `/lumen costs [venture]` has the detail."]
    if costs.simulated:
        notes.append(SIMULATED_NOTE)
    blocks.append(context(*notes))
    return blocks
