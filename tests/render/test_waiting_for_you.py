"""`/lumen approvals`: what waits for the person, approvals and then agents' questions, within Slack's limits."""

from __future__ import annotations

from dataclasses import replace

from lumen.domain.ask_human import MAX_OPTIONS, OPTION_CHARS, QUESTION_CHARS
from lumen.render.questions import waiting_for_you_blocks, waiting_for_you_text
from tests.render.support import HOSTILE, assert_escaped, approval_card, texts, valid_blocks
from tests.render.test_questions import buttons, card


def test_approvals_come_first_then_the_questions_with_their_buttons() -> None:
    blocks = valid_blocks(waiting_for_you_blocks([approval_card()], [card()]))
    said = texts(blocks)
    assert said.index("Waiting for your approval") < said.index("Hire a contract customer success manager")
    assert said.index("Hire a contract customer success manager") < said.index("Questions for you")
    assert said.index("Questions for you") < said.index("Agencies first, or in-house teams?")
    question_buttons = [b["action_id"] for b in buttons(blocks) if b["action_id"].startswith("question_")]
    assert question_buttons == ["question_option_0", "question_option_1", "question_answer"]
    assert waiting_for_you_text(1, 1) == "1 approval and 1 question waiting for you"


def test_only_questions_do_not_claim_that_nothing_waits() -> None:
    blocks = valid_blocks(waiting_for_you_blocks([], [card(), card(question_id=42, question="Which city first?")]))
    said = texts(blocks)
    assert "Nothing is waiting for you" not in said and "Waiting for your approval" not in said
    assert "Which city first?" in said
    assert waiting_for_you_text(0, 2) == "0 approvals and 2 questions waiting for you"


def test_nothing_at_all_says_so() -> None:
    blocks = valid_blocks(waiting_for_you_blocks([], []))
    assert "Nothing is waiting for you" in texts(blocks) and "Questions for you" not in texts(blocks)
    assert waiting_for_you_text(0, 0) == "0 approvals waiting for you"


def test_the_longest_lists_of_the_largest_items_fit_one_message_and_escape_what_people_wrote() -> None:
    # Option labels are plain text (never parsed for mentions); the widest ones Slack may be sent.
    options = tuple(f"{i}" + "o" * (OPTION_CHARS - 1) for i in range(MAX_OPTIONS))
    approvals = [replace(approval_card(), approval_id=i, decision_id=100 + i, title=HOSTILE + "T" * 400) for i in range(30)]
    questions = [
        card(question_id=i, question=(HOSTILE + " why? " * 400)[:QUESTION_CHARS], options=options, venture_name="V" * 200)
        for i in range(1, 30)
    ]
    blocks = valid_blocks(waiting_for_you_blocks(approvals, questions))  # at most 50 blocks, each within limits
    said = texts(blocks)
    assert "…and 18 more." in said and "…and 21 more." in said
    assert_escaped(said)
