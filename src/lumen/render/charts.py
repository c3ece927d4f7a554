"""Charts as PNG images: the flywheel at a glance. Pure: numbers in, image bytes out.

Slack shows an image block from a file uploaded to it, so a chart is drawn here, uploaded by
the outbox, and cited by its file id. Every chart has an alt text that carries its numbers,
and the message beside it says them in words: the chart is never the only place they are.

matplotlib is imported on first use (about half a second), with its object API and the Agg
canvas: no pyplot state shared between threads, no display.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lumen.domain.attribution import MIN_OUTCOMES

INK = "#1d1c1d"
MUTED = "#868686"
RATE = "#2eb67d"
SPEND = "#cfd8e3"


@dataclass(frozen=True)
class VersionPoint:
    """One brain version (or a pooled run of thin ones): how its decisions turned out, and
    what its wake-ups cost."""

    label: str  # "v4", "v5–7", or "none" before any brain
    success_rate: float | None  # None below MIN_OUTCOMES outcomes
    outcomes: int
    spend_usd: Decimal


def flywheel_alt_text(venture_name: str, points: Sequence[VersionPoint]) -> str:
    """The chart's numbers, for screen readers and for Slack clients that show no image."""
    parts = []
    for p in points:
        rate = f"{p.success_rate:.0%} of {p.outcomes}" if p.success_rate is not None else f"{p.outcomes} outcomes, too few"
        parts.append(f"{p.label} {rate}, ${p.spend_usd:.2f}")
    return (f"{venture_name}: success rate and spend per brain version: " + "; ".join(parts))[:2000]


def flywheel_chart(venture_name: str, points: Sequence[VersionPoint], *, last: int = 16) -> bytes:
    """A PNG: decisions' success rate per brain version (line) over their spend (bars)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(points)[-last:]
    labels = [p.label for p in shown]
    xs = list(range(len(shown)))
    figure = Figure(figsize=(6.4, 3.0), dpi=100)
    FigureCanvasAgg(figure)
    spend_axis = figure.add_subplot(1, 1, 1)
    rate_axis = spend_axis.twinx()
    spend_axis.bar(xs, [float(p.spend_usd) for p in shown], color=SPEND, width=0.6, label="spend")
    spend_axis.set_ylabel("spend ($)", color=MUTED, fontsize=8)
    spend_axis.tick_params(axis="y", colors=MUTED, labelsize=7)
    rated = [(x, p.success_rate) for x, p in zip(xs, shown, strict=True) if p.success_rate is not None]
    if rated:
        rate_axis.plot([x for x, _ in rated], [r * 100 for _, r in rated], color=RATE, marker="o", linewidth=2)
        for x, rate in rated:
            rate_axis.annotate(f"{rate:.0%}", (x, rate * 100), textcoords="offset points", xytext=(0, 6),
                               ha="center", fontsize=7, color=INK)
    rate_axis.set_ylim(0, 105)
    rate_axis.set_ylabel("success rate (%)", color=RATE, fontsize=8)
    rate_axis.tick_params(axis="y", colors=RATE, labelsize=7)
    spend_axis.set_xticks(xs, labels, fontsize=7, color=INK)
    spend_axis.set_xlabel(
        f"brain version (a rate needs {MIN_OUTCOMES}+ outcomes; thinner versions are pooled)", fontsize=7, color=MUTED
    )
    spend_axis.set_title(f"{venture_name}: decisions per brain version", fontsize=9, color=INK, loc="left")
    for axis in (spend_axis, rate_axis):
        for side in ("top",):
            axis.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- spend this month against the budget ---------------------------------------------------

BUDGET = "#e01e5a"
SPENT = "#1264a3"
BAND = "#d6e6f5"


@dataclass(frozen=True)
class SpendSeries:
    """An envelope's month (UTC): spend so far day by day, and the forecast to its end."""

    name: str  # "acme", "acme/ceo", "all ventures"
    month: str  # "December 2026"
    days_in_month: int
    # (day of month as a position: 1.0 is the 1st at 00:00, 1.5 its noon; cumulative spend),
    # from the month's start to now
    spent: tuple[tuple[float, Decimal], ...]
    # (position, expected, low, high), from now to the month's end
    forecast: tuple[tuple[float, Decimal, Decimal, Decimal], ...]
    budget_usd: Decimal | None
    simulated: bool = False  # priced by the offline model's simulated table

    @property
    def expected_usd(self) -> Decimal:
        return self.forecast[-1][1] if self.forecast else (self.spent[-1][1] if self.spent else Decimal(0))


def spend_alt_text(series: SpendSeries) -> str:
    spent = series.spent[-1][1] if series.spent else Decimal(0)
    budget = f" against a budget of ${series.budget_usd:.2f}" if series.budget_usd is not None else " (no budget)"
    end = ""
    if series.forecast:
        _, expected, low, high = series.forecast[-1]
        end = f"; expected by month end ${expected:.2f} (80 % range ${low:.2f}–${high:.2f})"
    simulated = " Simulated prices: no money was spent." if series.simulated else ""
    return f"{series.name}: ${spent:.2f} spent in {series.month} (UTC){budget}{end}.{simulated}"[:2000]


def spend_chart(series: SpendSeries) -> bytes:
    """A PNG: spend so far this month (cumulative, per day), the budget line, and the forecast
    to the month's end with its 80 % band. Same size and ink as the flywheel chart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.0), dpi=100)
    FigureCanvasAgg(figure)
    axis = figure.add_subplot(1, 1, 1)
    if series.forecast:
        xs = [p[0] for p in series.forecast]
        axis.fill_between(xs, [float(p[2]) for p in series.forecast], [float(p[3]) for p in series.forecast],
                          color=BAND, linewidth=0, label="80 % range")
        axis.plot(xs, [float(p[1]) for p in series.forecast], color=SPENT, linestyle="--", linewidth=1.5, label="forecast")
        _, expected, _, _ = series.forecast[-1]
        axis.annotate(f"${expected:.2f}", (xs[-1], float(expected)), textcoords="offset points", xytext=(-4, 6),
                      ha="right", fontsize=7, color=INK)
    if series.spent:
        axis.plot([d for d, _ in series.spent], [float(v) for _, v in series.spent], color=SPENT, marker="o",
                  markersize=3, linewidth=2, label="spent")
    if series.budget_usd is not None:
        axis.axhline(float(series.budget_usd), color=BUDGET, linewidth=1.2, label=f"budget ${series.budget_usd:.2f}")
        axis.axhline(float(series.budget_usd) * 0.8, color=BUDGET, linewidth=0.8, linestyle=":", label="80 %: warning")
    axis.set_xlim(1, series.days_in_month + 1)
    top = max([float(series.budget_usd or 0)] + [float(p[3]) for p in series.forecast] + [float(v) for _, v in series.spent])
    axis.set_ylim(0, top * 1.35 if top > 0 else 1)  # room above the budget line for the legend
    axis.set_xlabel(f"day of {series.month} (UTC)", fontsize=7, color=MUTED)
    axis.set_ylabel("spent this month ($)", fontsize=8, color=MUTED)
    axis.tick_params(axis="both", colors=MUTED, labelsize=7)
    title = f"{series.name}: spend against budget"
    if series.simulated:
        title += " · SIMULATED PRICES"
    axis.set_title(title, fontsize=9, color=INK, loc="left")
    axis.legend(fontsize=6, loc="upper left", frameon=False, ncols=5)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
