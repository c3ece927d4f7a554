"""Approval messages: what is proposed and why, Approve (confirmed) and Reject (with a reason), and the
same message rewritten once decided."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import pytest

from lumen.render.approvals import (
    APPROVE_ACTION,
    APPROVE_MODAL,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_ACTION,
    REJECT_MODAL,
    ApprovalCard,
    Evidence,
    approval_blocks,
    approval_text,
    approve_modal,
    pending_list_blocks,
    reject_modal,
    resolved_blocks,
    resolved_text,
)
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, approval_card, assert_escaped, texts, valid_blocks, valid_view

EVIDENCE = (
    Evidence(5, "Hire a part-time designer", "executed", "failure", "https://acme.slack.com/archives/C0ACME/p5"),
    Evidence(6, "Buy a data enrichment tool", "rejected", None, None),
)
RESOLVED_AT = datetime(2026, 3, 2, 14, 5, tzinfo=timezone.utc)


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    actions = [b for b in blocks if b["type"] == "actions"]
    return {e["action_id"]: e for a in actions for e in a["elements"]}


def test_approval_shows_what_why_effect_amount_agent_and_evidence() -> None:
    blocks = valid_blocks(approval_blocks(approval_card(evidence=EVIDENCE)))
    assert blocks[0]["text"]["text"] == "✋ Approval needed · Acme Analytics"
    shown = texts(blocks)
    assert "*Proposed:* Hire a contract customer success manager" in shown
    assert "*Why:* Onboarding calls doubled activation last quarter." in shown
    assert "*Category*\n`resource_allocation`" in shown
    assert "*Amount*\n$4,000.00" in shown
    assert "*Expected effect*\nActivation from 30% to 45%" in shown
    assert "*Agent*\nceo · brain v3" in shown
    assert f"• #5 <{EVIDENCE[0].permalink}|Hire a part-time designer> — executed, ❌ failure" in shown
    assert "• #6 Buy a data enrichment tool — rejected, no outcome yet" in shown
    assert "Approvers: <@U0ALICE> · expires Tue 03 Mar 17:30 UTC · decision #27 · run #88" in shown
    assert approval_text(approval_card()) == "Approval needed for Acme Analytics: Hire a contract customer success manager"


def test_approval_without_amount_brain_or_evidence_says_so() -> None:
    card = approval_card(amount_usd=None, brain_version=None, rationale="", expected_effect="")
    shown = texts(valid_blocks(approval_blocks(card)))
    assert "*Amount*\n—" in shown and "ceo · no brain yet" in shown
    assert "*Why:* —" in shown and "*Expected effect*\n—" in shown
    assert "_No earlier decisions in this category._" in shown


def test_approve_and_reject_buttons_carry_the_approval_id() -> None:
    blocks = approval_blocks(approval_card())
    assert blocks[-1]["block_id"] == "approval:314"
    buttons = _buttons(blocks)
    assert set(buttons) == {APPROVE_ACTION, REJECT_ACTION}
    assert buttons[APPROVE_ACTION]["value"] == buttons[REJECT_ACTION]["value"] == "314"
    assert buttons[APPROVE_ACTION]["style"] == "primary" and buttons[REJECT_ACTION]["style"] == "danger"
    assert "confirm" not in buttons[REJECT_ACTION]  # Reject asks for a reason in a modal instead


def test_approve_asks_for_confirmation_in_a_modal_naming_the_decision() -> None:
    """No `confirm` on the button: Slack would show it to non-approvers too, before Lumen can
    refuse them. The approver's confirmation is a modal, opened once Lumen knows who clicked."""
    card = approval_card(title=HOSTILE)
    assert "confirm" not in _buttons(approval_blocks(card))[APPROVE_ACTION]
    modal = valid_view(approve_modal(card))
    assert modal["callback_id"] == APPROVE_MODAL
    assert modal["title"]["text"] == "Approve decision"
    assert modal["submit"]["text"] == "Approve" and modal["close"]["text"] == "Cancel"
    assert f"*{HOSTILE_ESCAPED}* will be executed." in texts(modal["blocks"])
    assert "expires Tue 03 Mar 17:30 UTC" in texts(modal["blocks"])


def test_times_are_in_the_workspace_zone_and_say_which() -> None:
    card = approval_card(tz="Europe/Berlin")
    assert "expires Tue 03 Mar 18:30 CET" in texts(approval_blocks(card))
    resolved = replace(card, status="approved", resolved_by="U0BOB", resolved_at=RESOLVED_AT)
    assert "by <@U0BOB> on Mon 02 Mar 15:05 CET" in texts(resolved_blocks(resolved))
    assert "expires Tue 03 Mar 18:30 CET" in texts(pending_list_blocks([card], heading="Waiting"))


def test_quorum_and_escalation_name_every_approver() -> None:
    approvers = {
        "users": ["U0ALICE"],
        "usergroups": ["S0FINANCE"],
        "channels": ["C0BOARD", "#leadership"],
        "backup_users": ["U0BOB"],
    }
    shown = texts(approval_blocks(approval_card(approvers=approvers, quorum=2, votes_for=1, escalated=True)))
    assert "Approvers: <@U0ALICE>, <!subteam^S0FINANCE>, <#C0BOARD>, #leadership, then <@U0BOB> · 1 of 2 approvals" in shown
    assert "Approvers: nobody ·" in texts(approval_blocks(approval_card(approvers={})))


