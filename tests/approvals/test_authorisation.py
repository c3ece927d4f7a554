"""Only approvers decide: anyone else is told so and nothing changes. Approvers may be named
directly, through a user group, or as the members of a channel. A rejection needs a reason."""

from __future__ import annotations

from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, Run, RunStatus
from devslack import Workspace

from tests.approvals.conftest import StackOpener
from tests.approvals.support import (
    APPROVE,
    approve,
    FAST_RETRIES,
    REJECT,
    demo_dict,
    get,
    next_note,
    notes,
    to_config,
    votes,
    wait_run,
    wake_gate,
)

NOT_AN_APPROVER = "You are not an approver for this decision, so nothing changed. The approvers are named on the message."


async def _unchanged(stack, gate) -> None:  # type: ignore[no-untyped-def]
    db = stack.container.db
    approval = await get(db, Approval, gate.approval_id)
    assert approval.status == ApprovalStatus.PENDING and approval.resolved_by is None
    assert await votes(db, gate.approval_id) == []
    assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.AWAITING_APPROVAL
    run = await get(db, Run, gate.run_id)
    assert (run.status, run.epoch) == (RunStatus.AWAITING_APPROVAL, 1)  # not re-queued
    ws = stack.workspace
    assert not [c for c in ws.calls_to("chat.update") if c.params.get("ts") == gate.ts]
    assert any(b["type"] == "actions" for b in gate.message(ws).blocks)


async def test_a_non_approver_cannot_approve_or_reject(stack) -> None:  # type: ignore[no-untyped-def]
    ws = stack.workspace
    gate = await wake_gate(stack)

    click = await ws.click("U0DAN", gate.channel_id, gate.ts, APPROVE)
    assert (click.status, click.body) == (200, "")
    note = await next_note(ws, gate.channel_id, "U0DAN", 0)
    assert note.text == NOT_AN_APPROVER and note.ephemeral_user == "U0DAN"

    await ws.click("U0DAN", gate.channel_id, gate.ts, REJECT)
    note = await next_note(ws, gate.channel_id, "U0DAN", 1)
    assert note.text == NOT_AN_APPROVER
    assert ws.current_modal("U0DAN") is None  # no reject modal for him
    assert not ws.calls_to("views.open")

    await _unchanged(stack, gate)
    assert notes(ws, gate.channel_id, "U0BOB") == []  # nobody else was told anything
    assert [m.text.split(" (run")[0] for m in notes(ws, gate.channel_id, "U0ALICE")] == [
        "Waking the ceo agent of acme now"  # her own /lumen wake, and nothing since
    ]


async def test_user_group_and_channel_members_are_approvers(open_stack: StackOpener) -> None:
    data = demo_dict()
    data["gates"]["approvers"] = {"usergroups": ["S0LEADS"], "channels": ["#pricing-council"]}
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    workspace.ensure_channel("pricing-council", members=["U0CAROL"])
    async with open_stack(to_config(data), workspace=workspace) as stack:
        ws, db = stack.workspace, stack.container.db
        group_gate = await wake_gate(stack)  # S0LEADS is alice
        await ws.click("U0BOB", group_gate.channel_id, group_gate.ts, APPROVE)  # bob is in neither
        assert (await next_note(ws, group_gate.channel_id, "U0BOB", 0)).text == NOT_AN_APPROVER
        await _unchanged(stack, group_gate)
        await approve(ws, "U0ALICE", group_gate.channel_id, group_gate.ts)
        await wait_run(db, group_gate.run_id, RunStatus.SUCCEEDED)
        assert (await get(db, Approval, group_gate.approval_id)).resolved_by == "U0ALICE"

        # acme's next gated move (the $4,000 hire) waits for the same people; carol is in #pricing-council.
        channel_gate = await wake_gate(stack)
        await ws.click("U0CAROL", channel_gate.channel_id, channel_gate.ts, REJECT)
        await ws.wait_for(lambda: ws.current_modal("U0CAROL"), 5)
        await ws.submit_view("U0CAROL", None, {"reason": "Hire after the funding round"})
        await wait_run(db, channel_gate.run_id, RunStatus.SUCCEEDED)
        approval = await get(db, Approval, channel_gate.approval_id)
        assert (approval.status, approval.resolved_by) == (ApprovalStatus.REJECTED, "U0CAROL")
        lookups = {c.method for c in ws.calls}
        assert {"usergroups.users.list", "conversations.members"} <= lookups


async def test_the_reject_modal_refuses_an_empty_reason(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    await ws.click("U0BOB", gate.channel_id, gate.ts, REJECT)
    modal = await ws.wait_for(lambda: ws.current_modal("U0BOB"), 5)
    assert modal.definition["callback_id"] == "approval_reject_modal"

    for empty in ("", "   ", "no"):
        answer = await ws.submit_view("U0BOB", None, {"reason": empty})
        assert answer.status == 200 and answer.json()["response_action"] == "errors", empty
        assert ws.current_modal("U0BOB") is modal  # still open ...
        assert modal.errors == {"reason": "Say why, in a few words: the agent reads it before its next decision."}
        await _unchanged(stack, gate)  # ... and nothing decided

    answer = await ws.submit_view("U0BOB", None, {"reason": "Competitor just cut prices; wait a month"})
    assert (answer.status, answer.body) == (200, "")
    assert ws.current_modal("U0BOB") is None
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    approval = await get(db, Approval, gate.approval_id)
    assert (approval.status, approval.reason) == (ApprovalStatus.REJECTED, "Competitor just cut prices; wait a month")


async def test_a_reject_submitted_after_someone_approved_says_so_in_the_modal(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    await ws.click("U0BOB", gate.channel_id, gate.ts, REJECT)
    await ws.wait_for(lambda: ws.current_modal("U0BOB"), 5)
    await approve(ws, "U0ALICE", gate.channel_id, gate.ts)  # alice is quicker
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)

    answer = await ws.submit_view("U0BOB", None, {"reason": "Too generous a discount"})
    assert answer.json()["response_action"] == "errors"
    assert ws.current_modal("U0BOB").errors["reason"].startswith("Already decided: <@U0ALICE> approved this")
    approval = await get(db, Approval, gate.approval_id)
    assert (approval.status, approval.resolved_by, approval.reason) == (ApprovalStatus.APPROVED, "U0ALICE", None)
    assert [v.user_id for v in await votes(db, gate.approval_id)] == ["U0ALICE"]
