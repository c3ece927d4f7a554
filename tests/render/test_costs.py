"""The costs report and budget alerts as Block Kit and as a terminal table."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from lumen.domain.forecast import project_month
from lumen.render.budgets import EnvelopeView, budget_stop_payload, budget_warning_payload
from lumen.render.costs import CostsReport, EnvelopeLine, SpendLine, UnitCost, costs_blocks, costs_json, costs_table, costs_text
from tests.render.support import HOSTILE, NOW, assert_escaped, texts, valid_blocks


def _report(agents: int = 3) -> CostsReport:
    steady = {date(2026, 2, 23) + timedelta(days=k): Decimal(2) for k in range(7)}
    over = project_month(steady, NOW, Decimal(30))  # $2 a day into March: ~$60 against $30
    under = project_month(steady, NOW, Decimal(100))
    return CostsReport(
        month="March 2026",
        scope="all ventures",
        total_usd=Decimal("4.5"),
        calls=42,
        by_venture=[SpendLine("acme", Decimal(4), 30), SpendLine(HOSTILE, Decimal("0.5"), 12)],
        by_agent=[SpendLine(f"acme/r{i}", Decimal(1), 10) for i in range(agents)],
        by_purpose=[SpendLine("decide", Decimal(4), 40), SpendLine("synthesis", Decimal("0.5"), 2)],
        by_model=[SpendLine("openai/gpt-4o", Decimal("4.5"), 42)],
        units=[UnitCost("acme", Decimal(4), 8, 2), UnitCost("brightbox", Decimal(0), 0, 0)],
        envelopes=[EnvelopeLine("acme/ceo", "agent", over), EnvelopeLine("acme", "venture", under)],
        simulated=True,
    )


def test_costs_blocks_show_spend_unit_costs_projections_and_a_warning() -> None:
    report = _report()
    blocks = valid_blocks(costs_blocks(report))
    shown = texts(blocks)
    assert "Costs · all ventures · March 2026 (UTC)" in shown
    assert "*$4.50* this month in 42 model calls" in shown
    assert "⚠️ *acme/ceo* is heading over its budget" in shown and "against $30.00" in shown
    assert "🟥 *acme/ceo*" in shown and "🟩 *acme*" in shown
    assert "$0.50 a decision (8)" in shown and "$2.00 a success (2)" in shown and "no decisions yet" in shown
    assert "simulated price table" in shown
    assert_escaped(shown)
    assert costs_text(report) == "Costs for all ventures, March 2026: $4.50 in 42 calls; 1 heading over budget."


def test_many_agents_stay_inside_slacks_limits() -> None:
    valid_blocks(costs_blocks(_report(agents=400)))


def test_the_terminal_table_and_json_say_the_same() -> None:
    report = _report()
    table = costs_table(report)
    assert "ENVELOPE" in table and "OVER BUDGET" in table and "acme/ceo" in table
    assert "warning: acme/ceo is heading over its budget" in table
    data = costs_json(report)
    assert data["total_usd"] == 4.5 and data["envelopes"][0]["over_budget_projected"] is True
    assert data["unit_costs"][0]["per_decision_usd"] == 0.5 and data["unit_costs"][1]["per_decision_usd"] is None


def test_budget_alerts_name_the_envelope_what_stopped_and_the_setting() -> None:
    view = EnvelopeView("acme", "venture", "month", "2026-03", Decimal(100), "ventures[acme].budget_usd_month")
    warning = budget_warning_payload(view, Decimal(84))
    assert warning["text"] == "⚠️ monthly budget of acme: 84% used ($84.00 of $100.00, 2026-03 UTC)."
    valid_blocks(warning["blocks"])
    stop = budget_stop_payload(view, Decimal("99.5"), Decimal(1), f"the ceo agent of acme's decide call {HOSTILE}")
    shown = texts(valid_blocks(stop["blocks"]))
    assert "Stopped:* the ceo agent of acme's decide call" in shown and "ventures[acme].budget_usd_month" in shown
    assert_escaped(shown)


def test_a_wake_estimate_without_history_says_so_and_still_gives_the_ceiling() -> None:
    from lumen.render.costs import WakeEstimate, wake_estimate_json, wake_estimate_text

    e = WakeEstimate("acme/ceo", "lumen-offline/playbook", 0, 1.0, 0, 0, None, None, None, Decimal("0.04"), Decimal(0), Decimal(20), simulated=True)
    shown = wake_estimate_text(e)
    assert "(simulated prices)" in shown and "unknown: no run of this agent called a model yet" in shown
    assert "at most   $0.04" in shown and "about 500 more wake-ups fit" in shown
    assert wake_estimate_json(e)["expected_usd"] is None and wake_estimate_json(e)["wakes_left"] == 500
