"""Recording outcomes: the Record outcome button and its modal, `/lumen outcome`, `lumen outcome`
and POST /api/outcomes. Through the real stack: the dev workspace delivers signed requests to the
Bolt app over HTTP, and the replies reach the workspace through the outbox. An outcome is never
overwritten: a second one is refused unless it asks to supersede, and then both rows are kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from sqlalchemy import select

from lumen.brain.service import OutcomeExists, OutcomeReport, record_outcome
from lumen.db.models import Decision, DecisionStatus, Outcome, Verdict
from lumen.db.session import Database
from lumen.devmode import DevStack, dev_stack
from devslack import Message
from lumen.container import Container
from lumen.render.outcomes import OUTCOME_MODAL, RECORD_ACTION
from tests.brain.conftest import API_TOKEN, action_ids, cli, texts, wait_for_message
from tests.slack.support import answer_to

import pytest

ACME = "venture-acme"


async def executed_decision(stack: DevStack) -> tuple[Message, int]:
    """Wake Acme's cmo from Slack: its first playbook move (a $300 ads test) goes ahead ungated."""
    ws = stack.workspace
    await answer_to(ws, "U0ALICE", ACME, "wake acme cmo")
    message = await wait_for_message(ws, ACME, lambda m: RECORD_ACTION in action_ids(m))
    decision_id = next(
        int(e["value"]) for b in message.blocks if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == RECORD_ACTION
    )
    return message, decision_id


async def awaiting_decision(stack: DevStack) -> int:
    """Wake Brightbox's ceo: its first move is a pricing change, which waits for a human."""
    await answer_to(stack.workspace, "U0ALICE", "venture-brightbox", "wake brightbox ceo")
    db = stack.container.db
    for _ in range(200):
        async with db.sessions() as session:
            found = await session.scalar(
                select(Decision.id).where(Decision.status == DecisionStatus.AWAITING_APPROVAL)
            )
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("no decision awaiting approval")


async def outcomes_of(db: Database, decision_id: int) -> list[Outcome]:
    async with db.sessions() as session:
        return list(
            await session.scalars(select(Outcome).where(Outcome.decision_id == decision_id).order_by(Outcome.id))
        )


