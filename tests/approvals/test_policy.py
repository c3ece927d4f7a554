"""The gate policy: which decisions need a human, who that human is, and what time does.

Classification is checked both as a pure rule and through real wake-ups on the real stack;
approvers are resolved through the dev workspace's Web API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from lumen.approvals import service
from lumen.slack.directory import SlackDirectory
from lumen.approvals.tasks import sweep
from lumen.config import LumenConfig
from lumen.db.base import utcnow
from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, RunStatus
from devslack import Workspace
from devslack import start as start_workspace
from lumen.domain.gates import effective_rules, rule_for
from lumen.errors import ConfigError
from lumen.render.messages import click_refused
from tests.approvals.conftest import StackOpener
from tests.approvals.support import (
    APPROVE,
    approve,
    FAST_RETRIES,
    demo_dict,
    eventually,
    get,
    next_note,
    notes,
    outbox_sent,
    steps,
    to_config,
    venture,
    votes,
    wait_run,
    wake_gate,
)
from tests.slack.support import block_texts

HOUR = timedelta(hours=1)


def _close(a, b, slack: timedelta = timedelta(seconds=2)) -> bool:  # type: ignore[no-untyped-def]
    return abs(a - b) <= slack


# --- which decisions need a human --------------------------------------------------------


def test_standard_categories_are_gated_and_undeclared_ones_are_not(example_config: LumenConfig) -> None:
    rules = effective_rules(example_config.gates)
    for category in ("pricing_change", "stage_transition", "customer_commitment", "security"):
        assert rules[category].applies_to(None), category
        assert rules[category].applies_to(Decimal("1")), category
    assert not rules["new_dependency"].applies_to(None)  # the demo turns it off
    assert not rule_for(rules, "marketing").gated  # an ordinary kind of move: agents decide alone


def test_resource_allocation_is_gated_only_above_its_amount(example_config: LumenConfig) -> None:
    rule = effective_rules(example_config.gates)["resource_allocation"]
    assert rule.above_usd == Decimal("500")
    assert not rule.applies_to(None)
    assert not rule.applies_to(Decimal("500"))  # "above": the threshold itself goes ahead
    assert rule.applies_to(Decimal("500.01"))
    # Without a threshold in lumen.yml, the built-in one applies.
    data = demo_dict()
    del data["gates"]["categories"]["resource_allocation"]
    default = effective_rules(to_config(data).gates)["resource_allocation"]
    assert default.above_usd == Decimal("500") and default.applies_to(Decimal("501"))


def test_venture_overrides_and_custom_categories() -> None:
    data = demo_dict()
    data["gates"]["categories"]["partnership"] = {"approvers": ["U0CAROL"], "expiry_hours": 12}
    venture(data, "brightbox")["gates"]["hiring"] = {"approvers": {"users": ["U0BOB"]}, "quorum": 2}
    config = to_config(data)
    workspace_rules = effective_rules(config.gates)
    assert workspace_rules["partnership"].approvers.users == ("U0CAROL",)
    assert workspace_rules["partnership"].expiry_hours == 12
    assert workspace_rules["partnership"].reminder_hours == 24  # the rest from the workspace policy
    assert "hiring" not in workspace_rules

    brightbox = effective_rules(config.gates, dict(config.venture("brightbox").gates))
    assert brightbox["pricing_change"].approvers.users == ("U0ALICE",)
    assert brightbox["pricing_change"].backup_approvers.users == ("U0CAROL",)
    assert brightbox["hiring"].gated and brightbox["hiring"].quorum == 2
    acme = effective_rules(config.gates, dict(config.venture("acme").gates))
    assert acme["pricing_change"].approvers.users == ("U0ALICE", "U0BOB")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["gates"].pop("approvers"), "venture 'acme': gate 'pricing_change' has no approver"),
        (
            lambda d: venture(d, "brightbox")["gates"].update(pricing_change={"approvers": []}),
            "venture 'brightbox': gate 'pricing_change' has no approver",
        ),
        (
            lambda d: d["gates"]["categories"].update(partnership={"approvers": {"users": []}}),
            "venture 'acme': gate 'partnership' has no approver",
        ),
    ],
    ids=["no-default-approvers", "venture-override-empties-them", "custom-category"],
)
def test_a_gate_nobody_may_approve_is_refused_at_load(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = demo_dict()
    change(data)
    with pytest.raises(ConfigError, match=message):
        to_config(data)


def test_ungated_categories_need_no_approver() -> None:
    data = demo_dict()
    data["gates"].pop("approvers")
    data["gates"]["categories"] = {c: {"gated": False} for c in (
        "pricing_change", "stage_transition", "customer_commitment", "resource_allocation", "new_dependency", "security"
    )}
    for v in data["ventures"]:
        v.pop("gates", None)
    to_config(data)  # no error


async def test_classification_through_a_wake_up(open_stack: StackOpener) -> None:
    """$300 of resource_allocation goes ahead; $4000 waits for a human; a custom category too."""
    data = demo_dict()
    data["gates"]["categories"]["partnership"] = {"approvers": ["U0CAROL"]}
    venture(data, "acme")["playbook"] = [
        {"title": "Small ads test", "category": "resource_allocation", "amount_usd": 300},
        {"title": "Hire a contractor", "category": "resource_allocation", "amount_usd": 4000},
        {"title": "Partner with Globex", "category": "partnership"},
    ]
    async with open_stack(to_config(data)) as stack:
        ws, db = stack.workspace, stack.container.db
        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "wake acme ceo")

        async def executed() -> Decision | None:
            async with db.sessions() as session:
                return await session.scalar(select(Decision).where(Decision.title == "Small ads test"))

        small = await eventually(executed, 20)
        await wait_run(db, small.run_id, RunStatus.SUCCEEDED)
        small = await get(db, Decision, small.id)
        assert small.status == DecisionStatus.EXECUTED
        async with db.sessions() as session:
            assert await session.scalar(select(Approval).where(Approval.decision_id == small.id)) is None
        await outbox_sent(db, f"decision:{small.id}:post")

        big = await wake_gate(stack)
        assert (await get(db, Decision, big.decision_id)).title == "Hire a contractor"
        await ws.click("U0ALICE", big.channel_id, big.ts, "approval_reject")  # opens the modal
        await ws.wait_for(lambda: ws.current_modal("U0ALICE"), 5)
        await ws.submit_view("U0ALICE", None, {"reason": "Not this quarter"})
        await wait_run(db, big.run_id, RunStatus.SUCCEEDED)

        custom = await wake_gate(stack)
        approval = await get(db, Approval, custom.approval_id)
        assert (await get(db, Decision, custom.decision_id)).category == "partnership"
        assert approval.approvers["users"] == ["U0CAROL"]


async def test_a_venture_override_names_its_own_approvers(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack, "brightbox")
    approval = await get(db, Approval, gate.approval_id)
    assert approval.approvers["users"] == ["U0ALICE"]
    assert "<@U0ALICE>" in block_texts(gate.message(ws).blocks)
    assert "<@U0BOB>" not in block_texts(gate.message(ws).blocks)

    await ws.click("U0BOB", gate.channel_id, gate.ts, APPROVE)  # bob approves acme's pricing, not brightbox's
    note = await next_note(ws, gate.channel_id, "U0BOB", 0)
    assert "not an approver" in note.text
    assert (await get(db, Approval, gate.approval_id)).status == ApprovalStatus.PENDING

    await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    assert (await get(db, Approval, gate.approval_id)).resolved_by == "U0ALICE"


# --- who: users, user groups, channels, through the Web API ----------------------------


@pytest.fixture
async def workspace() -> AsyncIterator[tuple[Workspace, AsyncWebClient]]:
    ws = Workspace.demo(retry_delays=FAST_RETRIES)
    ws.ensure_channel("approvers", members=["U0CAROL"])
    runner, url = await start_workspace(ws)
    try:
        yield ws, AsyncWebClient(token=ws.bot_token, base_url=f"{url}/api/")
    finally:
        await runner.cleanup()


async def test_user_groups_and_channel_members_are_resolved_through_slack(
    workspace: tuple[Workspace, AsyncWebClient],
) -> None:
    ws, client = workspace
    channel_id = ws.resolve_channel("approvers").id
    directory = SlackDirectory(client)
    rule = {"users": ["U0BOB"], "usergroups": ["S0LEADS"], "channels": ["#approvers"], "backup_users": ["U0DAN"]}

    assert await directory.members(rule) >= {"U0BOB", "U0ALICE", "U0CAROL"}
    for user in ("U0ALICE", "U0BOB", "U0CAROL"):
        assert await directory.may_approve(rule, user), user
    assert not await directory.may_approve(rule, "U0DAN")
    assert await directory.may_approve(rule, "U0DAN", escalated=True)  # backups count once escalated
    assert await SlackDirectory(client).may_approve({"channels": [channel_id]}, "U0CAROL")  # by ID too
    methods = {c.method for c in ws.calls}
    assert {"usergroups.users.list", "conversations.members", "conversations.list"} <= methods

    # Membership is cached for a few minutes: no Web API round per click ...
    calls = len(ws.calls)
    ws.usergroups["S0LEADS"].users.append("U0DAN")
    assert not await directory.may_approve(rule, "U0DAN")
    assert len(ws.calls) == calls
    # ... and read again once the cache is old.
    assert await SlackDirectory(client, ttl=0).may_approve(rule, "U0DAN")

    # Slack down: what we knew still counts; what we never knew is nobody.
    ws.outage(True)
    try:
        assert await directory.may_approve(rule, "U0ALICE")
        assert not await SlackDirectory(client).may_approve({"usergroups": ["S0LEADS"]}, "U0ALICE")
    finally:
        ws.outage(False)


# --- quorum ------------------------------------------------------------------------------


def _commitment_first() -> LumenConfig:
    data = demo_dict()
    venture(data, "acme")["playbook"].insert(
        0, {"title": "Promise Globex a 99.9% SLA", "category": "customer_commitment", "expected_effect": "Globex signs"}
    )
    return to_config(data)


async def test_quorum_two_needs_two_different_approvers(open_stack: StackOpener) -> None:
    async with open_stack(_commitment_first()) as stack:
        ws, db = stack.workspace, stack.container.db
        gate = await wake_gate(stack)
        assert (await get(db, Approval, gate.approval_id)).quorum == 2
        assert "0 of 2 approvals" in block_texts(gate.message(ws).blocks)

        before = len(notes(ws, gate.channel_id, "U0ALICE"))
        await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
        note = await next_note(ws, gate.channel_id, "U0ALICE", before)
        assert note.text == "Your approval is recorded: 1 of 2 needed."
        await ws.wait_for(lambda: "1 of 2 approvals" in block_texts(gate.message(ws).blocks), 5)
        assert any(b["type"] == "actions" for b in gate.message(ws).blocks)  # still open

        # The same person twice is still one approval.
        await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
        note = await next_note(ws, gate.channel_id, "U0ALICE", before + 1)
        assert note.text.endswith("1 of 2 needed.")
        approval = await get(db, Approval, gate.approval_id)
        assert approval.status == ApprovalStatus.PENDING
        assert [v.user_id for v in await votes(db, gate.approval_id)] == ["U0ALICE"]
        assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.AWAITING_APPROVAL

        await approve(ws, "U0BOB", gate.channel_id, gate.ts)
        await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
        approval = await get(db, Approval, gate.approval_id)
        assert (approval.status, approval.resolved_by) == (ApprovalStatus.APPROVED, "U0BOB")
        assert sorted(v.user_id for v in await votes(db, gate.approval_id)) == ["U0ALICE", "U0BOB"]
        await ws.wait_for(lambda: "Approved" in gate.message(ws).text, 5)


async def test_with_quorum_two_one_rejection_is_a_veto(open_stack: StackOpener) -> None:
    async with open_stack(_commitment_first()) as stack:
        ws, db = stack.workspace, stack.container.db
        gate = await wake_gate(stack)
        before = len(notes(ws, gate.channel_id, "U0ALICE"))
        await approve(ws, "U0ALICE", gate.channel_id, gate.ts)
        await next_note(ws, gate.channel_id, "U0ALICE", before)
        await ws.click("U0BOB", gate.channel_id, gate.ts, "approval_reject")
        await ws.wait_for(lambda: ws.current_modal("U0BOB"), 5)
        await ws.submit_view("U0BOB", None, {"reason": "Legal has not seen the SLA"})
        await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
        approval = await get(db, Approval, gate.approval_id)
        assert (approval.status, approval.resolved_by, approval.reason) == (
            ApprovalStatus.REJECTED, "U0BOB", "Legal has not seen the SLA"
        )


# --- time: expiry, reminders, escalation ------------------------------------------------------


async def test_expiry_and_reminder_times_default_to_72_and_24_hours(stack) -> None:  # type: ignore[no-untyped-def]
    gate = await wake_gate(stack)
    approval = await get(stack.container.db, Approval, gate.approval_id)
    assert _close(approval.expires_at - approval.created_at, 72 * HOUR)
    assert _close(approval.next_reminder_at - approval.created_at, 24 * HOUR)
    assert approval.approvers["on_expiry"] == "reject"
    assert approval.approvers["backup_users"] == ["U0CAROL"]


async def test_expiry_and_reminder_times_follow_the_policy(open_stack: StackOpener) -> None:
    data = demo_dict()
    data["gates"]["categories"]["pricing_change"] = {"expiry_hours": 2, "reminder_hours": 0.5}
    async with open_stack(to_config(data)) as stack:
        gate = await wake_gate(stack)
        approval = await get(stack.container.db, Approval, gate.approval_id)
        assert _close(approval.expires_at - approval.created_at, 2 * HOUR)
        assert _close(approval.next_reminder_at - approval.created_at, HOUR / 2)


async def test_on_expiry_reject(stack) -> None:  # type: ignore[no-untyped-def]
    ws, db = stack.workspace, stack.container.db
    gate = await wake_gate(stack)
    later = utcnow() + 73 * HOUR
    report = await sweep(db, stack.container.directory, now=later)
    assert report.expired == [gate.approval_id] and report.escalated == []
    stack.container.signals.runs.notify()
    stack.replica.outbox.notify()

    approval = await get(db, Approval, gate.approval_id)
    assert approval.status == ApprovalStatus.EXPIRED and approval.resolved_by is None
    assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.EXPIRED
    await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
    gate_step = next(s for s in await steps(db, gate.run_id) if s.name == "gate:0")
    assert gate_step.output["status"] == "expired"

    announced = await ws.wait_for(
        lambda: [m for m in ws.messages(gate.channel_id, include_replies=False) if m.text.startswith("⌛ Expired")], 5
    )
    assert "Launch annual plan" in announced[0].text
    await ws.wait_for(lambda: gate.message(ws).text.startswith("⌛ Expired"), 5)
    assert not any(b["type"] == "actions" for b in gate.message(ws).blocks)

    # A second sweep finds nothing; a late click is told it is too late.
    assert not (await sweep(db, stack.container.directory, now=later)).anything
    # (The message has no buttons any more; a click from an old App Home view still lands here.)
    async with db.sessions() as session:
        late = await service.check(session, stack.container.directory, gate.approval_id, "U0ALICE")
    async with db.transaction() as session:
        assert await service.resolve(session, gate.approval_id, "U0ALICE", approve=True) == late
    assert late is not None and late.kind == "already" and late.status == "expired"
    assert click_refused(late.kind, late.status, late.resolved_by, late.resolved_at).startswith(
        "Too late: this approval expired"
    )
    assert (await get(db, Approval, gate.approval_id)).status == ApprovalStatus.EXPIRED


def _escalating() -> LumenConfig:
    data = demo_dict()
    data["gates"]["on_expiry"] = "escalate"
    return to_config(data)


async def test_on_expiry_escalate_once_to_the_backup_approvers(open_stack: StackOpener) -> None:
    async with open_stack(_escalating()) as stack:
        ws, db, directory = stack.workspace, stack.container.db, stack.container.directory
        gate = await wake_gate(stack)
        msg = gate.message(ws)  # carol clicks before the escalation: not (yet) hers to decide
        await ws.click("U0CAROL", gate.channel_id, msg.ts, APPROVE)
        note = await next_note(ws, gate.channel_id, "U0CAROL", 0)
        assert "not an approver" in note.text

        later = utcnow() + 73 * HOUR
        report = await sweep(db, directory, now=later)
        assert report.escalated == [gate.approval_id] and report.expired == []
        stack.replica.outbox.notify()
        approval = await get(db, Approval, gate.approval_id)
        assert approval.status == ApprovalStatus.PENDING and approval.escalated
        assert _close(approval.expires_at, later + 72 * HOUR)
        announced = await ws.wait_for(
            lambda: [m for m in ws.messages(gate.channel_id, include_replies=False) if m.text.startswith("⏫ Escalated")], 5
        )
        assert "<@U0CAROL>" in announced[0].text
        await ws.wait_for(lambda: "then <@U0CAROL>" in block_texts(gate.message(ws).blocks), 5)
        assert (await sweep(db, directory, now=later)).escalated == []  # once

        await approve(ws, "U0CAROL", gate.channel_id, gate.ts)
        await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
        approval = await get(db, Approval, gate.approval_id)
        assert (approval.status, approval.resolved_by) == (ApprovalStatus.APPROVED, "U0CAROL")
        assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.EXECUTED


async def test_an_escalated_gate_that_expires_again_is_rejected(open_stack: StackOpener) -> None:
    async with open_stack(_escalating()) as stack:
        ws, db, directory = stack.workspace, stack.container.db, stack.container.directory
        gate = await wake_gate(stack)
        first = utcnow() + 73 * HOUR
        assert (await sweep(db, directory, now=first)).escalated == [gate.approval_id]
        second = first + 73 * HOUR
        report = await sweep(db, directory, now=second)
        assert report.expired == [gate.approval_id] and report.escalated == []
        stack.container.signals.runs.notify()
        stack.replica.outbox.notify()
        assert (await get(db, Approval, gate.approval_id)).status == ApprovalStatus.EXPIRED
        assert (await get(db, Decision, gate.decision_id)).status == DecisionStatus.EXPIRED
        await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
        await ws.wait_for(
            lambda: any(m.text.startswith("⌛ Expired") for m in ws.messages(gate.channel_id, include_replies=False)), 5
        )
