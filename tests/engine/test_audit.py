"""The audit trail through the `lumen runs …` commands: list, show, diff, replay."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import Result

from lumen.settings import Settings
from lumen.db.models import Approval, Decision, OutboxMessage, Run, RunStatus, RunTrigger, Spend
from lumen.container import Container
from tests.engine.helpers import HALF_VALID, STUB_MODEL, all_rows, count, get_run, lumen_cli, steps_of, wake_and_process
from tests.support.openai_stub import Behaviour, OpenAIStub

OTHER_IDEA = Behaviour(
    "tool_call",
    text="Pricing can wait; acquisition cannot.",
    tool_name="propose_decisions",
    tool_arguments='{"decisions": [{"category": "marketing", "title": "Sponsor three analytics newsletters",'
    ' "rationale": "Reach buyers where they read.", "amount_usd": 450}], "summary": "A different call."}',
)


async def lumen(container: Container, config_file: Path, *args: str) -> Result:
    """`lumen ARGS`, which must succeed."""
    result = await lumen_cli(container, config_file, *args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _new_run_id(output: str) -> int:
    found = re.search(r"as run #(\d+)", output) or re.search(r"queued run #(\d+)", output)
    assert found, output
    return int(found.group(1))


async def _side_effects(container: Container) -> tuple[int, int, int]:
    db = container.db
    return (await count(db, Decision), await count(db, OutboxMessage), await count(db, Approval))


@pytest.fixture
async def original(container: Container, config_file: Path) -> int:
    """`lumen wake acme ceo`: the offline model proposes the gated annual-plan pricing change."""
    result = await lumen(container, config_file, "wake", "acme", "ceo")
    run_id = _new_run_id(result.output)
    run = await get_run(container.db, run_id)
    assert run.status == RunStatus.AWAITING_APPROVAL
    return run_id


async def test_replay_decides_again_from_the_same_inputs_and_touches_nothing_outside(
    container: Container, config_file: Path, original: int
) -> None:
    before = await _side_effects(container)
    assert before == (1, 1, 1)

    result = await lumen(container, config_file, "runs", "replay", str(original))

    replay_id = _new_run_id(result.output)
    assert f"replaying run #{original} as run #{replay_id}" in result.output
    assert f"replay of run #{original} (no Slack side effects)" in result.output
    assert await _side_effects(container) == before  # no decision, no approval, no Slack message
    replay = await get_run(container.db, replay_id)
    assert (replay.trigger, replay.replay_of_run_id, replay.side_effects) == (RunTrigger.REPLAY, original, False)
    assert replay.status == RunStatus.SUCCEEDED and replay.model_override is None
    first, again = await steps_of(container.db, original), await steps_of(container.db, replay_id)
    # The original paused at its gate; the replay, which asks no human, runs to the end.
    assert [s.name for s in first] == ["context", "propose_decisions", "decision:0"]
    assert [s.name for s in again] == ["context", "propose_decisions", "decision:0", "finished"]
    # Same inputs: the recorded context, hence the very same prompt, and (offline) the same answer.
    assert again[0].output == first[0].output
    assert again[1].input == first[1].input
    assert again[1].output["value"] == first[1].output["value"]
    assert again[2].output["side_effects"] is False and again[2].output["decision_id"] is None
    # The replay's model call is real and on the ledger, attributed to the replay.
    assert await count(container.db, Spend, Spend.run_id == replay_id) == 1


async def test_replay_with_another_model_records_it_and_diff_shows_what_changed(
    container: Container,
    config_file: Path,
    original: int,
    stub: OpenAIStub,
    stub_settings: Settings,
) -> None:
    stub.set_default(OTHER_IDEA)
    before = await _side_effects(container)

    result = await lumen(container, config_file, "runs", "replay", str(original), "--model", STUB_MODEL)

    replay_id = _new_run_id(result.output)
    replay = await get_run(container.db, replay_id)
    assert replay.model_override == STUB_MODEL
    assert replay.status == RunStatus.SUCCEEDED
    assert await _side_effects(container) == before
    [request] = stub.requests
    original_steps = await steps_of(container.db, original)
    assert request.model == "stub-model"
    assert request.messages == original_steps[1].input["messages"]  # the same prompt, another model
    steps = await steps_of(container.db, replay_id)
    assert steps[1].output["model"] == STUB_MODEL

    diff = (await lumen(container, config_file, "runs", "diff", str(original), str(replay_id))).output
    assert f"--- run #{original}" in diff and f"+++ run #{replay_id}" in diff
    assert "-  model: lumen-offline/playbook" in diff and f"+  model: {STUB_MODEL}" in diff
    assert "-  proposed: [pricing_change] Launch annual plan with two months free" in diff
    assert "+  proposed: [marketing] Sponsor three analytics newsletters" in diff
    assert "+    amount: 450" in diff
    assert "-status: awaiting_approval" in diff and "+status: succeeded" in diff

    same = (await lumen(container, config_file, "runs", "diff", str(original), str(original))).output
    assert same.strip() == f"runs #{original} and #{original} made the same decisions the same way"

    shown = (await lumen(container, config_file, "runs", "show", str(replay_id))).output
    assert f"run #{replay_id} · wake · trigger replay · succeeded" in shown
    assert f"replay of run #{original}" in shown
    assert "prompt:" in shown and "[system] You are the ceo agent of Acme Analytics" in shown
    assert "[user] Venture: Acme Analytics (acme)" in shown
    assert "response: Pricing can wait; acquisition cannot." in shown
    assert 'tool call propose_decisions: {"decisions": [{"category": "marketing"' in shown
    llm_line = next(line for line in shown.splitlines() if "llm_call propose_decisions" in line)
    assert re.search(r"· \d+ ms · \$\d+\.\d{6}", llm_line), llm_line
    assert '"prompt_tokens":' in shown and '"latency_ms":' in shown

    header, *listed = (await lumen(container, config_file, "runs", "list")).output.splitlines()
    assert header.split()[:3] == ["RUN", "CREATED", "(Europe/Berlin)"] and "STATUS" in header
    assert [int(line.split()[0].lstrip("#")) for line in listed] == [replay_id, original]
    assert f"replay of #{original}" in listed[0]
    assert "acme/ceo" in listed[0] and "replay" in listed[0] and "succeeded" in listed[0]
    assert "manual" in listed[1] and "awaiting_approval" in listed[1]
    only_failed = (await lumen(container, config_file, "runs", "list", "--status", "failed")).output
    assert only_failed.strip() == "no runs yet"


async def test_a_failed_replay_exits_non_zero_and_is_not_the_agents_last_failure(
    container: Container, config_file: Path, original: int, stub: OpenAIStub, stub_settings: Settings
) -> None:
    """Scripts see the failure in the exit code; /lumen status still shows the agent's own last run."""
    from lumen.ventures.status import venture_status

    stub.set_default(HALF_VALID)
    result = await lumen_cli(container, config_file, "runs", "replay", str(original), "--model", STUB_MODEL)

    assert result.exit_code == 1, result.output
    replay = await get_run(container.db, _new_run_id(result.output))
    assert replay.status == RunStatus.FAILED and replay.trigger == RunTrigger.REPLAY
    assert "ended failed" in result.output  # CliRunner mixes stderr in
    async with container.db.sessions() as session:
        report = await venture_status(session, venture_ref="acme")
    ceo = next(a for a in report.ventures[0].agents if a.role == "ceo")
    assert ceo.last_run_status == "awaiting_approval"  # the original's, not the replay's failure


async def test_show_prints_a_failed_runs_reason(
    container: Container, config_file: Path, stub: OpenAIStub, stub_settings: Settings, make_worker
) -> None:
    stub.set_default(HALF_VALID)
    run_id, _ = await wake_and_process(container, make_worker, stub_settings)
    shown = (await lumen(container, config_file, "runs", "show", str(run_id))).output
    assert "· failed" in shown.splitlines()[0]
    assert "error: openai/stub-model did not return valid `propose_decisions` arguments" in shown
    assert "state failed" in shown
    listed = (await lumen(container, config_file, "runs", "list", "--status", "failed")).output
    assert f"#{run_id}" in listed and "did not return valid" in listed
    assert await all_rows(container.db, Run, Run.status == RunStatus.FAILED)