async def test_record_outcome_button_modal_and_thread_reply(stack: DevStack) -> None:
    ws, db = stack.workspace, stack.container.db
    message, decision_id = await executed_decision(stack)
    assert "Record outcome" in texts(message)

    # The button opens the modal (acked at once, opened in the lazy listener).
    delivery = await ws.click("U0ALICE", ACME, message.ts, RECORD_ACTION)
    assert delivery.status == 200
    modal = await ws.wait_for(lambda: ws.current_modal("U0ALICE"))
    assert modal.definition["callback_id"] == OUTCOME_MODAL
    assert [b.get("block_id") for b in modal.definition["blocks"] if b["type"] == "input"] == [
        "verdict", "metric", "before", "after", "note"
    ]
    assert f"#{decision_id}" in str(modal.definition["blocks"][0])

    # Not a number: the modal stays open with the error on the field, and nothing is stored.
    values = {"verdict": "success", "metric": "trials", "before": "about 12", "after": "40", "note": "Cheap trials."}
    delivery = await ws.submit_view("U0ALICE", values=values)
    assert delivery.status == 200
    assert ws.current_modal("U0ALICE") is modal
    assert modal.errors == {"before": "A number, please (like 1200 or 3.5)."}
    assert await outcomes_of(db, decision_id) == []

    # Fixed: it closes, the outcome is stored, and the decision's thread says so.
    delivery = await ws.submit_view("U0ALICE", values=values | {"before": "1,200"})
    assert delivery.status == 200 and ws.current_modal("U0ALICE") is None
    [outcome] = await outcomes_of(db, decision_id)
    assert (outcome.verdict, outcome.metric, outcome.metric_before, outcome.metric_after) == (
        Verdict.SUCCESS, "trials", 1200.0, 40.0
    )
    assert (outcome.note, outcome.reported_by, outcome.source, outcome.supersedes_id) == (
        "Cheap trials.", "U0ALICE", "slack", None
    )
    reply = await wait_for_message(ws, ACME, lambda m: m.thread_ts == message.ts and m.is_reply)
    assert "Outcome recorded by <@U0ALICE>: *success*" in reply.text
    assert "trials 1200 → 40" in reply.text and "Cheap trials." in reply.text
    # The card itself changes in place: how it turned out, and the button now offers a correction.
    card = await ws.wait_for(lambda: (m := ws.find_message(message.channel, message.ts)) and "Outcome:" in texts(m) and m, 5)
    assert "📈 Outcome: ✅ *success* · trials 1200 → 40 · reported by <@U0ALICE>" in texts(card)
    assert "Correct outcome" in texts(card) and "Record outcome" not in texts(card)
    assert card.edited and len([m for m in ws.messages(ACME) if m.ts == message.ts]) == 1

    # The button again: the modal warns about the existing outcome; saving supersedes it, both kept.
    await ws.click("U0BOB", ACME, message.ts, RECORD_ACTION)
    second = await ws.wait_for(lambda: ws.current_modal("U0BOB"))
    assert f"Outcome #{outcome.id} already says success" in str(second.definition["blocks"])
    await ws.submit_view("U0BOB", values={"verdict": "failure", "note": "Trials never converted."})
    assert ws.current_modal("U0BOB") is None
    first, newer = await outcomes_of(db, decision_id)
    assert first.id == outcome.id and first.verdict == Verdict.SUCCESS and first.note == "Cheap trials."
    assert newer.verdict == Verdict.FAILURE and newer.supersedes_id == outcome.id
    reply = await wait_for_message(ws, ACME, lambda m: m.thread_ts == message.ts and "failure" in m.text)
    assert f"Supersedes outcome #{outcome.id}, which is kept" in reply.text
    # The card shows the latest outcome only, once.
    await ws.wait_for(lambda: "*failure*" in texts(ws.find_message(message.channel, message.ts)), 5)
    card = texts(ws.find_message(message.channel, message.ts))
    assert card.count("📈 Outcome:") == 1 and "*success*" not in card


async def test_outcome_slash_command(stack: DevStack) -> None:
    ws, db = stack.workspace, stack.container.db
    message, decision_id = await executed_decision(stack)
    pending_id = await awaiting_decision(stack)

    _, answer, _ = await answer_to(ws, "U0BOB", ACME, f"outcome #{decision_id} success Signups doubled in a week")
    [outcome] = await outcomes_of(db, decision_id)
    assert answer.text == f"Recorded outcome #{outcome.id} for decision #{decision_id}: success."
    assert (outcome.verdict, outcome.note, outcome.reported_by, outcome.source) == (
        Verdict.SUCCESS, "Signups doubled in a week", "U0BOB", "slack"
    )
    await wait_for_message(ws, ACME, lambda m: m.thread_ts == message.ts and "Signups doubled" in m.text)

    # A second one without --replace is refused, and says how to supersede.
    _, answer, _ = await answer_to(ws, "U0BOB", ACME, f"outcome {decision_id} failure")
    assert f"Decision #{decision_id} already has an outcome (success by U0BOB, outcome #{outcome.id})" in answer.text
    assert "replace" in answer.text
    assert len(await outcomes_of(db, decision_id)) == 1

    _, answer, _ = await answer_to(ws, "U0BOB", ACME, f"outcome {decision_id} mixed --replace churn came back")
    first, newer = await outcomes_of(db, decision_id)
    assert answer.text == f"Recorded outcome #{newer.id} for decision #{decision_id}: mixed (supersedes outcome #{first.id})."
    assert (first.verdict, newer.verdict, newer.supersedes_id, newer.note) == (
        Verdict.SUCCESS, Verdict.MIXED, first.id, "churn came back"
    )

    # Not executed: nothing to record.
    _, answer, _ = await answer_to(ws, "U0ALICE", ACME, f"outcome {pending_id} success")
    assert answer.text == f"Decision #{pending_id} was awaiting approval, not executed: it has no outcome to record."
    assert await outcomes_of(db, pending_id) == []
    # Bad verdicts and unknown decisions get a readable answer, not a crash.
    _, answer, _ = await answer_to(ws, "U0ALICE", ACME, f"outcome {decision_id} great")
    assert answer.text == "That didn't work: verdict must be one of success, failure, mixed, unknown."
    _, answer, _ = await answer_to(ws, "U0ALICE", ACME, "outcome 99999 success")
    assert answer.text == "No decision #99999."


