"""Reading a question with `workspace.routing: {mode: auto}`: a short question the rules can read
goes to the cheap model, and to the dear one when the cheap one's reading is refused; a long,
tangled question goes to the dear one at once. Through litellm at the stub, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from lumen.ask.service import answer_question
from lumen.db.models import Spend
from lumen.domain.routing import RoutingPolicy
from lumen.llm import Gateway
from tests.ask.conftest import History
from tests.support.openai_stub import OpenAIStub, text, tool_call

FAST, STRONG = "openai/lumen-ask-cheap", "openai/lumen-ask-dear"
AUTO = RoutingPolicy(mode="auto")


def gateway(history: History, stub: OpenAIStub) -> Gateway:
    settings = history.container.settings.model_copy(
        update={"model_fast": FAST, "model_strong": STRONG, "model_api_base": stub.base_url, "llm_max_attempts": 1}
    )
    return Gateway.from_settings(settings, history.db)


async def spent(history: History) -> list[tuple[str, str]]:
    async with history.db.sessions() as session:
        rows = (await session.scalars(select(Spend).order_by(Spend.id))).all()
    return [(s.model, s.purpose) for s in rows]


async def test_a_refused_cheap_reading_is_read_again_by_the_dear_model(history: History, stub: OpenAIStub) -> None:
    stub.enqueue(
        tool_call("search_decisions", {"topics": ["astrology"]}, model="lumen-ask-cheap"),  # not a topic: refused
        tool_call("search_decisions", {"ventures": ["acme"], "topics": ["pricing"], "kind": "list"}, model="lumen-ask-dear"),
        text("Here is what Acme tried.", model="lumen-ask-dear"),
    )
    c = history.container
    answer = await answer_question(
        c.db.sessions, gateway(history, stub), c.directory, "What pricing did Acme try last quarter?",
        tz=c.workspace_tz, user_id="U0ALICE", now=history.now, routing=AUTO,
    )
    assert answer.query is not None and answer.query.understood_by == "model"
    assert answer.query.ventures == ("acme",) and answer.query.topics == ("pricing",)
    assert [r.model for r in stub.requests] == ["lumen-ask-cheap", "lumen-ask-dear", "lumen-ask-dear"]
    assert await spent(history) == [(FAST, "ask"), (STRONG, "ask"), (STRONG, "ask")]


async def test_a_long_tangled_question_is_read_by_the_dear_model_at_once(history: History, stub: OpenAIStub) -> None:
    question = " ".join(["Thinking about everything the analytics company and the design studio did,"] * 8) + " what worked?"
    stub.enqueue(
        tool_call("search_decisions", {"ventures": ["acme"], "outcomes": ["success"]}, model="lumen-ask-dear"),
        text("These worked.", model="lumen-ask-dear"),
    )
    c = history.container
    answer = await answer_question(
        c.db.sessions, gateway(history, stub), c.directory, question,
        tz=c.workspace_tz, user_id="U0ALICE", now=history.now, routing=AUTO,
    )
    assert answer.query is not None and answer.query.understood_by == "model"
    assert all(r.model == "lumen-ask-dear" for r in stub.requests)


async def test_without_routing_the_cheap_model_reads_and_the_rules_catch_its_failure(history: History, stub: OpenAIStub) -> None:
    stub.enqueue(
        tool_call("search_decisions", '{"ventures": "nope', model="lumen-ask-cheap"),
        tool_call("search_decisions", '{"ventures": "nope', model="lumen-ask-cheap"),
        text("From the rules.", model="lumen-ask-dear"),
    )
    c = history.container
    answer = await answer_question(
        c.db.sessions, gateway(history, stub), c.directory, "What pricing did Acme try last quarter?",
        tz=c.workspace_tz, user_id="U0ALICE", now=history.now,
    )
    assert answer.query is not None and answer.query.understood_by == "rules"
    assert [m for m, _ in await spent(history)] == [FAST, FAST, STRONG]
