"""After the gate: the paused run continues from it without asking the model again; an approved
decision is carried out and posted; a rejection's reason reaches the next wake-up. Also the other
ways to a gate (App Home, `/lumen approvals`) and the reminders that keep it from being forgotten."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from lumen.approvals.tasks import sweep
from lumen.db.base import utcnow
from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, Run, RunStatus
from tests.approvals.support import (
    APPROVE,
    approve,
    approve_in_home,
    REJECT,
    get,
    next_note,
    notes,
    outbox_sent,
    spend_rows,
    steps,
    wait_run,
    wake_gate,
)
from tests.slack.support import block_texts

JOURNAL = ["context", "propose_decisions", "decision:0", "gate:0", "finished"]
LAUNCH = "Launch annual plan with two months free"
HIRE = "Hire a contract customer success manager"
HOUR = timedelta(hours=1)


async def test_after_approval_the_run_continues_from_the_gate(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    paused = await steps(db, gate.run_id)
    assert [s.name for s in paused] == JOURNAL[:3]
    assert await spend_rows(db, gate.run_id) == 1

    await approve(ws, "U0BOB", gate.channel_id, gate.ts)
    run = await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    approval = await get(db, Approval, gate.approval_id)
    journal = await steps(db, gate.run_id)
    assert [s.name for s in journal] == JOURNAL
    assert [(s.id, s.output) for s in journal[:3]] == [(s.id, s.output) for s in paused]  # replayed, not redone
    assert [s.epoch for s in journal] == [1, 1, 1, 2, 2] and run.epoch == 2
    gate_step = journal[3]
    assert gate_step.kind.value == "gate"
    assert gate_step.output == {
        "decision_id": gate.decision_id,
        "approval_id": gate.approval_id,
        "status": "approved",
        "resolved_by": "U0BOB",
        "resolved_at": approval.resolved_at.isoformat(),
        "reason": None,
    }
    assert journal[4].output["status"] == "succeeded"
    assert await spend_rows(db, gate.run_id) == 1  # the model was not called again

    decision = await get(db, Decision, gate.decision_id)
    assert decision.status == DecisionStatus.EXECUTED and decision.executed_at is not None
    await outbox_sent(db, f"decision:{gate.decision_id}:post")
    posted = await ws.wait_for(
        lambda: [m for m in ws.messages(gate.channel_id, include_replies=False) if m.text == f"ceo decided: {LAUNCH} (pricing_change)"], 5
    )
    assert len(posted) == 1 and posted[0].ts != gate.ts


async def test_after_rejection_the_next_wake_up_reads_the_reason(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    reason = "Wait for the Q1 pricing study before touching plans"
    gate = await wake_gate(stack)
    await ws.click("U0ALICE", gate.channel_id, gate.ts, REJECT)
    await ws.wait_for(lambda: ws.current_modal("U0ALICE"), 5)
    await ws.submit_view("U0ALICE", None, {"reason": reason})
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    gate_step = next(s for s in await steps(db, gate.run_id) if s.name == "gate:0")
    assert (gate_step.output["status"], gate_step.output["resolved_by"], gate_step.output["reason"]) == (
        "rejected", "U0ALICE", reason
    )
    assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.REJECTED
    assert not [m for m in ws.messages(gate.channel_id) if m.text.startswith("ceo decided:")]  # not carried out

    following = await wake_gate(stack)
    propose = next(s for s in await steps(db, following.run_id) if s.name == "propose_decisions")
    prompt = "\n".join(m["content"] for m in propose.input["messages"])
    rejected = await get(db, Decision, gate.decision_id)
    assert "Turned down by humans lately, with their reasons:\n" in prompt
    assert f"- #{rejected.id} {LAUNCH} (" in prompt and f"): {reason}" in prompt
    decision = await get(db, Decision, following.decision_id)
    assert decision.title == HIRE  # the offline model left the rejected move alone ...
    assert f"“{LAUNCH}”, a human turned it down lately: {reason}" in decision.rationale  # ... and says why


async def test_a_click_while_the_run_is_still_pausing_is_picked_up_by_the_sweep(stack) -> None:  # type: ignore[no-untyped-def]
    """The click finds the run not yet `awaiting_approval`, so it cannot re-queue it; the sweep does."""
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    async with db.transaction() as session:  # as if its worker had not yet recorded the pause
        await session.execute(
            update(Run).where(Run.id == gate.run_id).values(
                status=RunStatus.RUNNING, lease_owner="elsewhere", lease_expires_at=utcnow() + HOUR
            )
        )
    await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
    await ws.wait_for(lambda: gate.message(ws).text.startswith("✅ Approved"), 5)
    assert (await get(db, Run, gate.run_id)).status == RunStatus.RUNNING  # not re-queued by the click
    async with db.transaction() as session:  # now the pause lands
        await session.execute(
            update(Run).where(Run.id == gate.run_id).values(
                status=RunStatus.AWAITING_APPROVAL, lease_owner=None, lease_expires_at=None
            )
        )
    report = await sweep(db, stack.container.directory)
    assert report.resumed == [gate.run_id]
    stack.container.signals.runs.notify()
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    assert [s.name for s in await steps(db, gate.run_id)] == JOURNAL
    assert (await sweep(db, stack.container.directory)).resumed == []


async def test_app_home_lists_the_viewers_pending_approvals_with_working_buttons(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)

    await ws.open_home("U0DAN")
    dan = await ws.wait_for(lambda: ws.home_views.get("U0DAN"), 5)
    assert "Nothing is waiting for you" in block_texts(dan.definition["blocks"])

    await ws.open_home("U0ALICE")
    home = await ws.wait_for(lambda: ws.home_views.get("U0ALICE"), 5)
    text = block_texts(home.definition["blocks"])
    assert LAUNCH in text and "Acme Analytics" in text and "`pricing_change`" in text
    actions = [b for b in home.definition["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    assert {e["action_id"]: e["value"] for e in actions[0]["elements"]} == {
        APPROVE: str(gate.approval_id), REJECT: str(gate.approval_id)
    }

    answer = await approve_in_home(ws, "U0ALICE", home.id)
    assert (answer.status, answer.body) == (200, "")
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    approval = await get(db, Approval, gate.approval_id)
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.APPROVED, "U0ALICE")
    await ws.wait_for(lambda: gate.message(ws).text.startswith("✅ Approved"), 5)  # the channel message too

    # Her Home tab is published again at once, without her reopening it: the approval is gone
    # and a note says what her click did.
    home_text = lambda: block_texts(ws.home_views["U0ALICE"].definition["blocks"])  # noqa: E731
    await ws.wait_for(lambda: "Nothing is waiting for you" in home_text(), 5)
    assert f"✅ You approved “{LAUNCH}”." in home_text()
    assert not [b for b in ws.home_views["U0ALICE"].definition["blocks"] if b["type"] == "actions"]
    assert ws.messages(ws.dm_with("U0ALICE").id) == []  # and no DM besides


async def test_a_refused_click_in_app_home_is_answered_there(stack) -> None:  # type: ignore[no-untyped-def]
    ws = stack.workspace
    gate = await wake_gate(stack)
    await ws.open_home("U0BOB")
    home = await ws.wait_for(lambda: ws.home_views.get("U0BOB"), 5)
    await approve(ws, "U0ALICE", gate.channel_id, gate.ts)  # alice is quicker, in the channel
    await ws.wait_for(lambda: gate.message(ws).text.startswith("✅ Approved"), 5)
    await ws.click_in_view("U0BOB", home.id, APPROVE)  # bob's Home still shows the old buttons
    await ws.wait_for(lambda: "Already decided: <@U0ALICE> approved this" in block_texts(ws.home_views["U0BOB"].definition["blocks"]), 5)
    assert ws.current_modal("U0BOB") is None  # no confirmation for a decision already taken
    assert "Nothing is waiting for you" in block_texts(ws.home_views["U0BOB"].definition["blocks"])


async def test_reject_from_app_home(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    await ws.open_home("U0BOB")
    home = await ws.wait_for(lambda: ws.home_views.get("U0BOB"), 5)
    await ws.click_in_view("U0BOB", home.id, REJECT)
    await ws.wait_for(lambda: ws.current_modal("U0BOB"), 5)
    await ws.submit_view("U0BOB", None, {"reason": "Not before the board meeting"})
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    approval = await get(db, Approval, gate.approval_id)
    assert (approval.status, approval.resolved_by, approval.reason) == (
        ApprovalStatus.REJECTED, "U0BOB", "Not before the board meeting"
    )
    await ws.wait_for(lambda: f"🚫 You rejected “{LAUNCH}”." in block_texts(ws.home_views["U0BOB"].definition["blocks"]), 5)
    assert "Nothing is waiting for you" in block_texts(ws.home_views["U0BOB"].definition["blocks"])


async def test_lumen_approvals_lists_them_with_working_buttons(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)

    before = len(notes(ws, "venture-acme", "U0DAN"))
    await ws.slash_command("U0DAN", "venture-acme", "/lumen", "approvals")
    assert "Nothing is waiting for you" in block_texts((await next_note(ws, gate.channel_id, "U0DAN", before)).blocks)

    before = len(notes(ws, "venture-acme", "U0BOB"))
    delivery = await ws.slash_command("U0BOB", "venture-acme", "/lumen", "approvals")
    assert (delivery.status, delivery.body) == (200, "")
    listing = await next_note(ws, gate.channel_id, "U0BOB", before)
    assert listing.text.startswith("1 approval")
    assert LAUNCH in block_texts(listing.blocks)

    await approve(ws, "U0BOB", gate.channel_id, listing.ts)  # the button in the ephemeral list
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    approval = await get(db, Approval, gate.approval_id)
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.APPROVED, "U0BOB")


async def test_reminders_go_to_the_thread_and_to_each_approver(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db, directory = stack.workspace, stack.container.db, stack.container.directory
    gate = await wake_gate(stack)
    approval = await get(db, Approval, gate.approval_id)
    dm = {u: ws.dm_with(u).id for u in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN")}

    assert not (await sweep(db, directory, now=approval.created_at + 23 * HOUR)).reminded  # not yet
    first = approval.created_at + 25 * HOUR
    assert (await sweep(db, directory, now=first)).reminded == [gate.approval_id]
    assert not (await sweep(db, directory, now=first)).reminded  # once per due time, however many sweeps
    stack.replica.outbox.notify()

    reminder = await ws.wait_for(lambda: ws.thread(gate.channel_id, gate.ts)[1:], 5)
    assert len(reminder) == 1
    assert reminder[0].thread_ts == gate.ts
    assert reminder[0].text.startswith("⏰ Reminder: <@U0ALICE>, <@U0BOB>, this is still waiting for a decision")
    for user in ("U0ALICE", "U0BOB"):
        got = await ws.wait_for(lambda user=user: ws.messages(dm[user]), 5)
        assert len(got) == 1 and got[0].text.startswith(f"⏰ Acme Analytics is waiting for your decision on “{LAUNCH}”")
    assert ws.messages(dm["U0CAROL"]) == [] and ws.messages(dm["U0DAN"]) == []
    moved = (await get(db, Approval, gate.approval_id)).next_reminder_at
    assert abs(moved - (first + 24 * HOUR)) < timedelta(seconds=1)

    # The next one a day later; none after the gate is decided.
    assert (await sweep(db, directory, now=first + 24 * HOUR)).reminded == [gate.approval_id]
    stack.replica.outbox.notify()
    await ws.wait_for(lambda: len(ws.thread(gate.channel_id, gate.ts)) == 3, 5)
    await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    assert not (await sweep(db, directory, now=first + 48 * HOUR)).anything
