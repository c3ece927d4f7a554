"""The message of an agent's question to humans, its answer modal, and its place in App Home."""

from __future__ import annotations

from datetime import timedelta

from lumen.domain.ask_human import MAX_OPTIONS, OPTION_CHARS
from lumen.render.home import home_view
from lumen.render.limits import MAX_ACTION_ID, MAX_BUTTON_VALUE
from lumen.render.questions import (
    QuestionCard,
    answer_modal,
    answered_blocks,
    parse_option_value,
    question_blocks,
    question_text,
)
from tests.render.support import HOSTILE, NOW, assert_escaped, report, texts, valid_blocks, valid_view, venture_status


def card(**overrides: object) -> QuestionCard:
    base = dict(
        question_id=41,
        venture_name="Acme Analytics",
        venture_slug="acme",
        agent_role="ceo",
        run_id=7,
        question="Agencies first, or in-house teams?",
        options=("Agencies", "In-house teams"),
        approvers={"users": ["U0ALICE", "U0BOB"], "timezone": "Europe/London"},
        expires_at=NOW + timedelta(hours=72),
        tz="Europe/London",
    )
    base.update(overrides)
    return QuestionCard(**base)  # type: ignore[arg-type]


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_pending_question_offers_each_option_and_a_written_answer() -> None:
    blocks = valid_blocks(question_blocks(card()))
    shown = [(b["action_id"], b["text"]["text"], b["value"]) for b in buttons(blocks)]
    assert shown == [
        ("question_option_0", "Agencies", "41:0"),
        ("question_option_1", "In-house teams", "41:1"),
        ("question_answer", "Something else…", "41"),
    ]
    said = texts(blocks)
    assert "Agencies first, or in-house teams?" in said and "<@U0ALICE>, <@U0BOB>" in said and "run #7" in said


def test_the_largest_question_the_tool_allows_still_fits_slack() -> None:
    options = tuple(f"{i}" + "x" * (OPTION_CHARS - 1) for i in range(MAX_OPTIONS))
    big = card(question="Why? " * 200, options=options, venture_name="V" * 200, agent_role="r" * 32)
    for blocks in (question_blocks(big), answered_blocks(big)):
        valid_blocks(blocks)
    for element in buttons(question_blocks(big)):
        assert len(element["action_id"]) <= MAX_ACTION_ID and len(element["value"]) <= MAX_BUTTON_VALUE
    valid_view(answer_modal(big))


def formatted(node: object) -> str:
    """The mrkdwn texts, where Slack would turn `<!channel>` into a ping (plain_text shows it as is)."""
    out: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, dict):
            if item.get("type") == "mrkdwn":
                out.append(str(item["text"]))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(out)


def test_what_the_model_and_people_wrote_is_shown_inert() -> None:
    hostile = card(question=HOSTILE, options=(HOSTILE[:40],), venture_name=HOSTILE, agent_role=HOSTILE)
    assert_escaped(formatted(question_blocks(hostile)))
    assert_escaped(question_text(hostile))
    answered = card(question=HOSTILE, status="answered", answer=HOSTILE, answered_by="U0BOB", answered_at=NOW)
    assert_escaped(formatted(answered_blocks(answered)))
    assert_escaped(formatted(answer_modal(hostile)["blocks"]))
    home = home_view(report(venture_status()), "U0ALICE", [], questions=[hostile])
    assert_escaped(formatted(home["blocks"]))


def test_an_answered_question_says_who_answered_what_and_has_no_buttons() -> None:
    answered = card(status="answered", answer="In-house teams", answered_by="U0BOB", answered_at=NOW)
    blocks = valid_blocks(answered_blocks(answered))
    assert buttons(blocks) == []
    said = texts(blocks)
    assert "Answered by <@U0BOB> on Mon 02 Mar 12:00" in said and "In-house teams" in said
    expired = valid_blocks(answered_blocks(card(status="expired")))
    assert "Nobody answered in time" in texts(expired) and buttons(expired) == []


def test_a_button_value_names_a_question_and_an_option_place_or_nothing() -> None:
    assert parse_option_value("41:1") == ("41", 1)
    for forged in ("41", "41:", "41:x", "41:123", "41:-1", ":", ""):
        assert parse_option_value(forged) is None, forged


def test_app_home_lists_questions_beside_approvals_only_when_there_are_some() -> None:
    none = texts(valid_view(home_view(report(venture_status()), "U0ALICE"))["blocks"])
    assert "Questions for you" not in none
    many = [card(question_id=i) for i in range(1, 12)]
    view = valid_view(home_view(report(venture_status()), "U0ALICE", [], questions=many))
    blocks = view["blocks"]
    assert "Questions for you" in texts(blocks) and "…and 3 more." in texts(blocks)
    assert len([b for b in blocks if b["type"] == "actions"]) == 8
