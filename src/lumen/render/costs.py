"""`/lumen costs` and `lumen costs`: spend this month by venture, agent, purpose and model,
unit costs, and each envelope's month-end projection. Pure: a report in, blocks or text out."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lumen.domain.forecast import Projection
from lumen.render.charts import SpendSeries
from lumen.render.common import context, escape, fields_section, header, section, usd
from lumen.render.limits import Block, check_blocks, clip
from lumen.render.tables import table

_MAX_LINES = 12


@dataclass(frozen=True)
class SpendLine:
    label: str
    spent_usd: Decimal
    calls: int


@dataclass(frozen=True)
class UnitCost:
    venture: str
    spent_usd: Decimal
    decisions: int
    successes: int

    @property
    def per_decision(self) -> Decimal | None:
        return self.spent_usd / self.decisions if self.decisions else None

    @property
    def per_success(self) -> Decimal | None:
        return self.spent_usd / self.successes if self.successes else None


@dataclass(frozen=True)
class EnvelopeLine:
    name: str  # "the platform", "acme", "acme/ceo"
    scope: str  # platform | venture | agent
    projection: Projection
    series: SpendSeries | None = None  # for its chart

    @property
    def budget_usd(self) -> Decimal | None:
        return self.projection.budget_usd


@dataclass(frozen=True)
class CostsReport:
    month: str
    scope: str
    total_usd: Decimal
    calls: int
    by_venture: list[SpendLine] = field(default_factory=list)
    by_agent: list[SpendLine] = field(default_factory=list)
    by_purpose: list[SpendLine] = field(default_factory=list)
    by_model: list[SpendLine] = field(default_factory=list)
    units: list[UnitCost] = field(default_factory=list)
    envelopes: list[EnvelopeLine] = field(default_factory=list)
    simulated: bool = False  # spend on the offline model's simulated prices
    wakes: list[WakeEstimate] = field(default_factory=list)  # each agent's next wake-up
    chart: SpendSeries | None = None  # the scope's month against its budget, for the chart

    @property
    def warnings(self) -> list[EnvelopeLine]:
        return [e for e in self.envelopes if e.projection.crosses_budget]


SIMULATED_NOTE = "Spend on the offline model is at its simulated price table (not real money): it shows how costs work."


def _range(p: Projection) -> str:
    return f"{usd(p.low_usd)}–{usd(p.high_usd)}"


def _envelope_line(e: EnvelopeLine) -> str:
    p = e.projection
    mark = "🟥" if p.crosses_budget else "🟨" if p.may_cross_budget else "🟩"
    budget = f" of {usd(p.budget_usd)}" if p.budget_usd is not None else " (no budget)"
    rough = " _(rough: few days seen)_" if p.rough and p.spent_usd else ""
    return f"{mark} *{escape(e.name)}* · {usd(p.spent_usd)} so far · → {usd(p.expected_usd)} ({_range(p)}){budget}{rough}"


def _spend_lines(lines: list[SpendLine]) -> str:
    shown = [f"{escape(line.label)} · {usd(line.spent_usd)} · {line.calls} calls" for line in lines[:_MAX_LINES]]
    if len(lines) > _MAX_LINES:
        shown.append(f"… and {len(lines) - _MAX_LINES} more")
    return "\n".join(shown) or "_none_"


def _unit_line(u: UnitCost) -> str:
    per_decision = f"{usd(u.per_decision)} a decision ({u.decisions})" if u.per_decision is not None else "no decisions yet"
    per_success = f"{usd(u.per_success)} a success ({u.successes})" if u.per_success is not None else "no successes recorded"
    return f"*{escape(u.venture)}* · {per_decision} · {per_success}"


def _wake_line(w: WakeEstimate) -> str:
    if w.expected_usd is None:
        return f"*{escape(w.agent)}* · no run yet: at most {usd(w.ceiling_usd)} on {escape(w.model)}"
    return f"*{escape(w.agent)}* · {usd(w.expected_usd)} ({usd(w.low_usd)}–{usd(w.high_usd)}) on {escape(w.model)}, from its last {w.runs_seen} runs"


def chart_block(file_id: str, alt_text: str, title: str) -> Block:
    """An uploaded chart (by its file id, or the outbox's placeholder for it)."""
    return {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": clip(alt_text or title, 2000),
        "title": {"type": "plain_text", "text": clip(title, 2000)},
    }


def costs_blocks(report: CostsReport, chart: Block | None = None) -> list[Block]:
    """`chart`: the scope's spend-against-budget image, when it is already in Slack."""
    blocks: list[Block] = [
        header(f"Costs · {report.scope} · {report.month} (UTC)"),
        section(f"*{usd(report.total_usd)}* this month in {report.calls} model calls, settled and reserved."),
    ]
    if chart is not None:
        blocks.append(chart)
    for e in report.warnings[:5]:
        p = e.projection
        blocks.append(
            section(
                f"⚠️ *{escape(e.name)}* is heading over its budget: {usd(p.expected_usd)} expected by month end "
                f"({_range(p)}) against {usd(p.budget_usd)}, at {usd(p.daily_rate_usd)} a day."
            )
        )
    envelopes = report.envelopes[:_MAX_LINES]
    more = len(report.envelopes) - len(envelopes)
    lines = [_envelope_line(e) for e in envelopes] + ([f"… and {more} more"] if more > 0 else [])
    blocks.append(section("*Month-end projection per envelope*\n" + ("\n".join(lines) or "_no envelopes_")))
    parts = [("By venture", report.by_venture), ("By agent", report.by_agent), ("By purpose", report.by_purpose), ("By model", report.by_model)]
    blocks.append(fields_section([f"*{title}*\n{_spend_lines(lines)}" for title, lines in parts if lines or title != "By venture"]))
    if report.units:
        blocks.append(section("*What it bought*\n" + "\n".join(_unit_line(u) for u in report.units[:_MAX_LINES])))
    if report.wakes:
        lines = [_wake_line(w) for w in report.wakes[:_MAX_LINES]]
        if len(report.wakes) > _MAX_LINES:
            lines.append(f"… and {len(report.wakes) - _MAX_LINES} more")
        blocks.append(section("*Next wake-up, expected*\n" + "\n".join(lines)))
    notes = [
        "Projection: the last week's daily rate to month end; the range is an 80 % band from how much those days varied. "
        "Unit costs: all of a venture's spend this month over its decisions this month, and over the successes recorded this month."
    ]
    if report.simulated:
        notes.append(SIMULATED_NOTE)
    blocks.append(context(*notes))
    return check_blocks(blocks)


def chart_follow_up(chart: Block, simulated: bool) -> list[Block]:
    """The chart sent after the report, once it is drawn and uploaded."""
    note = "Cumulative spend per day (UTC), the budget, and the forecast to month end with its 80 % range."
    return check_blocks([chart, context(note + (f" {SIMULATED_NOTE}" if simulated else ""))])


def chart_missing() -> list[Block]:
    return [context("The spend chart could not be uploaded; its numbers are in the report above.")]


def costs_text(report: CostsReport) -> str:
    """The notification text beside the blocks."""
    warn = f"; {len(report.warnings)} heading over budget" if report.warnings else ""
    return f"Costs for {report.scope}, {report.month}: {usd(report.total_usd)} in {report.calls} calls{warn}."


def costs_table(report: CostsReport) -> str:
    """The same report for the terminal."""
    out = [f"Costs · {report.scope} · {report.month} (UTC): {usd(report.total_usd)} in {report.calls} model calls", ""]
    rows = []
    for e in report.envelopes:
        p = e.projection
        flag = "OVER BUDGET" if p.crosses_budget else "may cross" if p.may_cross_budget else ""
        rows.append([e.name, e.scope, usd(p.spent_usd), usd(p.expected_usd), _range(p), usd(p.budget_usd), flag + (" (rough)" if p.rough and p.spent_usd else "")])
    out.append(table(["ENVELOPE", "SCOPE", "SPENT", "PROJECTED", "RANGE (80%)", "BUDGET", ""], rows))
    for title, lines in (("VENTURE", report.by_venture), ("AGENT", report.by_agent), ("PURPOSE", report.by_purpose), ("MODEL", report.by_model)):
        if lines:
            out += ["", table([title, "SPENT", "CALLS"], [[line.label, usd(line.spent_usd), line.calls] for line in lines])]
    if report.units:
        rows = [[u.venture, usd(u.spent_usd), u.decisions, usd(u.per_decision), u.successes, usd(u.per_success)] for u in report.units]
        out += ["", table(["VENTURE", "SPENT", "DECISIONS", "PER DECISION", "SUCCESSES", "PER SUCCESS"], rows)]
    if report.wakes:
        rows = [[w.agent, w.model, usd(w.expected_usd), f"{usd(w.low_usd)}–{usd(w.high_usd)}" if w.low_usd is not None else "", usd(w.ceiling_usd), w.runs_seen] for w in report.wakes]
        out += ["", table(["NEXT WAKE", "MODEL", "EXPECTED", "RANGE", "AT MOST", "RUNS"], rows)]
    for e in report.warnings:
        out += ["", f"warning: {e.name} is heading over its budget: {usd(e.projection.expected_usd)} expected against {usd(e.budget_usd)}"]
    if report.simulated:
        out += ["", SIMULATED_NOTE]
    return "\n".join(out)


def _money(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 6)


def costs_json(report: CostsReport) -> dict[str, Any]:
    def lines(items: list[SpendLine]) -> list[dict[str, Any]]:
        return [{"name": line.label, "spent_usd": _money(line.spent_usd), "calls": line.calls} for line in items]

    return {
        "month": report.month,
        "timezone": "UTC",
        "scope": report.scope,
        "total_usd": _money(report.total_usd),
        "calls": report.calls,
        "simulated_prices": report.simulated,
        "by_venture": lines(report.by_venture),
        "by_agent": lines(report.by_agent),
        "by_purpose": lines(report.by_purpose),
        "by_model": lines(report.by_model),
        "unit_costs": [
            {
                "venture": u.venture,
                "spent_usd": _money(u.spent_usd),
                "decisions": u.decisions,
                "per_decision_usd": _money(u.per_decision),
                "successes": u.successes,
                "per_success_usd": _money(u.per_success),
            }
            for u in report.units
        ],
        "next_wake": [wake_estimate_json(w) for w in report.wakes],
        "envelopes": [
            {
                "name": e.name,
                "scope": e.scope,
                "spent_usd": _money(e.projection.spent_usd),
                "budget_usd": _money(e.projection.budget_usd),
                "projected_usd": _money(e.projection.expected_usd),
                "range_usd": [_money(e.projection.low_usd), _money(e.projection.high_usd)],
                "daily_rate_usd": _money(e.projection.daily_rate_usd),
                "days_seen": e.projection.days_seen,
                "over_budget_projected": e.projection.crosses_budget,
            }
            for e in report.envelopes
        ],
    }


@dataclass(frozen=True)
class WakeEstimate:
    agent: str  # acme/ceo
    model: str
    runs_seen: int
    calls_per_run: float
    prompt_tokens: int  # per run, on average
    completion_tokens: int
    expected_usd: Decimal | None  # None: no run to learn from yet
    low_usd: Decimal | None
    high_usd: Decimal | None
    ceiling_usd: Decimal  # the most its calls may reserve
    spent_usd: Decimal  # this month (UTC)
    budget_usd: Decimal
    simulated: bool = False

    @property
    def wakes_left(self) -> int | None:
        """How many more wake-ups like the expected one fit in the month's budget."""
        per_wake = self.expected_usd or self.ceiling_usd
        if not per_wake:
            return None
        return max(0, int((self.budget_usd - self.spent_usd) / per_wake))


def wake_estimate_text(e: WakeEstimate) -> str:
    prices = " (simulated prices)" if e.simulated else ""
    lines = [f"{e.agent} wake-up on {e.model}{prices}"]
    if e.expected_usd is None:
        lines.append("  expected  unknown: no run of this agent called a model yet")
    else:
        runs = f"{e.runs_seen} run" + ("s" if e.runs_seen != 1 else "")
        lines.append(
            f"  expected  {usd(e.expected_usd)}  (last {runs}: {e.calls_per_run:.1f} calls, "
            f"{e.prompt_tokens:,} prompt + {e.completion_tokens:,} completion tokens each on average)"
        )
        lines.append(f"  range     {usd(e.low_usd)}–{usd(e.high_usd)}  (the cheapest and dearest of those runs, at today's prices)")
    lines.append(f"  at most   {usd(e.ceiling_usd)}  (what its calls reserve: a full context and the whole output cap)")
    left = e.wakes_left
    fits = f": about {left:,} more wake-ups fit" if left is not None else ""
    lines.append(f"  budget    {usd(e.spent_usd)} of {usd(e.budget_usd)} spent this month (UTC){fits}")
    return "\n".join(lines)


def wake_estimate_json(e: WakeEstimate) -> dict[str, Any]:
    return {
        "agent": e.agent,
        "model": e.model,
        "simulated_prices": e.simulated,
        "runs_seen": e.runs_seen,
        "calls_per_run": round(e.calls_per_run, 3),
        "prompt_tokens_per_run": e.prompt_tokens,
        "completion_tokens_per_run": e.completion_tokens,
        "expected_usd": _money(e.expected_usd),
        "range_usd": [_money(e.low_usd), _money(e.high_usd)],
        "ceiling_usd": _money(e.ceiling_usd),
        "spent_usd": _money(e.spent_usd),
        "budget_usd": _money(e.budget_usd),
        "wakes_left": e.wakes_left,
    }