async def test_outcome_http_api(stack: DevStack) -> None:
    db = stack.container.db
    message, decision_id = await executed_decision(stack)
    pending_id = await awaiting_decision(stack)
    url = f"{stack.app_url}/api/outcomes"
    good = {"Authorization": f"Bearer {API_TOKEN}"}
    body = {"decision_id": decision_id, "verdict": "success", "metric": "MRR", "before": 41000, "after": 44500,
            "note": "billing says so", "reported_by": "billing"}

    async with aiohttp.ClientSession() as http:

        async def post(payload: object, headers: dict[str, str] | None = None, raw: str | None = None) -> tuple[int, dict]:
            kwargs = {"data": raw, "headers": {**(headers or {}), "Content-Type": "application/json"}} if raw is not None \
                else {"json": payload, "headers": headers or {}}
            async with http.post(url, **kwargs) as response:
                return response.status, await response.json()

        status, answer = await post(body, {"Authorization": "Bearer wrong"})
        assert (status, answer["error"]) == (401, "unauthorized")
        status, answer = await post(body)
        assert (status, answer["error"]) == (401, "unauthorized")
        status, answer = await post(body, {"Authorization": API_TOKEN})  # no "Bearer "
        assert status == 401
        status, answer = await post({**body, "verdict": "great"}, good)
        assert (status, answer["error"]) == (422, "invalid_outcome") and "verdict" in answer["detail"]
        status, answer = await post({**body, "colour": "blue"}, good)
        assert (status, answer["error"]) == (422, "invalid_outcome")
        for raw in ("{not json", "[1, 2]", "null", '"success"'):
            status, answer = await post(None, good, raw=raw)
            assert (status, answer["error"]) == (400, "invalid_json"), raw
        status, answer = await post({**body, "decision_id": 99999}, good)
        assert (status, answer["error"]) == (404, "decision_not_found")
        status, answer = await post({**body, "decision_id": pending_id}, good)
        assert (status, answer["error"]) == (409, "not_executed") and "not executed" in answer["detail"]
        assert await outcomes_of(db, decision_id) == []

        status, answer = await post(body, good)
        assert status == 201, answer
        [outcome] = await outcomes_of(db, decision_id)
        assert answer == {"ok": True, "outcome_id": outcome.id, "decision_id": decision_id, "supersedes": None}
        assert (outcome.metric, outcome.metric_before, outcome.metric_after, outcome.reported_by, outcome.source) == (
            "MRR", 41000.0, 44500.0, "billing", "api"
        )
        reply = await wait_for_message(stack.workspace, ACME, lambda m: m.thread_ts == message.ts and m.is_reply)
        assert "Outcome recorded by billing: *success* · MRR 41000 → 44500" in reply.text

        status, answer = await post({**body, "verdict": "failure"}, good)
        assert (status, answer["error"]) == (409, "outcome_exists") and f"outcome #{outcome.id}" in answer["detail"]
        status, answer = await post({**body, "verdict": "failure", "replace": True}, good)
        assert status == 201 and answer["supersedes"] == outcome.id
        assert [o.verdict for o in await outcomes_of(db, decision_id)] == [Verdict.SUCCESS, Verdict.FAILURE]


