"""The approval message: what, why, the effect, the amount, the agent and its brain, the evidence;
Approve and Reject; and, once decided, the same message rewritten in place without buttons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from lumen.db.base import utcnow
from lumen.db.models import (
    Agent,
    Approval,
    BrainVersion,
    Decision,
    DecisionStatus,
    Outcome,
    Run,
    RunStatus,
    RunTrigger,
    Venture,
    Verdict,
)
from lumen.engine import runs
from tests.approvals.conftest import StackOpener
from tests.approvals.support import APPROVE, REJECT, approve, demo_dict, get, to_config, venture, wait_run, wake_gate
from tests.slack.support import block_texts

HIRE = "Hire a contract customer success manager"


def in_berlin(moment: datetime) -> str:
    """How a card shows a time: in the demo workspace's zone (Europe/Berlin), labelled."""
    local = moment.astimezone(ZoneInfo("Europe/Berlin"))
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


async def _history(stack) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Brain v3 for acme, and earlier decisions: two of the same category (with and without an
    outcome), one of another category, one of another venture."""
    ids: dict[str, int] = {}
    async with stack.container.db.transaction() as session:
        ventures = {v.slug: v for v in (await session.scalars(select(Venture))).all()}
        agents = {a.venture_id: a for a in (await session.scalars(select(Agent).where(Agent.role == "ceo"))).all()}
        session.add(BrainVersion(venture_id=ventures["acme"].id, version=3, summary="Acme brain, third edition"))
        earlier = [
            ("acme", "resource_allocation", "Hire a part-time designer", DecisionStatus.EXECUTED, Verdict.FAILURE),
            ("acme", "resource_allocation", "Buy a data enrichment tool", DecisionStatus.REJECTED, None),
            ("acme", "marketing", "Sponsor a podcast", DecisionStatus.EXECUTED, Verdict.SUCCESS),
            ("brightbox", "resource_allocation", "Rent a studio", DecisionStatus.EXECUTED, Verdict.SUCCESS),
        ]
        for n, (slug, category, title, status, verdict) in enumerate(earlier):
            v = ventures[slug]
            run_id = await runs.enqueue(
                session, key=f"history:{n}", trigger=RunTrigger.MANUAL, agent_id=agents[v.id].id, venture_id=v.id
            )
            await session.execute(
                update(Run).where(Run.id == run_id).values(status=RunStatus.SUCCEEDED)
            )
            decision = Decision(
                run_id=run_id, ordinal=0, venture_id=v.id, agent_id=agents[v.id].id, category=category,
                title=title, rationale="earlier", amount_usd=Decimal("1200"), status=status, created_at=utcnow(),
            )
            session.add(decision)
            await session.flush()
            ids[title] = decision.id
            if verdict is not None:
                session.add(Outcome(decision_id=decision.id, verdict=verdict, note="measured"))
    return ids


async def test_the_message_shows_what_why_effect_amount_agent_brain_and_evidence(open_stack: StackOpener) -> None:
    data = demo_dict()
    playbook = venture(data, "acme")["playbook"]
    playbook.insert(0, playbook.pop(3))  # the $4,000 hire first
    async with open_stack(to_config(data)) as stack:
        ids = await _history(stack)
        ws = stack.workspace
        gate = await wake_gate(stack)
        msg = gate.message(ws)
        text = block_texts(msg.blocks)
        assert msg.text == f"Approval needed for Acme Analytics: {HIRE}"
        assert f"*Proposed:* {HIRE}" in text
        assert "*Why:* [offline model]" in text and "Onboarding calls doubled activation" in text
        assert "Activation from 30% to 45%" in text  # the expected effect
        assert "$4,000.00" in text
        assert "`resource_allocation`" in text
        assert "ceo · brain v3" in text
        assert f"decision #{gate.decision_id} · run #{gate.run_id}" in text
        assert "<@U0ALICE>, <@U0BOB>" in text  # who may decide
        # Evidence: the same venture and category, newest first, each with how it turned out.
        assert f"#{ids['Buy a data enrichment tool']} Buy a data enrichment tool — rejected, no outcome yet" in text
        assert f"#{ids['Hire a part-time designer']} Hire a part-time designer — executed, ❌ failure" in text
        assert text.index("Buy a data enrichment tool") < text.index("Hire a part-time designer")
        assert "Sponsor a podcast" not in text and "Rent a studio" not in text

        (actions,) = [b for b in msg.blocks if b["type"] == "actions"]
        buttons = {e["action_id"]: e for e in actions["elements"]}
        assert set(buttons) == {APPROVE, REJECT}
        assert buttons[APPROVE]["value"] == buttons[REJECT]["value"] == str(gate.approval_id)
        # No Slack confirm: it would ask non-approvers too; an approver's click opens a modal instead.
        assert buttons[APPROVE]["text"]["text"] == "Approve…" and "confirm" not in buttons[APPROVE]
        assert buttons[REJECT]["text"]["text"].startswith("Reject")


async def test_no_evidence_says_so(stack) -> None:  # type: ignore[no-untyped-def]
    gate = await wake_gate(stack)
    text = block_texts(gate.message(stack.workspace).blocks)
    assert "_No earlier decisions in this category._" in text
    assert "no brain yet" in text
    assert "*Amount*\n—" in text  # a price change carries no amount


async def test_once_approved_the_message_is_rewritten_in_place(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    before = len(ws.messages(gate.channel_id, include_replies=False))
    await approve(ws, "U0BOB", gate.channel_id, gate.ts)
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    msg = await ws.wait_for(lambda: gate.message(ws) if gate.message(ws).edited else None, 5)

    approval = await get(db, Approval, gate.approval_id)
    assert msg.ts == gate.ts  # the same message, not a new one
    assert msg.text == "✅ Approved: Launch annual plan with two months free"
    text = block_texts(msg.blocks)
    assert f"*✅ Approved* by <@U0BOB> on {in_berlin(approval.resolved_at)}" in text  # the workspace's zone
    assert "*Proposed:* Launch annual plan" in text  # what was decided stays readable
    assert not any(b["type"] == "actions" for b in msg.blocks)
    updates = [c for c in ws.calls_to("chat.update") if c.params.get("ts") == gate.ts]
    assert len(updates) == 1 and updates[0].params["channel"] == gate.channel_id
    # The executed decision is posted as a message of its own, after the approval.
    await ws.wait_for(lambda: len(ws.messages(gate.channel_id, include_replies=False)) == before + 1, 5)
    posted = ws.messages(gate.channel_id, include_replies=False)[-1]
    assert "Launch annual plan" in posted.text and posted.ts != gate.ts


async def test_once_rejected_the_message_says_who_when_and_why(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    await ws.click("U0ALICE", gate.channel_id, gate.ts, REJECT)
    modal = await ws.wait_for(lambda: ws.current_modal("U0ALICE"), 5)
    assert modal.definition["callback_id"] == "approval_reject_modal"
    await ws.submit_view("U0ALICE", None, {"reason": "Wait for the Q1 pricing study"})
    assert ws.current_modal("U0ALICE") is None  # the modal closed
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    msg = await ws.wait_for(lambda: gate.message(ws) if gate.message(ws).edited else None, 5)
    approval = await get(db, Approval, gate.approval_id)
    text = block_texts(msg.blocks)
    assert msg.text.startswith("🚫 Rejected")
    assert f"*🚫 Rejected* by <@U0ALICE> on {in_berlin(approval.resolved_at)}" in text
    assert ">Wait for the Q1 pricing study" in text
    assert not any(b["type"] == "actions" for b in msg.blocks)
    assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.REJECTED
