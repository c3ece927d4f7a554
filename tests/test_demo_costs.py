"""`lumen dev`'s first start shows costs working: the offline model charges its simulated
prices, the demo's small envelope fills up, and its channel gets the 80 % warning and then
the stop, saying what was stopped, all marked as simulated; App Home and `/lumen costs` show
the spend, its forecast and the chart. Both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from devslack import Workspace
from lumen.container import Container
from lumen.db.models import Agent, Run, RunStatus, Spend, Venture
from lumen.demo import SMALL_ENVELOPE
from lumen.devmode import demo_config, dev_stack
from tests.slack.conftest import FAST_RETRIES
from tests.slack.support import answer_to, block_texts, checked_blocks


def _said(ws: Workspace, channel: str) -> list[str]:
    return [f"{m.text}\n{block_texts(m.blocks or [])}" for m in ws.messages(channel)]


async def test_a_fresh_demo_posts_a_warning_then_a_stop_and_shows_the_spend(container: Container) -> None:
    settings = container.settings.model_copy(update={"offline_simulated_prices": True})
    assert (SMALL_ENVELOPE.venture, SMALL_ENVELOPE.role) == ("acme", "cmo")
    async with dev_stack(settings, demo_config(), workspace=Workspace.demo(retry_delays=FAST_RETRIES), demo=True) as stack:
        ws = stack.workspace

        def alerts() -> tuple[str, str] | None:
            said = _said(ws, "venture-acme")
            warning = [m for m in said if m.startswith("⚠️ daily budget of acme/cmo")]
            stop = [m for m in said if m.startswith("🛑 Stopped: the daily budget of acme/cmo")]
            return (warning[0], stop[0]) if warning and stop else None

        warning, stop = await ws.wait_for(alerts, timeout=30)
        assert "% used" in warning and "of $0.04" in warning and "(simulated prices)" in warning and "no money is spent" in warning
        assert "*Stopped:* the cmo agent of acme's decide call" in stop and "The model was not called." in stop
        assert "(simulated prices)" in stop
        # Once each: the warning once a month, the stop once a day, though more runs met it.
        said = _said(ws, "venture-acme")
        assert len([m for m in said if m.startswith("⚠️ daily budget of acme/cmo")]) == 1
        assert len([m for m in said if m.startswith("🛑 Stopped: the daily budget of acme/cmo")]) == 1

        async with stack.container.db.sessions() as session:
            cmo = await session.scalar(select(Agent).join(Venture).where(Venture.slug == "acme", Agent.role == "cmo"))
            failed = await session.scalar(select(func.count()).select_from(Run).where(Run.agent_id == cmo.id, Run.status == RunStatus.FAILED))
            spent_today = await session.scalar(select(func.count()).select_from(Spend).where(Spend.agent_id == cmo.id, Spend.cost_usd > 0))
        assert failed and spent_today
        assert cmo.status == "active"  # a daily envelope stops its calls, it does not pause the agent

        # The spend shows: App Home's costs (marked simulated) and the chart in /lumen costs.
        await ws.open_home("U0ALICE")
        home = await ws.wait_for(lambda: ws.home_views.get("U0ALICE"), timeout=15)
        shown = block_texts(home.definition["blocks"])
        assert "Costs · " in shown and "*acme* · $" in shown and "simulated price table" in shown
        assert any(b["type"] == "image" and "(simulated prices)" in b["title"]["text"] for b in home.definition["blocks"])
        _, _, payload = await answer_to(ws, "U0ALICE", "venture-acme", "costs acme")
        report = block_texts(checked_blocks(payload))
        assert "acme/cmo" in report and "simulated price table" in report and "→ $" in report
