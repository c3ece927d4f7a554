"""The verifier (`verify:` in lumen.yml) checks a proposal before it propagates: through a
wake-up asked for in Slack, litellm over HTTP to a stub whose strong tier proposes and whose
fast tier checks. Passed: it goes ahead. Failed: sent back once with the objection; a revision
that passes goes ahead, one that fails goes to a human with the objection on the card, and so
does a check that returns garbage. Every verdict is a step of the run's trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from devslack import Workspace
from lumen.config import LumenConfig, parse_config
from lumen.errors import ConfigError
from lumen.container import Container
from lumen.db.models import Approval, Decision, DecisionStatus, Run, RunStatus, Spend
from lumen.devmode import DevStack, dev_stack
from lumen.domain.gate_check import CLASSIFY_DECISION
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.domain.verdicts import VERIFY_DECISIONS
from tests.approvals.support import approve
from tests.engine.helpers import TEST_CONFIG, all_rows, block_text, eventually, steps_of
from tests.support.openai_stub import OpenAIStub, invalid_json_tool_call, tool_call

STRONG, FAST = "openai/check-strong", "openai/check-fast"
BRIGHTBOX_CEO = '''      - role: ceo
        schedule: "0 8 * * 1"
        model_tier: strong
        budget_usd_month: 15
'''


def config_with(verify: str) -> LumenConfig:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    assert BRIGHTBOX_CEO in text
    return parse_config(text.replace(BRIGHTBOX_CEO, BRIGHTBOX_CEO + f"        verify: {verify}\n"), source="lumen.yml")


@asynccontextmanager
async def checking_stack(container: Container, stub: OpenAIStub, verify: str = "fast") -> AsyncIterator[DevStack]:
    settings = container.settings.model_copy(update={"model_strong": STRONG, "model_fast": FAST, "model_api_base": stub.base_url})
    workspace = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
    async with dev_stack(settings, config_with(verify), workspace=workspace) as running:
        yield running


def propose(*titles: str) -> object:
    decisions = [{"category": "research", "title": t, "rationale": "We still guess.", "expected_effect": "A ranked list"} for t in titles]
    return tool_call(PROPOSE_DECISIONS, {"decisions": decisions, "summary": "s"}, model="check-strong")


def verdict(consistent: bool, objection: str = "") -> object:
    return tool_call(VERIFY_DECISIONS, {"consistent": consistent, "objection": objection}, model="check-fast")


async def settled_run(container: Container, stack: DevStack) -> Run:
    await stack.workspace.slash_command("U0ALICE", "venture-brightbox", "/lumen", "wake brightbox ceo")

    async def done() -> Run | None:
        rows = await all_rows(container.db, Run)
        finished = [r for r in rows if r.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.AWAITING_APPROVAL)]
        return finished[0] if finished else None

    return await eventually(done, timeout=30)


async def card_of(container: Container, stack: DevStack) -> str:
    async def posted() -> Approval | None:
        rows = await all_rows(container.db, Approval)
        return rows[0] if rows and rows[0].message_ts else None

    approval = await eventually(posted, timeout=10)
    [message] = [m for m in stack.workspace.messages("venture-brightbox") if m.ts == approval.message_ts]
    return block_text(message.blocks)


@pytest.fixture(autouse=True)
def readable_classifier(stub: OpenAIStub) -> None:
    stub.set_default(tool_call(CLASSIFY_DECISION, {"kinds": ["research"], "amount_usd": None}), model="check-fast")


async def test_a_passing_check_lets_the_decision_through(container: Container, stub: OpenAIStub) -> None:
    stub.enqueue(propose("Interview twelve agency owners"), verdict(True))
    async with checking_stack(container, stub) as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.SUCCEEDED
        [decision] = await all_rows(container.db, Decision)
        assert decision.status == DecisionStatus.EXECUTED and decision.title == "Interview twelve agency owners"
        steps = {s.name: s for s in await steps_of(container.db, run.id)}
        assert steps["verify:1"].output["consistent"] is True and f"{PROPOSE_DECISIONS}:revised" not in steps
        # The check read the proposal beside the venture's goals and its budget.
        check = stub.requests_for("check-fast")[0].messages[-1]["content"]
        assert "Interview twelve agency owners" in check and "Find ten paying design-agency customers" in check and "$15.00" in check
        spends = await eventually(lambda: _spends(container, 2), timeout=5)
        assert sorted(s.purpose for s in spends) == ["decide", "verify"]


async def _spends(container: Container, n: int) -> list[Spend] | None:
    rows = await all_rows(container.db, Spend)
    return rows if len(rows) >= n and all(r.settled for r in rows) else None


async def test_a_failed_check_sends_the_proposal_back_once_and_a_good_revision_goes_ahead(
    container: Container, stub: OpenAIStub
) -> None:
    stub.enqueue(
        propose("Interview twelve agency owners"),
        verdict(False, "Interviews are what the brain lists as failed; say what changed."),
        propose("Survey forty agency owners by email"),
        verdict(True),
    )
    async with checking_stack(container, stub) as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.SUCCEEDED
        [decision] = await all_rows(container.db, Decision)
        assert decision.title == "Survey forty agency owners by email" and decision.status == DecisionStatus.EXECUTED
        names = [s.name for s in await steps_of(container.db, run.id)]
        assert names.index("verify:1") < names.index(f"{PROPOSE_DECISIONS}:revised") < names.index("verify:2")
        resent = stub.requests_for("check-strong")[1].messages
        assert any("Interviews are what the brain lists as failed" in str(m.get("content")) for m in resent)


async def test_a_revision_that_fails_again_goes_to_a_human_with_the_objection(container: Container, stub: OpenAIStub) -> None:
    stub.enqueue(
        propose("Interview twelve agency owners"),
        verdict(False, "Repeats a move turned down last week."),
        propose("Interview ten agency owners"),
        verdict(False, "Still the move humans turned down."),
    )
    async with checking_stack(container, stub) as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.AWAITING_APPROVAL
        [decision] = await all_rows(container.db, Decision)
        assert decision.title == "Interview ten agency owners" and decision.status == DecisionStatus.AWAITING_APPROVAL
        card = await card_of(container, stack)
        assert "the verifier objected: Still the move humans turned down." in card
        steps = {s.name: s.output for s in await steps_of(container.db, run.id)}
        assert steps["verify:1"]["consistent"] is False and steps["verify:2"]["consistent"] is False
        assert len(stub.requests_for("check-strong")) == 2  # sent back once, not again

        # Approved, the run resumes from its journal: no model is asked again, the decision is carried out.
        [approval] = await all_rows(container.db, Approval)
        asked = len(stub.requests)
        await approve(stack.workspace, "U0ALICE", approval.channel_id, approval.message_ts)

        async def executed() -> Decision | None:
            [row] = await all_rows(container.db, Decision)
            return row if row.status == DecisionStatus.EXECUTED else None

        await eventually(executed, timeout=20)
        async def succeeded() -> Run | None:
            [row] = await all_rows(container.db, Run)
            return row if row.status == RunStatus.SUCCEEDED else None

        await eventually(succeeded, timeout=10)
        assert len(stub.requests) == asked


async def test_a_check_that_returns_garbage_sends_the_decision_to_a_human(container: Container, stub: OpenAIStub) -> None:
    stub.enqueue(propose("Interview twelve agency owners"), *[invalid_json_tool_call(VERIFY_DECISIONS, model="check-fast")] * 3)
    async with checking_stack(container, stub) as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.AWAITING_APPROVAL
        card = await card_of(container, stack)
        assert "the verifier objected: the check could not be made" in card
        steps = {s.name: s.output for s in await steps_of(container.db, run.id)}
        assert steps["verify:1"]["error"] and "verify:2" not in steps
        assert len(stub.requests_for("check-strong")) == 1  # garbage is no objection to answer


async def test_another_role_can_be_the_verifier(container: Container, stub: OpenAIStub) -> None:
    stub.enqueue(propose("Interview twelve agency owners"), tool_call(VERIFY_DECISIONS, {"consistent": True}, model="check-strong"))
    async with checking_stack(container, stub, verify="{role: ceo}") as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.SUCCEEDED
        steps = {s.name: s.output for s in await steps_of(container.db, run.id)}
        assert steps["verify:1"]["verifier"] == "ceo"
        [_, check] = stub.requests_for("check-strong")  # the ceo's tier
        assert "as the venture's ceo" in check.messages[0]["content"]


def test_a_verifier_role_must_be_an_agent_of_the_venture() -> None:
    with pytest.raises(ConfigError, match="verify.role 'cfo' is not an agent of this venture"):
        config_with("{role: cfo}")
    with pytest.raises(ConfigError, match="verify"):
        config_with("sometimes")


async def test_only_the_decisions_a_failed_verdict_names_go_to_a_human(container: Container, stub: OpenAIStub) -> None:
    named = tool_call(
        VERIFY_DECISIONS,
        {"consistent": False, "objection": "The second one repeats a move turned down last week.", "objected": [2]},
        model="check-fast",
    )
    stub.enqueue(
        propose("Interview twelve agency owners", "Cold-call every agency in Berlin"),
        named,
        propose("Interview twelve agency owners", "Cold-call every agency in Berlin"),
        named,
    )
    async with checking_stack(container, stub) as stack:
        run = await settled_run(container, stack)
        assert run.status == RunStatus.AWAITING_APPROVAL
        rows = {d.title: d for d in await all_rows(container.db, Decision)}
        assert rows["Cold-call every agency in Berlin"].status == DecisionStatus.AWAITING_APPROVAL
        assert rows["Interview twelve agency owners"].status != DecisionStatus.AWAITING_APPROVAL  # it went ahead
        [approval] = await all_rows(container.db, Approval)
        assert approval.decision_id == rows["Cold-call every agency in Berlin"].id
        assert "the verifier objected: The second one repeats" in await card_of(container, stack)
        # The verifier was shown the decisions by number, and its verdict is in the trail.
        prompt = stub.requests_for("check-fast")[-1].messages[-1]["content"]
        assert "1. “Interview twelve agency owners”" in prompt or "1. Interview twelve agency owners" in prompt
        steps = {s.name: s.output for s in await steps_of(container.db, run.id)}
        assert steps["verify:2"]["objected"] == [2]


def test_a_verdict_naming_no_decision_it_could_mean_covers_them_all() -> None:
    from lumen.domain.verdicts import objected_ordinals

    assert objected_ordinals([2], 3) == frozenset({1})
    assert objected_ordinals([], 3) is None and objected_ordinals([0, 4, -1], 3) is None
