"""A gated decision handled in the dev workspace's page, as people would: a non-approver is
turned away before any confirmation, an approver rejects with a reason, the message changes in place, and the agent's
next wake-up reads why."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from lumen.db.models import Approval, ApprovalStatus, Step
from lumen.devmode import DevStack

LAUNCH = "Launch annual plan with two months free"
HIRE = "Hire a contract customer success manager"
REASON = "Wait for the Q1 pricing study"


async def _send(page: Any, text: str) -> None:
    await page.get_by_test_id("composer").fill(text)
    await page.get_by_test_id("composer-send").click()


async def test_reject_an_approval_in_the_browser(e2e_stack: DevStack, page: Any) -> None:
    from playwright.async_api import expect

    started = time.monotonic()
    ws, db = e2e_stack.workspace, e2e_stack.container.db
    await page.goto(f"{e2e_stack.workspace_url}/")
    await expect(page.get_by_test_id("connection-state")).to_have_text("live")
    await page.get_by_test_id("user-switcher").select_option("U0ALICE")
    await page.get_by_test_id("channel-item-venture-acme").click()
    await expect(page.get_by_test_id("channel-title")).to_contain_text("venture-acme")

    # (1) alice wakes the CEO agent; its first move is gated, so an approval message appears.
    await _send(page, "/lumen wake acme ceo")
    card = page.get_by_test_id("message").filter(has_text="Approval needed").filter(has_text=LAUNCH)
    await expect(card).to_have_count(1, timeout=15_000)
    await expect(card.get_by_test_id("button-approval_approve")).to_be_visible()
    ts = await card.get_attribute("data-ts")
    card = page.locator(f'[data-testid="message"][data-ts="{ts}"]')  # this message, whatever it says later

    # (2) dan is not an approver: he clicks Approve… and is told so at once (only he sees it),
    # without first being asked to confirm an approval he cannot give.
    await page.get_by_test_id("user-switcher").select_option("U0DAN")
    await card.get_by_test_id("button-approval_approve").click()
    refusal = page.get_by_test_id("message").filter(has_text="You are not an approver")
    await expect(refusal).to_have_count(1)
    await expect(page.get_by_test_id("confirm-dialog")).to_be_hidden()
    await expect(page.get_by_test_id("modal")).to_be_hidden()
    await expect(refusal.get_by_test_id("ephemeral-label")).to_be_visible()
    async with db.sessions() as session:
        approval = await session.scalar(select(Approval))
    assert approval is not None and approval.status == ApprovalStatus.PENDING

    # (3) bob rejects, with a reason, in the modal.
    await page.get_by_test_id("user-switcher").select_option("U0BOB")
    await expect(page.get_by_test_id("message").filter(has_text="You are not an approver")).to_have_count(0)
    await card.get_by_test_id("button-approval_reject").click()
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    await expect(page.get_by_test_id("modal-title")).to_have_text("Reject decision")
    await page.get_by_test_id("input-reason").fill(REASON)
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_be_hidden()

    # (4) the same message now says who rejected it and why, and has no buttons.
    await expect(card).to_contain_text("Rejected")
    await expect(card).to_contain_text("bob")
    await expect(card).to_contain_text(REASON)
    await expect(card.get_by_test_id("button-approval_approve")).to_have_count(0)
    await expect(card.get_by_test_id("button-approval_reject")).to_have_count(0)
    assert len([m for m in ws.messages("venture-acme", include_replies=False) if m.ts == ts]) == 1

    # ... and the paused run carried the reason through its gate.
    async def gate_step() -> Step | None:
        async with db.sessions() as session:
            return await session.scalar(select(Step).where(Step.run_id == approval.run_id, Step.name == "gate:0"))

    for _ in range(100):
        step = await gate_step()
        if step is not None:
            break
        await page.wait_for_timeout(50)
    assert step is not None, "the run did not resume"
    assert (step.output["status"], step.output["resolved_by"], step.output["reason"]) == ("rejected", "U0BOB", REASON)

    # The next wake-up reads the reason, leaves the rejected move out and says why.
    await _send(page, "/lumen wake acme ceo")
    following = page.get_by_test_id("message").filter(has_text="Approval needed").filter(has_text=HIRE)
    await expect(following).to_have_count(1, timeout=15_000)
    await expect(following).to_contain_text(f"“{LAUNCH}”, a human turned it down lately: {REASON}")
    async with db.sessions() as session:
        statuses = (await session.scalars(select(Approval.status).order_by(Approval.id))).all()
    assert statuses == [ApprovalStatus.REJECTED, ApprovalStatus.PENDING]
    assert time.monotonic() - started < 20
