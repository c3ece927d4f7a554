"""A wake-up end to end: the context it reads, the journal it writes, the decisions it stores."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from lumen.db.models import (
    Approval,
    ApprovalStatus,
    BrainVersion,
    DecisionStatus,
    PlatformInsight,
    RunStatus,
    StepKind,
    Venture,
)
from lumen.engine import runs
from lumen.audit.service import create_replay
from lumen.container import Container
from tests.engine.helpers import (
    all_rows,
    block_text,
    decisions_of,
    enqueue_wake,
    get_run,
    outbox_rows,
    steps_of,
)

ANNUAL_PLAN = "Launch annual plan with two months free"
LINKEDIN = "Run a LinkedIn ads test for the analytics add-on"
HIRE_CSM = "Hire a contract customer success manager"


async def _brain(container: Container, version: int, *, failed: list[str] = ()) -> None:  # type: ignore[assignment]
    async with container.db.transaction() as session:
        acme = await session.scalar(select(Venture).where(Venture.slug == "acme"))
        session.add(
            BrainVersion(
                venture_id=acme.id,
                version=version,
                summary=f"Brain {version}: annual discounts did not move churn.",
                failed=[{"text": "Annual discount flopped", "titles": list(failed), "decision_ids": [7]}] if failed else [],
            )
        )


async def _insight(container: Container, version: int) -> None:
    async with container.db.transaction() as session:
        session.add(
            PlatformInsight(
                version=version,
                insights=[{"text": "Small paid tests before big spends pay off across ventures"}],
                summary="Test small first.",
            )
        )


async def _wake(container: Container, make_worker, role: str = "ceo") -> int:  # type: ignore[no-untyped-def]
    run_id = await enqueue_wake(container.db, "acme", role)
    worker = make_worker()
    claim = await runs.claim_next(container.db, worker.owner, worker.lease)
    assert claim is not None and claim.run_id == run_id
    await worker.process(claim)
    return run_id


async def test_a_decision_records_the_brain_and_insight_it_was_made_under(container: Container, make_worker) -> None:
    await _brain(container, 1)
    await _brain(container, 3, failed=[ANNUAL_PLAN])
    await _insight(container, 4)

    run_id = await _wake(container, make_worker)

    [decision] = await decisions_of(container.db, run_id)
    # The offline model skipped what brain v3 records as failed (the ceo's first move), and says so.
    assert decision.title == HIRE_CSM
    assert f"Skipped '{ANNUAL_PLAN}' (the brain records it as failed)" in decision.rationale
    assert "brain v3" in decision.rationale
    assert (decision.brain_version, decision.insight_version) == (3, 4)
    run = await get_run(container.db, run_id)
    assert (run.brain_version, run.insight_version) == (3, 4)
    # The prompt carried both.
    steps = await steps_of(container.db, run_id)
    assert steps[0].output["brain_version"] == 3 and steps[0].output["insight_version"] == 4
    prompt = steps[1].input["messages"][1]["content"]
    assert "Brain version 3:\nBrain 3: annual discounts did not move churn." in prompt
    assert "Platform insights (version 4):\n- Small paid tests before big spends" in prompt
    # The post shows the brain version too.
    [post] = await outbox_rows(container.db)
    assert "brain v3" in block_text(post.payload["blocks"])

    # A newer brain: the next decision records it, the first keeps its own.
    await _brain(container, 4)
    later = await _wake(container, make_worker, "cmo")
    [next_decision] = await decisions_of(container.db, later)
    assert next_decision.title == LINKEDIN
    assert next_decision.brain_version == 4 and (await get_run(container.db, later)).brain_version == 4
    assert (await decisions_of(container.db, run_id))[0].brain_version == 3

    # A replay decides under the versions the original saw, not today's.
    async with container.db.transaction() as session:
        replay_id = await create_replay(session, run_id, None)
    worker = make_worker()
    claim = await runs.claim(container.db, replay_id, worker.owner, worker.lease)
    assert await worker.process(claim) == RunStatus.SUCCEEDED  # no gate: it asks nobody
    replay = await get_run(container.db, replay_id)
    assert (replay.brain_version, replay.insight_version) == (3, 4)
    assert (await steps_of(container.db, replay_id))[1].output["value"]["decisions"][0]["title"] == HIRE_CSM


async def test_without_brain_or_insight_the_versions_are_empty_and_the_prompt_says_so(
    container: Container, make_worker
) -> None:
    run_id = await _wake(container, make_worker)
    [decision] = await decisions_of(container.db, run_id)
    assert (decision.brain_version, decision.insight_version) == (None, None)
    prompt = (await steps_of(container.db, run_id))[1].input["messages"][1]["content"]
    assert "No brain yet" in prompt and "No platform insights yet." in prompt


async def test_the_journal_of_a_wake_up_and_a_gate_that_pauses_the_run(container: Container, make_worker) -> None:
    db = container.db
    gated_run = await _wake(container, make_worker, "ceo")  # annual plan: a pricing change
    ungated_run = await _wake(container, make_worker, "cmo")  # $300 ads test: under the $500 gate

    steps = await steps_of(db, gated_run)
    assert [(s.kind, s.name) for s in steps[:3]] == [
        (StepKind.STATE, "context"),
        (StepKind.LLM_CALL, "propose_decisions"),
        (StepKind.TOOL_CALL, "decision:0"),
    ]
    llm = steps[1].output
    assert llm["model"] == "lumen-offline/playbook" and llm["tool_name"] == "propose_decisions"
    assert llm["prompt_tokens"] > 0 and llm["completion_tokens"] > 0
    assert steps[2].output["gated"] is True and steps[2].output["decision_id"]

    run = await get_run(db, gated_run)
    # Paused at the gate, and the lease given up for whoever resumes it.
    assert (run.status, run.lease_owner, run.lease_expires_at) == (RunStatus.AWAITING_APPROVAL, None, None)
    [decision] = await decisions_of(db, gated_run)
    assert (decision.title, decision.status) == (ANNUAL_PLAN, DecisionStatus.AWAITING_APPROVAL)
    [approval] = await all_rows(db, Approval)
    assert (approval.decision_id, approval.status) == (decision.id, ApprovalStatus.PENDING)
    assert approval.approvers["users"] == ["U0ALICE", "U0BOB"]

    assert (await get_run(db, ungated_run)).status == RunStatus.SUCCEEDED
    [spend_decision] = await decisions_of(db, ungated_run)
    assert (spend_decision.title, spend_decision.status) == (LINKEDIN, DecisionStatus.EXECUTED)
    assert spend_decision.amount_usd == Decimal("300")
    assert [s.name for s in await steps_of(db, ungated_run)][-1] == "finished"
    # Two decisions, two Slack posts waiting in the outbox.
    assert sorted(r.ref["decision_id"] for r in await outbox_rows(db)) == [decision.id, spend_decision.id]
