"""The README's tour, walked in a real Chromium on `lumen dev`'s demo, as a newcomer would:
status, approve, reject with a reason, record an outcome (and the trail), the brain, a
question, App Home. Each step leaves a screenshot in test-results/tour/ (kept, pass or fail),
and each checks that what it produced is on screen, not somewhere below the fold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lumen.devmode import DevStack, demo_config, dev_stack
from lumen.settings import Settings

WIDTH, HEIGHT = 1400, 900


@pytest.fixture
async def demo_stack(tmp_path: Path) -> AsyncIterator[DevStack]:
    settings = Settings(
        LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}", LUMEN_CONFIG=str(tmp_path / "lumen.yml")
    )
    async with dev_stack(settings, demo_config(), demo=True) as stack:
        yield stack


class Tour:
    """The page, plus a numbered screenshot after each step."""

    def __init__(self, page: Any, shots: Path) -> None:
        self.page, self.shots, self.taken = page, shots, 0
        shots.mkdir(parents=True, exist_ok=True)
        for old in shots.glob("*.png"):
            old.unlink()

    async def shot(self, name: str) -> None:
        self.taken += 1
        await self.page.screenshot(path=str(self.shots / f"{self.taken:02d}-{name}.png"))

    def as_user(self, user: str):  # type: ignore[no-untyped-def]
        return self.page.get_by_test_id("user-switcher").select_option(user)

    async def channel(self, name: str) -> None:
        from playwright.async_api import expect

        await self.page.get_by_test_id(f"channel-item-{name}").click()
        await expect(self.page.get_by_test_id("channel-title")).to_contain_text(name)

    async def type(self, text: str) -> None:
        await self.page.get_by_test_id("composer").fill(text)
        await self.page.get_by_test_id("composer").press("Enter")

    def message(self, *texts: str):  # type: ignore[no-untyped-def]
        found = self.page.get_by_test_id("message-list").get_by_test_id("message")
        for text in texts:
            found = found.filter(has_text=text)
        return found

    def by_ts(self, ts: str):  # type: ignore[no-untyped-def]
        return self.page.locator(f'[data-testid="message-list"] [data-testid="message"][data-ts="{ts}"]')


async def test_the_readme_tour(demo_stack: DevStack, page: Any, request: pytest.FixtureRequest) -> None:
    from playwright.async_api import expect

    ws = demo_stack.workspace
    await page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    tour = Tour(page, request.config.rootpath / "test-results" / "tour")
    page.set_default_timeout(15_000)
    await page.goto(f"{demo_stack.workspace_url}/?user=U0ALICE")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await expect(page.get_by_test_id("workspace-timezone")).to_have_text("Times in Europe/Berlin")

    # 1. /lumen status in #venture-acme: that venture, in view above the message box.
    await tour.channel("venture-acme")
    approval = tour.message("Approval needed")
    await expect(approval).to_have_count(1)
    await tour.type("/lumen status")
    status = tour.message("Lumen status")
    await expect(status).to_be_in_viewport()
    await expect(status).to_contain_text("Acme Analytics")
    await expect(status).not_to_contain_text("Brightbox Studio")
    await expect(page.get_by_test_id("composer")).to_be_in_viewport()
    await tour.shot("status")

    # 2. Approve: dan is refused at once, with nothing to confirm; bob confirms in a modal.
    card = tour.by_ts(await approval.get_attribute("data-ts"))
    await tour.as_user("U0DAN")
    await card.get_by_test_id("button-approval_approve").click()
    await expect(tour.message("You are not an approver")).to_be_in_viewport()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await tour.shot("approve-refused-for-dan")
    await tour.as_user("U0BOB")
    await card.get_by_test_id("button-approval_approve").click()
    await expect(page.get_by_test_id("modal-title")).to_have_text("Approve decision")
    await expect(page.get_by_test_id("modal-submit")).to_have_text("Approve")
    await tour.shot("approve-confirm")
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await expect(card).to_contain_text("Approved")
    await expect(card.get_by_test_id("button-approval_approve")).to_have_count(0)
    await tour.shot("approved")

    # 3. Reject with a reason, in #venture-brightbox, as alice: the submit is a danger action.
    await tour.as_user("U0ALICE")
    await tour.channel("venture-brightbox")
    rejected = tour.by_ts(await tour.message("Approval needed").get_attribute("data-ts"))
    await rejected.get_by_test_id("button-approval_reject").click()
    await expect(page.get_by_test_id("modal-title")).to_have_text("Reject decision")
    await expect(page.get_by_test_id("modal-submit")).to_have_class("btn danger-fill")
    await page.get_by_test_id("input-reason").fill("Not before the first ten customers renew")
    await tour.shot("reject-with-a-reason")
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await expect(rejected).to_contain_text("Rejected")
    await expect(rejected).to_contain_text("Not before the first ten customers renew")
    await tour.shot("rejected")

    # 4. Record an outcome on an executed decision: the card itself changes; then its trail.
    await tour.channel("venture-acme")
    executed = tour.by_ts(await tour.message("Record outcome").first.get_attribute("data-ts"))
    await executed.get_by_test_id("button-outcome_record").click()
    await expect(page.get_by_test_id("modal-title")).to_have_text("Record outcome")
    await page.get_by_test_id("input-verdict").select_option("success")
    await page.get_by_test_id("input-metric").fill("trials")
    await page.get_by_test_id("input-before").fill("12")
    await page.get_by_test_id("input-after").fill("41")
    await page.get_by_test_id("input-note").fill("Cheaper per trial than any channel we tried")
    await tour.shot("record-outcome")
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await expect(executed).to_contain_text("Outcome: ✅ success · trials 12 → 41")
    await expect(executed.get_by_test_id("button-outcome_record")).to_have_text("Correct outcome")
    await tour.shot("outcome-on-the-card")
    await page.reload()  # the modal does not come back
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await expect(page.get_by_test_id("modal")).to_be_hidden()

    await executed.get_by_test_id("button-decision_trail").click()
    await page.get_by_role("link", name="open the thread").last.click()
    thread = page.get_by_test_id("thread-messages")
    await expect(thread).to_contain_text("Trail of run #")
    await expect(thread).to_contain_text("Outcome recorded")
    await expect(thread).not_to_contain_text('{"')
    await tour.shot("trail-in-thread")
    await executed.get_by_test_id("button-decision_trail").click()  # again: pointed to, not posted twice
    await expect(tour.message("is in this decision's thread")).to_have_count(2)
    await expect(thread.get_by_test_id("message").filter(has_text="Trail of run #")).to_have_count(1)
    await page.get_by_test_id("thread-close").click()

    # 5. The brain.
    await tour.type("/lumen brain acme")
    brain = tour.message("Acme Analytics · brain v", "Principles")
    await expect(brain).to_be_in_viewport()
    await expect(brain).to_contain_text("What worked")
    await expect(brain.get_by_test_id("ephemeral-label")).to_be_visible()
    await tour.shot("brain")

    # 6. A question, answered in its thread.
    await tour.type("@lumen what failed at acme?")
    asked = tour.message("what failed at acme?")
    await expect(asked.get_by_test_id("reply-count")).to_have_text("1 reply")
    await asked.get_by_test_id("reply-count").click()
    await expect(thread).to_contain_text("What failed")
    await expect(page.get_by_test_id("thread-composer")).to_be_in_viewport()
    await tour.shot("ask")
    await page.get_by_test_id("thread-close").click()

    # 7. App Home: a new approval waits for alice; she approves it there and the tab updates.
    await tour.as_user("U0ALICE")
    await tour.type("/lumen wake acme ceo")
    await expect(tour.message("Approval needed").filter(has=page.get_by_test_id("button-approval_approve"))).to_have_count(1)
    await page.get_by_test_id("home-item").click()
    home = page.get_by_test_id("home-view")
    await expect(home.get_by_test_id("button-approval_approve")).to_have_count(1)
    await tour.shot("app-home")
    await home.get_by_test_id("button-approval_approve").click()
    await page.get_by_test_id("modal-submit").click()
    await expect(home).to_contain_text("You approved")
    await expect(home).to_contain_text("Nothing is waiting for you")
    await expect(home.get_by_test_id("button-approval_approve")).to_have_count(0)
    await tour.shot("app-home-after-approving")

    assert tour.taken == 13 and len(list(tour.shots.glob("*.png"))) == 13
    assert [c for c in ws.calls if c.response and not c.response.get("ok")] == []  # no Web API call failed
