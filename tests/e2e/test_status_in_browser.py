"""A person types `/lumen status` in the dev workspace's page and sees the answer."""

from __future__ import annotations

from typing import Any

from lumen.devmode import DevStack


async def test_status(e2e_stack: DevStack, page: Any) -> None:
    from playwright.async_api import expect

    ws = e2e_stack.workspace
    await page.goto(f"{e2e_stack.workspace_url}/")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await page.get_by_test_id("user-switcher").select_option("U0ALICE")
    await page.get_by_test_id("channel-item-venture-acme").click()
    await expect(page.get_by_test_id("channel-title")).to_contain_text("venture-acme")

    composer = page.get_by_test_id("composer")
    await composer.fill("/lumen status")
    await page.get_by_test_id("composer-send").click()

    answer = page.get_by_test_id("message").filter(has_text="Lumen status")
    await expect(answer).to_have_count(1)
    await expect(answer.locator(".blk-header")).to_have_text("Lumen status")
    await expect(answer).to_contain_text("Acme Analytics")
    # Asked in #venture-acme, it is about acme (`/lumen status all` for every venture).
    await expect(answer).not_to_contain_text("Brightbox Studio")
    await expect(answer).to_contain_text("/lumen status all")
    await expect(answer).to_contain_text("Spend this month")
    await expect(answer.get_by_test_id("ephemeral-label")).to_have_text("Only visible to you")

    # It went through the app for real: a signed HTTP delivery acked empty, answered via response_url.
    slash = [d for d in ws.deliveries if d.kind == "slash_commands"]
    assert len(slash) == 1 and slash[0].transport == "http"
    assert (slash[0].status, slash[0].body) == (200, "")
    assert slash[0].payload["user_id"] == "U0ALICE" and slash[0].payload["text"] == "status"

    # Only alice sees it.
    await page.get_by_test_id("user-switcher").select_option("U0BOB")
    await expect(page.get_by_test_id("channel-title")).to_contain_text("venture-acme")
    await expect(page.get_by_test_id("message").filter(has_text="Lumen status")).to_have_count(0)
