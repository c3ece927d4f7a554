"""The page as a newcomer meets it, in a real Chromium at two common window sizes: the message
box and the latest message are on screen, the mouse wheel scrolls the messages and the thread,
a reload does not bring back a modal, links to a thread open it, and times are in one zone."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = os.environ.get("LUMEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SIZES = [(1400, 900), (1920, 1080)]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium not installed")


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def page(request: pytest.FixtureRequest):
    width, height = request.param
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = await browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        await browser.close()
        assert errors == []


def _card(n: int) -> list[dict]:
    """A message as tall as Lumen's cards, so a handful fill the window."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"Weekly report {n}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Item {n}*\nWhat happened, why, and what comes next."},
         "fields": [{"type": "mrkdwn", "text": f"*Field {i}*\nvalue"} for i in range(4)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"report #{n}"}]},
    ]


async def _in_view(page, locator) -> bool:  # type: ignore[no-untyped-def]
    box = await locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


async def _scroll_top(locator) -> float:  # type: ignore[no-untyped-def]
    return await locator.evaluate("el => el.scrollTop")


async def _scrolled_above(page, testid: str, before: float) -> None:  # type: ignore[no-untyped-def]
    """Wait until the element scrolled up from `before` (the wheel's scroll is animated)."""
    await page.wait_for_function(
        "([id, before]) => document.querySelector(`[data-testid=\"${id}\"]`).scrollTop < before",
        arg=[testid, before], timeout=5_000,
    )


async def _until_in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        if await _in_view(page, locator):
            return
        await page.wait_for_timeout(100)
    raise AssertionError("never came into view")


async def test_the_composer_and_the_latest_message_stay_in_view_and_the_wheel_scrolls(workspace, client, page) -> None:
    expect = playwright_api.expect
    general = workspace.channel_by_name("general")
    posted = [await client.chat_postMessage(channel=general.id, text=f"Weekly report {n}", blocks=_card(n)) for n in range(12)]
    for n in range(30):
        await client.chat_postMessage(channel=general.id, thread_ts=posted[-1]["ts"], text=f"Follow-up {n}: the numbers for region {n}")

    await page.goto(workspace.base_url + "/?user=U0ALICE")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await page.get_by_test_id("channel-item-general").click()
    latest = page.locator(f'[data-testid="message"][data-ts="{posted[-1]["ts"]}"]')
    await expect(latest).to_be_visible()

    # The message box is on screen, and so is the latest message, at the end of the list.
    assert await _in_view(page, page.get_by_test_id("composer"))
    assert await _in_view(page, latest.locator(".blk-header"))
    messages = page.get_by_test_id("message-list")
    height, client_height = await messages.evaluate("el => [el.scrollHeight, el.clientHeight]")
    assert height > client_height  # there is something to scroll

    # The wheel scrolls the message list (and the composer does not move).
    composer_y = (await page.get_by_test_id("composer").bounding_box())["y"]
    bottom = await _scroll_top(messages)
    await messages.hover()
    await page.mouse.wheel(0, -1200)
    await _scrolled_above(page, "message-list", bottom)
    assert (await page.get_by_test_id("composer").bounding_box())["y"] == composer_y
    await expect(page.locator(f'[data-testid="message"][data-ts="{posted[0]["ts"]}"]')).to_be_attached()

    # What a person types appears, and brings the list back to its end.
    await page.get_by_test_id("composer").fill("Thanks, all")
    await page.get_by_test_id("composer").press("Enter")
    mine = page.get_by_test_id("message").filter(has_text="Thanks, all")
    await expect(mine).to_be_visible()
    await _until_in_view(page, mine)

    # The thread pane: its own scroll, its reply box on screen, the wheel moves it.
    await latest.get_by_test_id("reply-count").click()
    thread = page.get_by_test_id("thread-messages")
    await expect(thread.get_by_test_id("message").filter(has_text="Follow-up 29:")).to_be_visible()
    assert await _in_view(page, page.get_by_test_id("thread-composer"))
    end = await _scroll_top(thread)
    assert end > 0
    await thread.hover()
    await page.mouse.wheel(0, -900)
    await _scrolled_above(page, "thread-messages", end)
    assert await _in_view(page, page.get_by_test_id("composer"))


