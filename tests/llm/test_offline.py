"""The offline model: playbook order and skips, determinism, and calls through real litellm."""

from __future__ import annotations

import json

from sqlalchemy import select

from lumen.llm.tools import tool_spec
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions
from lumen.settings import OFFLINE_MODEL
from lumen.db.models import Spend
from lumen.db.session import Database
from lumen.llm import Attribution, Gateway
from lumen.llm._litellm import litellm
from lumen.llm.context_block import (
    AgentInfo,
    ContextBlock,
    PlaybookItem,
    Rejection,
    VentureInfo,
    render_context_block,
)
from lumen.llm.offline_playbook import decide, next_action

PLAYBOOK = [
    PlaybookItem(title="Interview ten customers", category="research", rationale="Learn first."),
    PlaybookItem(title="Pick a database", category="new_dependency", role="cto"),
    PlaybookItem(
        title="Launch a landing page",
        category="marketing",
        amount_usd="50",
        expected_effect="100 signups",
    ),
    PlaybookItem(title="Raise prices", category="pricing_change", role="ceo"),
    PlaybookItem(title="Run a webinar", category="marketing"),
]


def _ctx(role: str = "ceo", **fields: object) -> ContextBlock:
    return ContextBlock(
        task="decide",
        venture=VentureInfo(slug="acme", name="Acme", stage="idea", goals=["100 customers"]),
        agent=AgentInfo(role=role),
        playbook=PLAYBOOK,
        brain_version=4,
        **fields,  # type: ignore[arg-type]
    )


def _messages(ctx: ContextBlock) -> list[dict]:
    return [
        {"role": "system", "content": f"You are the agent.\n{render_context_block(ctx)}"},
        {"role": "user", "content": "Wake up and decide."},
    ]


def test_plays_the_playbook_in_order_for_the_role() -> None:
    assert next_action(_ctx()).title == "Interview ten customers"
    assert next_action(_ctx(tried=["Interview ten customers"])).title == "Launch a landing page"
    # Role-bound actions go to their role only.
    cto = _ctx("cto", tried=["Interview ten customers"])
    assert next_action(cto).title == "Pick a database"
    ceo = _ctx(tried=["Interview ten customers", "Launch a landing page"])
    assert next_action(ceo).title == "Raise prices"


def test_skips_tried_failed_and_rejected_titles_case_insensitively() -> None:
    ctx = _ctx(
        tried=["interview TEN customers"],
        failed=["Launch a  landing page"],
        rejected=[Rejection(title="Raise prices", reason="too early")],
    )
    proposal = decide(ctx)
    [decision] = proposal.decisions
    assert decision.title == "Run a webinar"
    assert decision.rationale.startswith("[offline model] ")
    assert "Playbook step 4 of 4" in decision.rationale and "brain v4" in decision.rationale
    assert "the brain records it as failed" in decision.rationale
    assert "rejected by a human: too early" in decision.rationale


def test_exhausted_playbook_proposes_nothing_and_says_so() -> None:
    ctx = _ctx(tried=[item.title for item in PLAYBOOK])
    proposal = decide(ctx)
    assert proposal.decisions == []
    assert proposal.summary.startswith("[offline model] ")
    assert "exhausted" in proposal.summary


def test_decision_carries_the_playbook_fields() -> None:
    [decision] = decide(_ctx(tried=["Interview ten customers"])).decisions
    assert decision.category == "marketing"
    assert str(decision.amount_usd) == "50"
    assert decision.expected_effect == "100 signups"


async def test_litellm_call_returns_a_valid_tool_call_deterministically() -> None:
    lm = litellm()
    messages = _messages(_ctx())
    answers = [
        await lm.acompletion(
            model=OFFLINE_MODEL, messages=messages, tools=[tool_spec(ProposeDecisions, PROPOSE_DECISIONS)]
        )
        for _ in range(2)
    ]
    calls = [a.choices[0].message.tool_calls[0] for a in answers]
    assert calls[0].function.name == PROPOSE_DECISIONS
    assert calls[0].function.arguments == calls[1].function.arguments
    assert calls[0].id == calls[1].id and answers[0].id == answers[1].id
    value = ProposeDecisions.model_validate(json.loads(calls[0].function.arguments))
    assert value.decisions[0].title == "Interview ten customers"
    usage = answers[0].usage
    assert usage.prompt_tokens > 10 and usage.completion_tokens > 10


async def test_synthesize_and_answer_say_they_are_offline() -> None:
    lm = litellm()
    for task in ("synthesize", "answer"):
        ctx = ContextBlock(task=task, venture=VentureInfo(slug="acme", name="Acme", stage="idea"))
        answer = await lm.acompletion(model=OFFLINE_MODEL, messages=_messages(ctx))
        assert answer.choices[0].message.content.startswith("[offline model] ")
    bare = await lm.acompletion(model=OFFLINE_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "offline model" in bare.choices[0].message.content


async def test_gateway_on_the_offline_model_is_free_but_counts_tokens(
    db: Database, attribution: Attribution
) -> None:
    gateway = Gateway(db)  # default tiers: the offline model
    result = await gateway.call_tool(
        "strong",
        _messages(_ctx()),
        tool_model=ProposeDecisions,
        tool_name=PROPOSE_DECISIONS,
        attribution=attribution,
    )
    assert result.model == OFFLINE_MODEL
    assert result.value is not None and result.value.decisions[0].title == "Interview ten customers"
    assert result.cost_usd == 0 and result.prompt_tokens > 0 and result.completion_tokens > 0
    async with db.sessions() as session:
        [row] = (await session.execute(select(Spend))).scalars().all()
    assert row.settled and row.cost_usd == 0 and row.model == OFFLINE_MODEL
    assert (row.run_id, row.agent_id, row.venture_id) == (
        attribution.run_id,
        attribution.agent_id,
        attribution.venture_id,
    )
    assert row.prompt_tokens == result.prompt_tokens


async def test_a_zero_budget_still_allows_the_free_offline_model(
    db: Database, attribution: Attribution
) -> None:
    from dataclasses import replace
    from decimal import Decimal

    result = await Gateway(db).complete(
        "fast",
        [{"role": "user", "content": "hi"}],
        attribution=replace(attribution, budget_usd_month=Decimal(0)),
    )
    assert "offline model" in result.text
