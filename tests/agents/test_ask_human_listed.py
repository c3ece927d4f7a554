"""`/lumen approvals` lists the agents' open questions a person may answer, beside approvals.

A signed slash command to the running replica, answered through its response_url as an
ephemeral message in the dev workspace; the question's buttons work from that listing.
"""

from __future__ import annotations

from lumen.container import Container
from lumen.db.models import QuestionStatus, RunStatus
from lumen.domain.ask_human import ASK_HUMAN
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.settings import Settings
from tests.agents.test_ask_human import ASKED, DECIDED, _asked, _buttons, _finished, _question, _stub_stack, _wake
from tests.approvals.support import next_note, notes
from tests.engine.helpers import block_text
from tests.support.openai_stub import OpenAIStub, tool_call

CHANNEL = "venture-brightbox"


async def test_lumen_approvals_lists_the_open_question_for_approvers_only_and_answers_from_there(
    container: Container, stub: OpenAIStub, stub_settings: Settings, open_stack
) -> None:
    db = container.db
    stub.enqueue(tool_call(ASK_HUMAN, ASKED), tool_call(PROPOSE_DECISIONS, DECIDED))
    async with _stub_stack(open_stack, stub) as stack:
        ws = stack.workspace
        await _wake(stack)
        [question] = await _asked(db)

        # Someone who may not answer it sees nothing of it.
        before = len(notes(ws, CHANNEL, "U0DAN"))
        delivery = await ws.slash_command("U0DAN", CHANNEL, "/lumen", "approvals")
        assert (delivery.status, delivery.body) == (200, "")
        dan = await next_note(ws, CHANNEL, "U0DAN", before)
        assert "Nothing is waiting for you" in block_text(dan.blocks)
        assert "in-house design teams?" not in block_text(dan.blocks) and "question" not in dan.text

        # An approver sees it, escaped, with its buttons.
        before = len(notes(ws, CHANNEL, "U0BOB"))
        await ws.slash_command("U0BOB", CHANNEL, "/lumen", "approvals")
        listing = await next_note(ws, CHANNEL, "U0BOB", before)
        assert listing.text == "0 approvals and 1 question waiting for you"
        shown = block_text(listing.blocks)
        assert "Questions for you" in shown and "&lt;!channel&gt; agencies first" in shown and "<!channel>" not in shown
        assert "Nothing is waiting for you" not in shown
        assert _buttons(listing.blocks) == ["question_option_0", "question_option_1", "question_answer"]

        # Its button answers the question, once; the run goes on with the answer.
        await ws.click("U0BOB", CHANNEL, listing.ts, "question_option_1")
        run = await _finished(db, question.run_id)
        assert run.status == RunStatus.SUCCEEDED, run.error
        answered = await _question(db, question.id)
        assert (answered.status, answered.answer, answered.answered_by) == (QuestionStatus.ANSWERED, "In-house teams", "U0BOB")
        assert len(stub.requests) == 2

        # Answered, it is listed no more.
        before = len(notes(ws, CHANNEL, "U0ALICE"))
        await ws.slash_command("U0ALICE", CHANNEL, "/lumen", "approvals")
        alice = await next_note(ws, CHANNEL, "U0ALICE", before)
        assert alice.text == "0 approvals waiting for you" and "Questions for you" not in block_text(alice.blocks)