async def test_a_reload_does_not_bring_back_a_modal(workspace, client, page) -> None:
    expect = playwright_api.expect
    await page.goto(workspace.base_url + "/?user=U0DAN")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await client.views_open(trigger_id=workspace.triggers.issue("U0DAN"), view={
        "type": "modal", "callback_id": "outcome", "title": {"type": "plain_text", "text": "Record outcome"},
        "submit": {"type": "plain_text", "text": "Save"}, "blocks": []})
    await expect(page.get_by_test_id("modal-title")).to_have_text("Record outcome")

    await page.reload()
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    assert workspace.current_modal("U0DAN") is None  # gone for good, as a restarted Slack client drops it
    await page.reload()
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await expect(page.get_by_test_id("modal")).to_be_hidden()


async def test_a_modal_opened_from_a_danger_button_confirms_with_a_danger_button(workspace, receiver, client, page) -> None:
    expect = playwright_api.expect
    general = workspace.channel_by_name("general")
    posted = await client.chat_postMessage(channel=general.id, text="Price change", blocks=[{
        "type": "actions", "elements": [
            {"type": "button", "action_id": "go", "style": "primary", "text": {"type": "plain_text", "text": "Approve…"}, "value": "1"},
            {"type": "button", "action_id": "stop", "style": "danger", "text": {"type": "plain_text", "text": "Reject…"}, "value": "1"},
        ]}])
    await page.goto(workspace.base_url + "/?user=U0BOB#" + general.id)
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    card = page.locator(f'[data-testid="message"][data-ts="{posted["ts"]}"]')
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Confirm"}, "submit": {"type": "plain_text", "text": "Do it"}, "blocks": []}

    await card.get_by_test_id("button-stop").click()
    click = await receiver.wait_for(lambda r: r.kind == "interactive" and r.data["actions"][0]["action_id"] == "stop")
    await client.views_open(trigger_id=click.data["trigger_id"], view=view)
    await expect(page.get_by_test_id("modal-submit")).to_have_class("btn danger-fill")
    background = await page.get_by_test_id("modal-submit").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(224, 30, 90)"  # red, not the green of a go button
    await page.get_by_test_id("modal-close").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()

    await card.get_by_test_id("button-go").click()
    click = await receiver.wait_for(lambda r: r.kind == "interactive" and r.data["actions"][0]["action_id"] == "go")
    await client.views_open(trigger_id=click.data["trigger_id"], view=view)
    await expect(page.get_by_test_id("modal-submit")).to_have_class("btn primary")


async def test_a_link_to_a_thread_opens_it_here(workspace, client, page) -> None:
    expect = playwright_api.expect
    general = workspace.channel_by_name("general")
    parent = await client.chat_postMessage(channel=general.id, text="Decision: hire a designer")
    await client.chat_postMessage(channel=general.id, thread_ts=parent["ts"], text="The trail: three steps, all green")
    link = (await client.chat_getPermalink(channel=general.id, message_ts=parent["ts"]))["permalink"]
    await client.chat_postEphemeral(channel=general.id, user="U0CAROL",
                                    text=f"The trail is in the thread: <{link}?thread_ts={parent['ts']}&cid={general.id}|open the thread>")
    await page.goto(workspace.base_url + "/?user=U0CAROL#" + general.id)
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await expect(page.get_by_test_id("thread-pane")).to_be_hidden()

    await page.get_by_role("link", name="open the thread").click()
    await expect(page.get_by_test_id("thread-pane")).to_be_visible()
    await expect(page.get_by_test_id("thread-messages")).to_contain_text("The trail: three steps, all green")
    assert page.url.endswith(f"#{general.id}/{parent['ts']}")
    # The same address, opened afresh, opens the thread too.
    await page.goto(f"{link}?thread_ts={parent['ts']}&cid={general.id}")
    await expect(page.get_by_test_id("thread-messages")).to_contain_text("The trail: three steps, all green")


async def test_every_time_on_the_page_is_in_the_workspaces_zone_and_says_so(workspace, client, page) -> None:
    expect = playwright_api.expect
    workspace.timezone = "Asia/Tokyo"
    posted = await client.chat_postMessage(channel="general", text="Good morning, Tokyo")
    await page.goto(workspace.base_url + "/?user=U0CAROL")  # carol's own zone is New York: not shown
    await expect(page.get_by_test_id("workspace-timezone")).to_have_text("Times in Asia/Tokyo")
    await page.get_by_test_id("channel-item-general").click()
    shown = page.locator(f'[data-testid="message"][data-ts="{posted["ts"]}"]').get_by_test_id("message-time")
    expected = datetime.fromtimestamp(float(posted["ts"]), ZoneInfo("Asia/Tokyo"))
    await expect(shown).to_have_text(expected.strftime("%H:%M"))
    assert "(Asia/Tokyo)" in await shown.get_attribute("title")