async def test_without_a_token_the_outcome_api_accepts_nothing(container: Container) -> None:
    """Without LUMEN_API_TOKEN the endpoint accepts nothing, whatever the header says."""
    settings = container.settings.model_copy(update={"api_token": None})
    async with dev_stack(settings, container.config) as stack, aiohttp.ClientSession() as http:
        body = {"decision_id": 1, "verdict": "success"}
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        async with http.post(f"{stack.app_url}/api/outcomes", json=body, headers=headers) as response:
            status, answer = response.status, await response.json()
    assert (status, answer["error"]) == (503, "api_disabled")
    assert "LUMEN_API_TOKEN" in answer["detail"]


async def test_outcomes_are_never_overwritten(container: Container, gateway) -> None:  # type: ignore[no-untyped-def]
    """The service itself, on both databases: refusal, supersession, the thread post queued once each."""
    from tests.brain.history import write_history
    from tests.brain.conftest import START

    history = await write_history(container.db, "acme", 1, 50, START)
    pending = next(d for d in history.decisions if d.kind == "pending")
    rejected = next(d for d in history.decisions if d.kind == "rejected")
    async with container.db.transaction() as session:
        first = await record_outcome(session, OutcomeReport(decision_id=pending.id, verdict="Success"), source="cli")
    with pytest.raises(OutcomeExists, match=f"outcome #{first.outcome_id}\\)"):
        async with container.db.transaction() as session:
            await record_outcome(session, OutcomeReport(decision_id=pending.id, verdict="failure"), source="cli")
    async with container.db.transaction() as session:
        second = await record_outcome(
            session, OutcomeReport(decision_id=pending.id, verdict="failure", replace=True), source="cli"
        )
    assert second.superseded == first.outcome_id
    rows = await outcomes_of(container.db, pending.id)
    assert [(o.id, o.verdict, o.supersedes_id) for o in rows] == [
        (first.outcome_id, Verdict.SUCCESS, None), (second.outcome_id, Verdict.FAILURE, first.outcome_id)
    ]
    from lumen.errors import LumenError

    with pytest.raises(LumenError, match=f"Decision #{rejected.id} was rejected, not executed"):
        async with container.db.transaction() as session:
            await record_outcome(session, OutcomeReport(decision_id=rejected.id, verdict="success"), source="cli")


async def test_lumen_outcome_cli(cli_container: Container, tmp_path: Path) -> None:
    """`lumen outcome` as an operator runs it: subprocesses against the same database."""
    from tests.brain.conftest import START
    from tests.brain.history import write_history

    container = cli_container
    history = await write_history(container.db, "acme", 1, 50, START)
    fresh, already = [d for d in history.decisions if d.kind == "pending"][:2]
    async with container.db.transaction() as session:
        existing = await record_outcome(session, OutcomeReport(decision_id=already.id, verdict="success"), source="api")

    new, refused, replaced = await asyncio.gather(
        cli(tmp_path, "outcome", str(fresh.id), "success", "--metric", "MRR", "--before", "100", "--after", "120",
            "--note", "annual plans sold", "--by", "U0CAROL"),
        cli(tmp_path, "outcome", str(already.id), "failure"),
        cli(tmp_path, "outcome", str(already.id), "mixed", "--replace"),
    )
    [outcome] = await outcomes_of(container.db, fresh.id)
    assert new.code == 0, new.err
    assert new.out.strip() == f"recorded outcome #{outcome.id} for decision #{fresh.id}"
    assert (outcome.verdict, outcome.metric, outcome.metric_before, outcome.metric_after, outcome.note) == (
        Verdict.SUCCESS, "MRR", 100.0, 120.0, "annual plans sold"
    )
    assert (outcome.reported_by, outcome.source) == ("U0CAROL", "cli")

    # Whichever of the two ran first, the existing outcome is never overwritten.
    assert refused.code == 2 and "already has an outcome" in refused.err and "Traceback" not in refused.err
    assert replaced.code == 0, replaced.err
    rows = await outcomes_of(container.db, already.id)
    assert [o.verdict for o in rows] == [Verdict.SUCCESS, Verdict.MIXED]
    assert rows[1].supersedes_id == existing.outcome_id
    assert replaced.out.strip() == (
        f"recorded outcome #{rows[1].id} for decision #{already.id}, superseding outcome #{existing.outcome_id}"
    )
