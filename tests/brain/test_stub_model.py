"""A real model's synthesis, through litellm's OpenAI client against the local OpenAI-compatible
stub over HTTP: the brain keeps what cites decisions the synthesis was shown, drops invented or
foreign citations, and the call lands in the spend ledger as a synthesis."""

from __future__ import annotations

from sqlalchemy import select

from lumen.db.models import BrainVersion, Spend
from lumen.domain.brain import SECTIONS
from lumen.domain.brain_schema import WRITE_BRAIN
from lumen.llm import Gateway, GatewayOptions, ModelTiers
from lumen.container import Container
from tests.brain.conftest import START, venture_id
from tests.brain.history import synthesise, week_end, write_history
from tests.support.openai_stub import OpenAIStub, tool_call

MODEL = "openai/lumen-stub-brain"


async def test_stub_model_brain_keeps_only_real_citations(container: Container, stub: OpenAIStub) -> None:
    db = container.db
    acme = await venture_id(db, "acme")
    history = await write_history(db, "acme", 1, 10, START)
    foreign = (await write_history(db, "brightbox", 1, 5, START)).decisions[0]
    win = next(d for d in history.decisions if d.verdict == "success")
    loss = next(d for d in history.decisions if d.verdict == "failure")
    stub.enqueue(
        tool_call(
            WRITE_BRAIN,
            {
                "worked": [
                    {"text": "Price tests on new signups pay off.", "decision_ids": [win.id], "key": "worked:pricing_change"},
                    {"text": "A decision the model made up.", "decision_ids": [999999]},
                    {"text": "Another venture's decision.", "decision_ids": [foreign.id]},
                ],
                "failed": [{"text": "Half real, half invented.", "decision_ids": [loss.id, 888888]}],
                "summary": "A real model's brain.",
            },
        )
    )
    gateway = Gateway(db, ModelTiers(fast=(MODEL,), strong=(MODEL,)), GatewayOptions(api_base=stub.base_url, timeout_s=5))
    run_id = await synthesise(container, gateway, acme, week_end(START, 1))

    [request] = stub.requests
    assert request.path == "/v1/chat/completions" and request.model == "lumen-stub-brain"
    assert [t["function"]["name"] for t in request.body["tools"]] == [WRITE_BRAIN]
    user = request.messages[1]["content"]
    assert f"#{win.id} [{win.category}] {win.title} — executed, outcome success" in user

    async with db.sessions() as session:
        brain = await session.scalar(select(BrainVersion).where(BrainVersion.run_id == run_id))
        [spend] = (await session.scalars(select(Spend).where(Spend.run_id == run_id))).all()
    assert brain is not None and (brain.version, brain.model, brain.summary) == (1, MODEL, "A real model's brain.")
    # The model's words replace the draft's for the key it kept; the numbers and citations stay the records'.
    worked = {s["key"]: s for s in brain.worked}
    assert worked["worked:pricing_change"]["text"] == "Price tests on new signups pay off."
    assert worked["worked:pricing_change"]["decision_ids"] == [win.id]
    # Draft statements the model left out still stand: their record holds.
    assert {"worked:marketing", "worked:research"} <= set(worked)
    # Its own statement keeps only the real citation, and its record is counted from it.
    [own] = [s for s in brain.failed if s["text"] == "Half real, half invented."]
    assert own["decision_ids"] == [loss.id] and own["evidence"] == {"tries": 1, "worked": 0, "failed": 1, "mixed": 0}
    # Invented decisions and another venture's are gone, with the statements that rested on them.
    everything = [s for name in SECTIONS for s in getattr(brain, name)]
    cited = {i for s in everything for i in s["decision_ids"]}
    assert not cited & {999999, 888888, foreign.id}
    assert not {"A decision the model made up.", "Another venture's decision."} & {s["text"] for s in everything}
    assert (spend.purpose, spend.model, spend.venture_id, spend.settled) == ("synthesize", MODEL, acme, True)
    assert spend.prompt_tokens > 0 and spend.completion_tokens > 0
