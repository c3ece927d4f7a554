"""The offline model: it decides from the brain and the insights it is given, deterministically,
and answers through real litellm."""

from __future__ import annotations

import json

from sqlalchemy import select

from lumen.db.models import Spend
from lumen.db.session import Database
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions
from lumen.llm import Attribution, Gateway
from lumen.llm._litellm import litellm
from lumen.llm.context_block import (
    AgentInfo,
    BrainStatement,
    ContextBlock,
    DecisionInfo,
    InsightInfo,
    InsightItem,
    MoveRecord,
    PlaybookItem,
    Rejection,
    VentureInfo,
    render_context_block,
)
from lumen.llm.offline_playbook import decide
from lumen.llm.tools import tool_spec
from lumen.settings import OFFLINE_MODEL

PLAYBOOK = [
    PlaybookItem(title="Interview ten customers", category="research", rationale="Learn first.", repeatable=True),
    PlaybookItem(title="Pick a database", category="new_dependency", role="cto"),
    PlaybookItem(title="Launch a landing page", category="marketing", amount_usd="50", expected_effect="100 signups"),
    PlaybookItem(title="Raise prices", category="pricing_change", role="ceo"),
    PlaybookItem(title="Run a webinar", category="marketing", repeatable=True),
]


def _ctx(role: str = "ceo", **fields: object) -> ContextBlock:
    fields.setdefault("playbook", PLAYBOOK)
    return ContextBlock(
        task="decide",
        as_of="2026-11-23",
        venture=VentureInfo(slug="acme", name="Acme", stage="idea", goals=["100 customers"]),
        agent=AgentInfo(role=role),
        brain_version=4,
        **fields,  # type: ignore[arg-type]
    )


def _record(section: str, title: str, recent: str, category: str = "research") -> BrainStatement:
    """A brain statement about one move and its recent tries ("SSF": worked, worked, failed)."""
    return BrainStatement(
        section=section,
        key=f"{section}:{category}",
        category=category,
        text=f"“{title}” {recent}",
        decision_ids=[1],
        evidence={"tries": len(recent), "worked": recent.count("S"), "failed": recent.count("F")},
        moves=[MoveRecord(title=title, recent=recent, support=len(recent))],
    )


def _messages(ctx: ContextBlock) -> list[dict]:
    return [
        {"role": "system", "content": "You are the agent."},
        {"role": "user", "content": f"Wake up and decide.\n{render_context_block(ctx)}"},
    ]


def _choice(ctx: ContextBlock) -> str:
    [decision] = decide(ctx).decisions
    return decision.title


def test_with_no_record_the_playbook_order_decides_for_the_role() -> None:
    assert _choice(_ctx()) == "Interview ten customers"
    assert _choice(_ctx("cto")) == "Interview ten customers"
    # Role-bound moves go to their role only.
    made = _ctx("cto", since_brain=[DecisionInfo(id=1, title="Interview ten customers", category="research", status="executed")])
    assert _choice(made) == "Interview ten customers"  # repeatable: made already is no reason to stop


def test_it_prefers_what_worked_and_leaves_what_failed() -> None:
    ctx = _ctx(
        brain=[
            _record("failed", "Interview ten customers", "FFFF"),
            _record("worked", "Run a webinar", "SSSSFSS", category="marketing"),
            _record("failed", "Launch a landing page", "F", category="marketing"),
            _record("failed", "Raise prices", "FF", category="pricing_change"),
        ]
    )
    [decision] = decide(ctx).decisions
    assert decision.title == "Run a webinar"
    assert decision.rationale.startswith("[offline model] ")
    assert "brain v4 records 6 of 7 recent tries of it working" in decision.rationale


def test_when_what_it_knows_is_poor_it_tries_what_it_does_not_know() -> None:
    ctx = _ctx(brain=[_record("failed", "Interview ten customers", "FF"), _record("failed", "Run a webinar", "F", "marketing")])
    assert _choice(ctx) == "Launch a landing page"
    assert "has no record of it yet" in decide(ctx).decisions[0].rationale


def test_a_one_off_move_that_was_made_is_not_made_again() -> None:
    ctx = _ctx(
        brain=[_record("worked", "Launch a landing page", "S", category="marketing"), _record("failed", "Interview ten customers", "FFF")],
        since_brain=[DecisionInfo(id=9, title="Raise prices", category="pricing_change", status="executed")],
    )
    # The landing page worked, but it was a launch: once. Raising prices was just made too.
    assert _choice(ctx) == "Run a webinar"


def test_it_leaves_what_waits_for_a_human_and_what_humans_turned_down_lately() -> None:
    ctx = _ctx(
        pending=[DecisionInfo(id=3, title="Interview ten customers", category="research", status="awaiting_approval")],
        rejected=[
            Rejection(title="launch a  LANDING page", reason="not before the rebrand", on="2026-11-20"),
            Rejection(title="Raise prices", reason="board review", on="2026-08-01"),  # months ago
        ],
    )
    assert _choice(ctx) == "Raise prices"
    ctx = ctx.model_copy(update={"playbook": [p for p in PLAYBOOK if p.title != "Raise prices"]})
    assert _choice(ctx) == "Run a webinar"


def test_a_venture_with_no_record_leans_on_what_other_ventures_learned() -> None:
    insight = InsightItem(
        key="move:run a webinar",
        text="“Run a webinar”: 9 of 11 recent tries worked across 3 ventures",
        category="marketing",
        subject="Run a webinar",
        evidence={"tries": 11, "worked": 9, "failed": 2},
        venture_count=3,
    )
    [decision] = decide(_ctx(insight=InsightInfo(version=2, items=[insight]))).decisions
    assert decision.title == "Run a webinar"
    assert decision.follows_insight == insight.text
    assert "Across ventures: “Run a webinar”: 9 of 11" in decision.rationale


def test_nothing_left_proposes_nothing_and_says_why() -> None:
    ctx = _ctx(
        playbook=[PlaybookItem(title="Raise prices", category="pricing_change")],
        pending=[DecisionInfo(id=3, title="Raise prices", category="pricing_change", status="awaiting_approval")],
    )
    proposal = decide(ctx)
    assert proposal.decisions == []
    assert proposal.summary.startswith("[offline model] Nothing to propose")
    assert "“Raise prices”: it is waiting for a human" in proposal.summary


def test_decision_carries_the_playbook_fields() -> None:
    ctx = _ctx(brain=[_record("failed", "Interview ten customers", "FFF")])
    [decision] = decide(ctx).decisions
    assert (decision.title, decision.category) == ("Launch a landing page", "marketing")
    assert str(decision.amount_usd) == "50" and decision.expected_effect == "100 signups"


def test_the_same_context_gives_the_same_decision() -> None:
    ctx = _ctx(brain=[_record("worked", "Run a webinar", "SSFS", "marketing"), _record("questions", "Interview ten customers", "SF")])
    assert decide(ctx) == decide(ctx.model_copy(deep=True))


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
