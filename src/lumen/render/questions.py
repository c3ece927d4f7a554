"""Questions an agent asks humans (`ask_human`): the message, its answer modal, App Home's list.

A pending question shows one button per option and "Answer…" (a modal for free text). Once
answered (or expired), the same message is rebuilt without buttons, saying who answered, when
and what. Everything the model or a person wrote is escaped: it can show `<!channel>`, never ping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lumen.render.approvals import ApprovalCard, pending_list_blocks
from lumen.render.common import clock, context, divider, escape, header, section
from lumen.render.limits import MAX_BUTTON_TEXT, Block, check_blocks, clip

OPTION_ACTION = "question_option"  # + "_<index>": action ids are unique within a message
ANSWER_ACTION = "question_answer"
ANSWER_MODAL = "question_answer_modal"
ANSWER_BLOCK = "answer"
ANSWER_INPUT = "answer_input"
HOME_LIMIT = 8


@dataclass(frozen=True)
class QuestionCard:
    question_id: int
    venture_name: str
    venture_slug: str
    agent_role: str
    run_id: int
    question: str
    options: tuple[str, ...]
    approvers: dict[str, Any]
    expires_at: datetime
    status: str = "pending"
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    tz: str = "UTC"
    extra: dict[str, Any] = field(default_factory=dict)


def option_action(index: int) -> str:
    return f"{OPTION_ACTION}_{index}"


def option_value(question_id: int, index: int) -> str:
    """A button's value names the question and the option's place, never its text: the answer
    recorded is the option as stored, whatever a forged payload says."""
    return f"{question_id}:{index}"


def parse_option_value(value: str) -> tuple[str, int] | None:
    """(question id as written, option index) from a button value; None if it is not one."""
    head, sep, tail = value.partition(":")
    if not sep or not tail.isascii() or not tail.isdigit() or len(tail) > 2:
        return None
    return head, int(tail)


def _who(approvers: dict[str, Any]) -> str:
    names = [f"<@{u}>" for u in approvers.get("users", [])]
    names += [f"<!subteam^{g}>" for g in approvers.get("usergroups", [])]
    names += [f"<#{c}>" if not c.startswith("#") else c for c in approvers.get("channels", [])]
    return ", ".join(names) or "nobody"


def _asked(card: QuestionCard) -> Block:
    return section(f"*{escape(card.agent_role)}* of {escape(card.venture_name)} asks:\n>{escape(clip(card.question, 2500))}")


def _buttons(card: QuestionCard) -> Block:
    elements: list[Block] = [
        {
            "type": "button",
            "action_id": option_action(i),
            "text": {"type": "plain_text", "text": clip(option, MAX_BUTTON_TEXT)},
            "value": option_value(card.question_id, i),
        }
        for i, option in enumerate(card.options)
    ]
    elements.append(
        {
            "type": "button",
            "action_id": ANSWER_ACTION,
            "text": {"type": "plain_text", "text": "Answer…" if not card.options else "Something else…"},
            "value": str(card.question_id),
        }
    )
    return {"type": "actions", "block_id": f"question:{card.question_id}", "elements": elements}


def question_blocks(card: QuestionCard) -> list[Block]:
    """The pending question, with a button per option and one for a written answer."""
    return check_blocks(
        [
            header(f"❓ Question from {card.agent_role} · {card.venture_name}"),
            _asked(card),
            context(
                f"Who may answer: {_who(card.approvers)} · open until {clock(card.expires_at, card.tz)}"
                f" · the agent waits for the answer · question #{card.question_id} · run #{card.run_id}"
            ),
            _buttons(card),
        ]
    )


def answered_label(card: QuestionCard) -> str:
    if card.status == "answered":
        by = f" by <@{card.answered_by}>" if card.answered_by else ""
        when = f" on {clock(card.answered_at, card.tz)}" if card.answered_at else ""
        return f"*✅ Answered{by}{when}*\n>{escape(clip(card.answer or '', 2000))}"
    return "*⌛ Nobody answered in time.* The agent went on without an answer."


def answered_blocks(card: QuestionCard) -> list[Block]:
    """The same message once answered or expired: who, when and what; no buttons."""
    return check_blocks(
        [
            header(f"{'✅' if card.status == 'answered' else '⌛'} Question from {card.agent_role} · {card.venture_name}"),
            _asked(card),
            divider(),
            section(answered_label(card)),
            context(f"question #{card.question_id} · run #{card.run_id} · {escape(card.venture_slug)}"),
        ]
    )


def question_text(card: QuestionCard) -> str:
    if card.status == "pending":
        return f"Question from {escape(card.agent_role)} of {escape(card.venture_name)}: {escape(clip(card.question, 500))}"
    if card.status == "answered":
        return f"Answered: {escape(clip(card.question, 300))} → {escape(clip(card.answer or '', 300))}"
    return f"No answer in time: {escape(clip(card.question, 500))}"


def answer_modal(card: QuestionCard) -> dict[str, Any]:
    """A written answer (the listener sets private_metadata)."""
    hint = ""
    if card.options:
        hint = "Options offered: " + ", ".join(f"“{escape(o)}”" for o in card.options)
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "private_metadata": str(card.question_id),
        "title": {"type": "plain_text", "text": "Answer the agent"},
        "submit": {"type": "plain_text", "text": "Answer"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": check_blocks(
            [
                _asked(card),
                *([context(hint)] if hint else []),
                {
                    "type": "input",
                    "block_id": ANSWER_BLOCK,
                    "label": {"type": "plain_text", "text": "Your answer. The agent reads it before it decides."},
                    "element": {
                        "type": "plain_text_input",
                        "action_id": ANSWER_INPUT,
                        "multiline": True,
                        "min_length": 1,
                        "max_length": 1000,
                    },
                },
            ],
            modal=True,
        ),
    }


def pending_questions_blocks(cards: list[QuestionCard]) -> list[Block]:
    """Questions waiting for the viewer, each with working buttons (App Home). Nothing at all
    when there are none: the approvals list already says nothing waits."""
    if not cards:
        return []
    blocks: list[Block] = [header("Questions for you")]
    for card in cards[:HOME_LIMIT]:
        blocks += [
            section(
                f"*{escape(card.agent_role)}* of {escape(card.venture_name)} asks:\n>{escape(clip(card.question, 500))}\n"
                f"open until {clock(card.expires_at, card.tz)}"
            ),
            _buttons(card),
        ]
    if len(cards) > HOME_LIMIT:
        blocks.append(context(f"…and {len(cards) - HOME_LIMIT} more."))
    return check_blocks(blocks, modal=True)


def waiting_for_you_blocks(approvals: list[ApprovalCard], questions: list[QuestionCard]) -> list[Block]:
    """`/lumen approvals`: the approvals waiting for the person, then the questions they may
    answer, each with working buttons. At most 12 approvals and HOME_LIMIT questions: 44 blocks."""
    listed = [] if questions and not approvals else pending_list_blocks(approvals, heading="Waiting for your approval")
    return check_blocks(listed + pending_questions_blocks(questions))


def waiting_for_you_text(approvals: int, questions: int) -> str:
    said = f"{approvals} approval{'s' if approvals != 1 else ''}"
    if questions:
        said += f" and {questions} question{'s' if questions != 1 else ''}"
    return f"{said} waiting for you"


# --- what the answerer alone sees ----------------------------------------------------------


def already_answered(status: str, by: str | None, at: datetime | None, tz: str = "UTC") -> str:
    if status == "answered":
        who = f"<@{by}>" if by else "Someone"
        when = f" on {clock(at, tz)}" if at else ""
        return f"{who} already answered this{when}."
    return "This question closed without an answer: the agent went on without one."


def not_an_answerer() -> str:
    return "Only this venture's approvers may answer the agent's question."


def question_missing() -> str:
    return "That question no longer exists."


def question_expired() -> str:
    return "This question is past its deadline: the agent goes on without an answer."


def answer_refused(kind: str, status: str, by: str | None, at: datetime | None, tz: str = "UTC") -> str:
    """Why an answer changed nothing."""
    if kind == "already":
        return already_answered(status, by, at, tz)
    if kind == "not_answerer":
        return not_an_answerer()
    if kind == "expired":
        return question_expired()
    return question_missing()


def you_answered(answer: str) -> str:
    return f"✅ Thanks: the agent goes on with your answer “{escape(clip(answer, 300))}”."


def answer_required() -> str:
    return "Write an answer, or press Cancel."


def question_reminder(people: list[str], expires_at: datetime, tz: str = "UTC") -> str:
    who = ", ".join(f"<@{u}>" for u in people) or "approvers"
    return f"⏰ Reminder: {who}, the agent is still waiting for an answer (open until {clock(expires_at, tz)})."


def question_reminder_dm(venture_name: str, question: str) -> str:
    return (
        f"⏰ An agent of {escape(venture_name)} is waiting for your answer: “{escape(clip(question, 300))}”. "
        "Answer in the channel or in Lumen's Home tab."
    )
