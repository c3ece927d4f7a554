"""The plain sentences Lumen says: why a click changed nothing, votes, reminders, escalations."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lumen.render import messages
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, assert_escaped

AT = datetime(2026, 3, 2, 14, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("approved", "Already decided: <@U0BOB> approved this at 14:05 UTC on 02 Mar."),
        ("rejected", "Already decided: <@U0BOB> rejected this at 14:05 UTC on 02 Mar."),
        ("expired", "Too late: this approval expired at 14:05 UTC on 02 Mar and the decision was rejected."),
    ],
)
def test_already_decided_says_who_and_when(status: str, said: str) -> None:
    assert messages.already_decided(status, "U0BOB", AT) == said


def test_already_decided_by_lumen_at_an_unknown_time() -> None:
    assert messages.already_decided("rejected", None, None) == "Already decided: Lumen rejected this."
    assert messages.already_decided("expired", None, None) == "Too late: this approval expired and the decision was rejected."


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("already", "Already decided: <@U0BOB> approved this at 14:05 UTC on 02 Mar."),
        ("not_approver", "You are not an approver for this decision, so nothing changed. The approvers are named on the message."),
        ("expired", "This approval has expired; the decision will be rejected and the channel told."),
        ("missing", "That approval no longer exists."),
    ],
)
def test_click_refused_explains_each_kind(kind: str, said: str) -> None:
    assert messages.click_refused(kind, "approved", "U0BOB", AT) == said


def test_vote_recorded_counts_towards_the_quorum() -> None:
    assert messages.vote_recorded(1, 2) == "Your approval is recorded: 1 of 2 needed."


def test_a_question_asked_in_channel_is_shown_not_acted_on() -> None:
    said = messages.asked_in_channel("U0ALICE", HOSTILE)
    assert said == f"<@U0ALICE> asked: {HOSTILE_ESCAPED}"
    assert_escaped(said)


def test_escalation_expiry_and_reminders_escape_the_title() -> None:
    escalated = messages.escalated(HOSTILE, ["U0BOB", "U0CAROL"])
    assert escalated.endswith("now also waiting for <@U0BOB>, <@U0CAROL>.")
    assert "the backup approvers" in messages.escalated("Hire", [])
    dm = messages.reminder_dm(HOSTILE, HOSTILE)
    for said in (escalated, messages.expired_rejected(HOSTILE), dm):
        assert_escaped(said)
    assert dm.count(HOSTILE_ESCAPED) == 2  # venture name and title both


def test_reminder_names_approvers_and_the_expiry() -> None:
    assert messages.reminder(["U0ALICE"], AT) == (
        "⏰ Reminder: <@U0ALICE>, this is still waiting for a decision (expires Mon 02 Mar 14:05 UTC)."
    )
    assert messages.reminder([], AT).startswith("⏰ Reminder: approvers, this")


def test_the_fixed_sentences() -> None:
    assert messages.mention_reply("U0ALICE").startswith("Hi <@U0ALICE>! Try `/lumen status`")
    assert messages.woken("acme", "ceo", 88) == (
        "Waking the ceo agent of acme now (run #88). Its decisions will appear in the venture's channel."
    )
    assert messages.nothing_to("paused", "Acme Analytics") == "Nothing to do: those agents of Acme Analytics are already paused."
    assert messages.mentions(["U1", "U2"]) == "<@U1>, <@U2>"
    for sentence in (messages.command_failed(), messages.ask_failed(), messages.reason_required(), messages.approval_missing()):
        assert sentence.endswith(".") and "<" not in sentence
