"""App Home's costs section: per venture spend against budget, month-end range, unit costs,
warnings and up to three charts, inside Slack's limits for a Home tab however many ventures."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from lumen.domain.forecast import project_month
from lumen.render.costs import EnvelopeLine, UnitCost, chart_block
from lumen.render.home import home_view
from lumen.render.home_costs import HomeCosts, home_costs_blocks
from tests.render.support import HOSTILE, NOW, assert_escaped, report, texts, valid_blocks, valid_view, venture_status


def _line(name: str, per_day: str, budget: str | None, scope: str = "venture") -> EnvelopeLine:
    days = {date(2026, 2, 23) + timedelta(days=k): Decimal(per_day) for k in range(8)}
    return EnvelopeLine(name, scope, project_month(days, NOW, Decimal(budget) if budget is not None else None))


def _costs(**overrides) -> HomeCosts:  # type: ignore[no-untyped-def]
    base = HomeCosts(
        month="March 2026",
        ventures=[_line("acme", "2", "30"), _line("brightbox", "0.1", "100"), _line("quiet", "0", None)],
        units={"acme": UnitCost("acme", Decimal(4), 8, 2)},
        agents=[_line("acme/cmo", "1", "3", "agent"), _line("acme/ceo", "0.5", "100", "agent")],
        charts={"acme": chart_block("F0ACME", "acme: $4.00 spent", "acme: spend against budget")},
        simulated=True,
    )
    return replace(base, **overrides)


def test_each_venture_shows_spend_against_budget_the_month_end_range_and_unit_costs() -> None:
    shown = texts(valid_blocks(home_costs_blocks(_costs())))
    assert "Costs · March 2026 (UTC)" in shown
    # $2 a day into March against $30: red, and what a decision and a success cost.
    assert "🟥 *acme* · $4.00 of $30.00, 13%" in shown and "→ $" in shown
    assert "$0.50 a decision" in shown and "$2.00 a success" in shown
    assert "🟩 *brightbox*" in shown and "*quiet* · $0.00 (no budget)" in shown
    # The cmo spent $2 of its $3 (over 80 %); the ceo is far from its budget.
    assert "⚠️ *acme/cmo* has spent 67% of its $3.00" not in shown  # 2/3 is under 80 %
    assert "⚠️ *acme/cmo* is heading over its $3.00" in shown and "acme/ceo" not in shown
    assert "simulated price table" in shown


def test_warnings_at_80_percent_and_a_stop_at_100() -> None:
    nearly, spent = _line("acme/cmo", "1", "2.4", "agent"), _line("brightbox/ceo", "5", "8", "agent")
    shown = texts(home_costs_blocks(_costs(agents=[nearly, spent])))
    assert "⚠️ *acme/cmo* has spent 83% of its $2.40." in shown
    assert "⛔ *brightbox/ceo* has spent its $8.00 for the month: its calls are stopped." in shown


def test_a_venture_measured_by_its_agents_budgets_says_so_and_does_not_warn_for_them() -> None:
    shown = texts(home_costs_blocks(_costs(summed=frozenset({"acme"}), agents=[])))
    assert "$4.00 of $30.00 (its agents' budgets), 13%" in shown
    assert "⚠️ *acme*" not in shown


def test_charts_follow_the_lines_for_at_most_three_ventures_nearest_their_budgets() -> None:
    ventures = [_line(f"v{i}", str(i + 1), "500") for i in range(6)]
    charts = {f"v{i}": chart_block(f"F{i}", f"v{i}", f"v{i}") for i in range(6)}
    blocks = valid_blocks(home_costs_blocks(_costs(ventures=ventures, charts=charts, units={})))
    images = [b["slack_file"]["id"] for b in blocks if b["type"] == "image"]
    assert images == ["F5", "F4", "F3"]


def test_names_are_escaped_and_the_home_tab_stays_inside_slacks_limits() -> None:
    many = [_line(f"{HOSTILE} {i}", "1", "10") for i in range(40)]
    costs = _costs(ventures=many, agents=[_line(f"{HOSTILE}/ceo", "1", "2", "agent")] * 20)
    view = valid_view(home_view(report(*(venture_status(n) for n in range(60))), "U0ALICE", costs=costs))
    shown = texts(view)
    assert_escaped(shown)
    assert "Costs · March 2026 (UTC)" in shown and "… and 28 more: `/lumen costs`" in shown and "… and 54 more" in shown  # 40 ventures and 20 agents heading over
    assert view["blocks"][-1]["type"] == "context"  # the footer is kept


def test_no_ventures_no_costs_section() -> None:
    assert home_costs_blocks(_costs(ventures=[])) == []
    view = home_view(report(venture_status()), "U0ALICE", costs=None)
    assert "Costs ·" not in texts(view)
