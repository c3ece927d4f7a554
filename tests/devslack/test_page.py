"""The page, driven by a real (headless) Chromium through Playwright."""

from __future__ import annotations

import os

import pytest

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium not installed")


@pytest.fixture
async def page():
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = await browser.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        await browser.close()
        assert errors == []


async def test_page_live_messages_confirm_click_and_slash_command(workspace, receiver, client, page):
    expect = playwright_api.expect
    await page.goto(workspace.base_url + "/")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await page.get_by_test_id("user-switcher").select_option("U0CAROL")
    await page.get_by_test_id("channel-item-general").click()
    await expect(page.get_by_test_id("channel-title")).to_contain_text("general")

    # A bot message with blocks, posted through the Web API, shows up live and rendered.
    posted = await client.chat_postMessage(channel="general", text="Approve budget?", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "Budget gate"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Spend* for <@U0ALICE> <img src=x onerror=alert(1)>"}},
        {"type": "actions", "block_id": "gate", "elements": [{
            "type": "button", "action_id": "approve", "style": "primary", "value": "go",
            "text": {"type": "plain_text", "text": "Approve"},
            "confirm": {"title": {"type": "plain_text", "text": "Sure?"}, "text": {"type": "mrkdwn", "text": "Spend *$500*?"},
                        "confirm": {"type": "plain_text", "text": "Do it"}, "deny": {"type": "plain_text", "text": "No"}},
        }]},
    ])
    message = page.locator(f'[data-testid="message"][data-ts="{posted["ts"]}"]')
    await expect(message.locator(".blk-header")).to_have_text("Budget gate")
    await expect(message.locator("b")).to_have_text("Spend")
    await expect(message.locator(".mention")).to_have_text("@alice")
    assert await page.locator("img[src=x]").count() == 0  # app text is never HTML

    # Buttons with a confirm ask first; only "Do it" sends block_actions, as the acting user.
    await message.get_by_test_id("button-approve").click()
    await expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    await expect(page.get_by_test_id("confirm-confirm")).to_have_text("Do it")
    await page.get_by_test_id("confirm-confirm").click()
    action = await receiver.wait_for(lambda r: r.kind == "interactive")
    assert action.signature_valid
    assert action.data["type"] == "block_actions" and action.data["user"]["id"] == "U0CAROL"
    assert action.data["actions"][0]["action_id"] == "approve" and action.data["actions"][0]["value"] == "go"
    assert action.data["message"]["ts"] == posted["ts"]

    # The composer turns "/lumen ..." into a slash command; the ack text appears only for carol.
    receiver.reply = lambda r: (200, {"text": "Status of acme: green"}) if r.kind == "slash" else None
    await page.get_by_test_id("composer").fill("/lumen status acme")
    await page.get_by_test_id("composer").press("Enter")
    slash = await receiver.wait_for(lambda r: r.kind == "slash")
    assert (slash.data["command"], slash.data["text"], slash.data["user_id"]) == ("/lumen", "status acme", "U0CAROL")
    ephemeral = page.get_by_test_id("message").filter(has_text="Status of acme: green")
    await expect(ephemeral.get_by_test_id("ephemeral-label")).to_have_text("Only visible to you")

    # Plain text with @lumen becomes a real mention -> app_mention.
    await page.get_by_test_id("composer").fill("hey @lumen, ping")
    await page.get_by_test_id("composer").press("Enter")
    mention = await receiver.wait_for(lambda r: r.kind == "event")
    assert mention.data["event"]["type"] == "app_mention" and mention.data["event"]["text"] == "hey <@U0LUMENBOT>, ping"
    await expect(page.get_by_test_id("message").filter(has_text="ping").locator(".mention")).to_have_text("@lumen")


async def test_page_modal_errors_and_submit(workspace, receiver, client, page):
    expect = playwright_api.expect
    await page.goto(workspace.base_url + "/?user=U0DAN")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await client.views_open(trigger_id=workspace.triggers.issue("U0DAN"), view={
        "type": "modal", "callback_id": "venture", "title": {"type": "plain_text", "text": "New venture"},
        "submit": {"type": "plain_text", "text": "Create"},
        "blocks": [
            {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
             "element": {"type": "plain_text_input", "action_id": "v"}},
            {"type": "input", "block_id": "kind", "label": {"type": "plain_text", "text": "Kind"},
             "element": {"type": "static_select", "action_id": "v", "options": [
                 {"text": {"type": "plain_text", "text": "Shop"}, "value": "shop"},
                 {"text": {"type": "plain_text", "text": "SaaS"}, "value": "saas"}]}},
        ]})
    await expect(page.get_by_test_id("modal-title")).to_have_text("New venture")
    await page.get_by_test_id("input-name").fill("x")
    await page.get_by_test_id("input-kind").select_option("saas")

    receiver.reply = lambda r: (200, {"response_action": "errors", "errors": {"name": "Too short"}})
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal-error-name")).to_have_text("Too short")
    await expect(page.get_by_test_id("input-name")).to_have_value("x")  # typed values survive the re-render
    values = receiver.of_kind("interactive")[-1].data["view"]["state"]["values"]
    assert values["name"]["v"]["value"] == "x" and values["kind"]["v"]["selected_option"]["value"] == "saas"

    receiver.reply = lambda r: (200, "")
    await page.get_by_test_id("input-name").fill("Acme")
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    assert receiver.of_kind("interactive")[-1].data["view"]["state"]["values"]["name"]["v"]["value"] == "Acme"
