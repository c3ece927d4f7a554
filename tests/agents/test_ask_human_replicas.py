"""Two replica processes on one Postgres receive the same question's click from two people at once.

Each question is answered once (one conditional UPDATE across processes), its run resumes once
(one `answer:0` step, one more model call), and the person who lost the race is told who answered.
Two real `lumen serve` replicas (tests/support/replica_process.py), the dev workspace as Slack,
the model on the OpenAI-compatible stub in this process.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from devslack import Workspace
from devslack import start as start_workspace
from lumen.container import Container
from lumen.db.models import HumanQuestion, QuestionStatus, Run, RunStatus, Spend, Step
from lumen.domain.ask_human import ASK_HUMAN
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.settings import Settings
from tests.agents.test_ask_human import ASKED, DECIDED
from tests.approvals.support import FAST_RETRIES, Clicker, click_payload
from tests.engine.helpers import all_rows, enqueue_wake, eventually
from tests.support.openai_stub import OpenAIStub, tool_call
from tests.support.replicas import ReplicaProcess, replica_env, several_replicas_need_postgres

QUESTIONS = 6  # races, all at once
ANSWERS = {"U0ALICE": ("question_option_0", "Agencies"), "U0BOB": ("question_option_1", "In-house teams")}


async def test_two_replicas_clicked_at_once_record_one_answer_and_resume_once(
    container: Container, stub: OpenAIStub, stub_settings: Settings, config_file: Path, tmp_path: Path
) -> None:
    several_replicas_need_postgres(container)
    db = container.db
    stub.set_default(tool_call(ASK_HUMAN, ASKED))
    async with AsyncExitStack() as stack:
        ws = Workspace.demo(retry_delays=FAST_RETRIES)
        for venture in container.config.ventures:
            ws.ensure_channel(venture.channel, is_private=venture.private)
        ws.ensure_channel(container.config.workspace.platform_channel)
        runner, _ = await start_workspace(ws)
        stack.push_async_callback(runner.cleanup)
        stack.push_async_callback(ws.settle)
        settings = stub_settings.model_copy(update={"slack_api_url": f"{ws.base_url}/api/", "config_path": config_file})
        replicas = [ReplicaProcess(name, replica_env(settings, LUMEN_TEST_QUICK="1"), tmp_path) for name in ("one", "two")]
        urls = []
        for replica in replicas:
            urls.append(await replica.start())
            stack.push_async_callback(replica.stop)

        run_ids = [await enqueue_wake(db, "brightbox", "ceo") for _ in range(QUESTIONS)]

        async def all_asked() -> list[HumanQuestion] | None:
            asked = [q for q in await all_rows(db, HumanQuestion) if q.message_ts]
            runs = await all_rows(db, Run, Run.id.in_(run_ids))
            paused = all(r.status == RunStatus.AWAITING_APPROVAL for r in runs)
            return asked if len(asked) == QUESTIONS and paused else None

        questions = await eventually(all_asked, timeout=60)
        assert sorted(q.run_id for q in questions) == sorted(run_ids) and len(stub.requests) == QUESTIONS
        stub.set_default(tool_call(PROPOSE_DECISIONS, DECIDED))

        # Each question: Alice's click to one replica, Bob's to the other, every click sent at once.
        payloads = []
        for n, question in enumerate(questions):
            for user, (action, _) in ANSWERS.items():
                payloads.append((n + (user == "U0BOB"), click_payload(ws, user, question.channel_id, question.message_ts, action)))
        clicker = Clicker(ws, [f"{url}/slack/events" for url in urls])
        try:
            deliveries = await asyncio.gather(*(clicker.send(replica, p) for replica, p in payloads))
        finally:
            await clicker.close()
        assert all((d.status, d.body) == (200, "") for d in deliveries), [d.attempts for d in deliveries]

        async def all_finished() -> list[Run] | None:
            runs = await all_rows(db, Run, Run.id.in_(run_ids))
            return runs if all(r.status in (RunStatus.SUCCEEDED, RunStatus.FAILED) for r in runs) else None

        runs = await eventually(all_finished, timeout=60)
        assert {r.status for r in runs} == {RunStatus.SUCCEEDED}, [r.error for r in runs]

        # One answer each, from one of the two, with the option that person clicked.
        answered = {q.id: q for q in await all_rows(db, HumanQuestion)}
        assert {q.status for q in answered.values()} == {QuestionStatus.ANSWERED}
        for q in answered.values():
            assert q.answered_by in ANSWERS and q.answer == ANSWERS[q.answered_by][1]
        wins = Counter(q.answered_by for q in answered.values())

        # One resume each: one answer step, one more model call, nothing paid twice.
        steps = Counter((s.run_id, s.name) for s in await all_rows(db, Step, Step.run_id.in_(run_ids)))
        assert all(steps[(r, "answer:0")] == 1 and steps[(r, "propose_decisions:1")] == 1 for r in run_ids)
        assert len(stub.requests) == 2 * QUESTIONS
        spends = Counter(s.run_id for s in await all_rows(db, Spend, Spend.run_id.in_(run_ids)))
        assert spends == Counter({r: 2 for r in run_ids})

        # Every loser was told who answered: Alice once per question Bob won, and Bob likewise.
        channel = questions[0].channel_id

        def told(user: str) -> list[str]:
            return [m.text for m in ws.ephemeral_messages(channel, user) if "already answered" in m.text]

        await ws.wait_for(lambda: len(told("U0ALICE")) >= wins["U0BOB"] and len(told("U0BOB")) >= wins["U0ALICE"], 10)
        await asyncio.sleep(0.3)
        assert len(told("U0ALICE")) == wins["U0BOB"] and all(t.startswith("<@U0BOB> already answered") for t in told("U0ALICE"))
        assert len(told("U0BOB")) == wins["U0ALICE"] and all(t.startswith("<@U0ALICE> already answered") for t in told("U0BOB"))

    # Both processes answered clicks, and between them recorded each answer once.
    recorded = [r["question_id"] for replica in replicas for r in replica.events("lumen.question.answered")]
    assert sorted(recorded) == sorted(answered)
    claims = Counter(r["run_id"] for replica in replicas for r in replica.events("lumen.run.claimed") if r["run_id"] in run_ids)
    # Asked, then resumed. The replicas' leases are 2 s (LUMEN_TEST_QUICK), so a replica stalled
    # by a loaded machine may have a run taken over: a third claim, which must pay for nothing
    # (the spend and step counts above hold whatever the claims).
    assert set(claims) == set(run_ids) and all(n >= 2 for n in claims.values()), claims
