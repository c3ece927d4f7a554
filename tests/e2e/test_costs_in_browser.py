"""App Home's costs in the dev workspace's page: the lines and the chart, drawn and loaded.
Leaves a screenshot in test-results/costs/app-home-costs.png."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lumen.db.base import utcnow
from lumen.db.models import Agent, Spend, Venture
from lumen.demo import SMALL_ENVELOPE
from lumen.devmode import DevStack


async def test_app_home_shows_costs_and_the_chart(e2e_stack: DevStack, page: Any, request: Any) -> None:
    from playwright.async_api import expect

    now = utcnow()
    async with e2e_stack.container.db.transaction() as session:
        ceo = await session.scalar(select(Agent).join(Venture).where(Venture.slug == "acme", Agent.role == "ceo"))
        for days_ago in range(10):
            session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, purpose="decide", model="openai/gpt-4o",
                              cost_usd=Decimal("0.012") + Decimal(days_ago % 3) / 200, created_at=now - timedelta(days=days_ago)))

    await page.goto(f"{e2e_stack.workspace_url}/")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await page.get_by_test_id("user-switcher").select_option("U0BOB")
    await page.get_by_test_id("home-item").click()
    home = page.get_by_test_id("home-view")
    await expect(home).to_contain_text("Costs · ")
    await expect(home).to_contain_text(f"of ${SMALL_ENVELOPE.venture_budget_usd_month:.2f}")  # the demo's acme budget
    chart = home.locator("figure.blk-image").filter(has_text="acme: spend against budget")
    await expect(chart).to_have_count(1)
    image = chart.locator("img")
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 300]
    shots = request.config.rootpath / "test-results" / "costs"
    shots.mkdir(parents=True, exist_ok=True)
    await chart.scroll_into_view_if_needed()
    await page.screenshot(path=str(Path(shots) / "app-home-costs.png"))