def test_approval_escapes_everything_the_model_wrote() -> None:
    card = approval_card(
        title=HOSTILE,
        rationale=HOSTILE,
        expected_effect=HOSTILE,
        category=HOSTILE,
        agent_role=HOSTILE,
        evidence=(Evidence(5, HOSTILE, "executed", "success", None),),
    )
    blocks = approval_blocks(card)
    for field in ("*Proposed:* ", "*Why:* ", "*Category*\n`", "*Expected effect*\n", "*Agent*\n", "• #5 "):
        assert field + HOSTILE_ESCAPED in texts(blocks), field
    assert_escaped(texts(blocks))


def test_an_oversized_approval_is_clipped_not_refused() -> None:
    card = approval_card(
        venture_name="V" * 300,
        title="T" * 5_000,
        rationale="<&>" * 10_000,
        expected_effect="E" * 5_000,
        approvers={"users": [f"U{i:08d}" for i in range(300)]},
        evidence=tuple(Evidence(i, "An earlier decision " * 20, "executed", "success", f"https://x/p{i}") for i in range(60)),
    )
    valid_blocks(approval_blocks(card))
    valid_blocks(resolved_blocks(replace(card, status="rejected", resolved_by="U0BOB", reason="R" * 10_000)))
    valid_view(reject_modal(card))


@pytest.mark.parametrize(
    ("status", "label"),
    [("approved", "✅ Approved"), ("rejected", "🚫 Rejected"), ("expired", "⌛ Expired — rejected")],
)
def test_resolved_message_says_who_when_and_why_without_buttons(status: str, label: str) -> None:
    card = approval_card(status=status, resolved_by="U0BOB", resolved_at=RESOLVED_AT, reason=f"Too early {HOSTILE}")
    blocks = valid_blocks(resolved_blocks(card))
    assert blocks[0]["text"]["text"] == f"{label.split(' ')[0]} Hire a contract customer success manager"
    assert not [b for b in blocks if b["type"] == "actions"]
    shown = texts(blocks)
    assert f"*{label}* by <@U0BOB> on Mon 02 Mar 14:05 UTC\n>Too early {HOSTILE_ESCAPED}" in shown
    assert "decision #27 · run #88 · acme" in shown
    assert_escaped(shown)
    assert resolved_text(card) == f"{label}: Hire a contract customer success manager"


def test_expired_without_a_person_or_reason() -> None:
    """Expiry is nobody's click: no "by", no quoted reason."""
    blocks = valid_blocks(resolved_blocks(approval_card(status="expired")))
    assert blocks[-2]["text"]["text"] == "*⌛ Expired — rejected*"


@pytest.mark.parametrize("builder", [approval_text, resolved_text])
def test_notification_text_escapes_the_title(builder: Callable[[ApprovalCard], str]) -> None:
    """The `text` is posted with the blocks and shown in notifications: a title of `<!channel>` would
    reach Slack live there."""
    assert_escaped(builder(approval_card(title=HOSTILE, status="approved")))


def test_reject_modal_requires_a_reason_of_three_characters() -> None:
    view = valid_view(reject_modal(approval_card(title=HOSTILE, rationale=HOSTILE)))
    assert view["callback_id"] == REJECT_MODAL and view["private_metadata"] == "314"
    assert view["submit"]["text"] == "Reject"
    reason = next(b for b in view["blocks"] if b["type"] == "input")
    assert reason["block_id"] == REASON_BLOCK
    element = reason["element"]
    assert element["type"] == "plain_text_input" and element["action_id"] == REASON_INPUT
    assert element["min_length"] == 3 and element["max_length"] == 2000 and element["multiline"] is True
    assert_escaped(texts(view["blocks"]))


def test_pending_list_with_nothing_waiting() -> None:
    blocks = valid_blocks(pending_list_blocks([], heading="Waiting for your approval"))
    assert texts(blocks) == "Waiting for your approval\nNothing is waiting for you. 🎉"


def test_pending_list_gives_each_approval_working_buttons() -> None:
    cards = [approval_card(approval_id=1, title=HOSTILE), approval_card(approval_id=2, amount_usd=Decimal("0.0042"))]
    blocks = valid_blocks(pending_list_blocks(cards, heading="Approvals"))
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == ["approval:1", "approval:2"]
    shown = texts(blocks)
    assert "`resource_allocation` · $0.0042 · ceo · expires Tue 03 Mar 17:30 UTC" in shown
    assert_escaped(shown)


def test_sixty_pending_approvals_show_twelve_and_count_the_rest() -> None:
    cards = [approval_card(approval_id=i, title="Long title " * 100) for i in range(1, 61)]
    blocks = valid_blocks(pending_list_blocks(cards, heading="Approvals"))
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [str(i) for i in range(1, 13) for _ in range(2)]
    assert blocks[-1]["elements"][0]["text"] == "…and 48 more."
