"""Triggers from outside, through a real replica: POST /api/triggers/<venture>/<role> over HTTP
(retries make one run; every bad request gets a clean 4xx and makes none), and an outcome
recorded with a signed `/lumen outcome` from the dev workspace waking the agent that listens
for outcomes. Both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from devslack import Workspace
from lumen.container import Container
from lumen.db.models import Run, RunStatus, RunTrigger, Step
from lumen.devmode import DevStack, dev_stack
from tests.agents.test_triggers import config_with, until
from tests.brain.test_outcomes import executed_decision
from tests.engine.helpers import agent_of, all_rows
from tests.slack.support import answer_to

TOKEN = "trigger-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.AWAITING_APPROVAL)


@asynccontextmanager
async def stack_with(container: Container, triggers: dict[str, dict[str, Any]]) -> AsyncIterator[DevStack]:
    settings = container.settings.model_copy(update={"api_token": TOKEN})
    workspace = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
    async with dev_stack(settings, config_with(triggers), workspace=workspace) as running:
        yield running


async def post(stack: DevStack, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.app_url}{path}", data=data, headers={"Content-Type": "application/json", **headers}) as response:
            assert response.content_type == "application/json", (response.status, await response.text())
            return response.status, await response.json()


async def cmo_runs(container: Container) -> list[Run]:
    cmo = await agent_of(container.db, "acme", "cmo")
    return await all_rows(container.db, Run, Run.agent_id == cmo.id)


async def finished(container: Container, run_id: int) -> Run:
    async def done() -> Run | None:
        [run] = await all_rows(container.db, Run, Run.id == run_id)
        return run if run.status in DONE else None

    return await until(done)


async def test_a_webhook_retried_three_times_is_one_run(container: Container) -> None:
    async with stack_with(container, {"acme/cmo": {"webhook": True}}) as stack:
        path = "/api/triggers/acme/cmo"
        body = b'{"event": "churn_spike", "accounts": ["Initech", "Globex"], "churn_pct": 4.2}'
        answers = [await post(stack, path, body, {**AUTH, "Idempotency-Key": "evt_8842"}) for _ in range(3)]
        assert [status for status, _ in answers] == [202, 202, 202]
        run_ids = {answer["run_id"] for _, answer in answers}
        assert len(run_ids) == 1 and answers[0][1]["status"] == "queued"
        assert {answer["status"] for _, answer in answers[1:]} == {"duplicate"}
        [run_id] = run_ids
        run = await finished(stack.container, run_id)
        assert run.trigger == RunTrigger.EVENT and run.status == RunStatus.SUCCEEDED
        # The agent was shown the body, as data in its context block.
        [context] = await all_rows(stack.container.db, Step, Step.run_id == run_id, Step.name == "context")
        assert context.output["block"]["extra"]["trigger"] == {
            "source": "webhook", "input": {"event": "churn_spike", "accounts": ["Initech", "Globex"], "churn_pct": 4.2}
        }
        # Without a key, the same body sent again within minutes is the same call.
        other = b'{"event": "signup_drop"}'
        plain = [await post(stack, path, other, AUTH) for _ in range(3)]
        assert len({answer["run_id"] for _, answer in plain}) == 1 and [a["status"] for _, a in plain] == ["queued", "duplicate", "duplicate"]
        await finished(stack.container, plain[0][1]["run_id"])
        assert len(await cmo_runs(stack.container)) == 2


async def test_bad_webhook_requests_get_clean_errors_and_wake_nobody(container: Container) -> None:
    async with stack_with(container, {"acme/cmo": {"webhook": True}}) as stack:
        ok = b'{"event": "x"}'
        cases = [
            ("/api/triggers/acme/cmo", ok, {"Authorization": "Bearer not-the-token"}, 401, "unauthorized"),
            ("/api/triggers/acme/cmo", ok, {}, 401, "unauthorized"),
            ("/api/triggers/acme/cmo", b"{not json", AUTH, 400, "invalid_json"),
            ("/api/triggers/acme/cmo", b'["a", "list"]', AUTH, 400, "invalid_json"),
            ("/api/triggers/acme/cmo", ok, {**AUTH, "Idempotency-Key": "k" * 201}, 400, "invalid_idempotency_key"),
            # What JSON can say but no database keeps.
            ("/api/triggers/acme/cmo", b'{"churn": NaN}', AUTH, 400, "invalid_json"),
            ("/api/triggers/acme/cmo", b'{"note": "a\\u0000b"}', AUTH, 400, "invalid_json"),
            ("/api/triggers/acme/cmo", b'{"note": ["\\ud800"]}', AUTH, 400, "invalid_json"),
            ("/api/triggers/nosuch/cmo", ok, AUTH, 404, "not_found"),
            ("/api/triggers/acme/cfo", ok, AUTH, 404, "not_found"),
            # The ceo exists but takes no webhook.
            ("/api/triggers/acme/ceo", ok, AUTH, 404, "not_found"),
        ]
        for path, body, headers, status, error in cases:
            got, answer = await post(stack, path, body, headers)
            assert (got, answer["error"]) == (status, error), (path, headers, answer)
        assert "triggers.webhook" in (await post(stack, "/api/triggers/acme/ceo", ok, AUTH))[1]["detail"]
        await asyncio.sleep(0.3)
        assert await all_rows(stack.container.db, Run) == []


async def test_an_outcome_from_slack_wakes_the_agent_that_listens_for_outcomes(container: Container) -> None:
    async with stack_with(container, {"acme/ceo": {"on_outcome": True}}) as stack:
        _, decision_id = await executed_decision(stack)
        _, answer, _ = await answer_to(stack.workspace, "U0BOB", "venture-acme", f"outcome {decision_id} success trials came in cheap")
        assert "Recorded outcome" in answer.text
        ceo = await agent_of(stack.container.db, "acme", "ceo")

        async def woken() -> Run | None:
            rows = await all_rows(stack.container.db, Run, Run.agent_id == ceo.id)
            return rows[0] if rows and rows[0].status in DONE else None

        run = await until(woken)
        assert run.trigger == RunTrigger.EVENT and run.idempotency_key.startswith("outcome:acme/ceo:")
        note = run.context["trigger"]
        assert note["source"] == "on_outcome" and note["input"]["decision_id"] == decision_id
        assert note["input"]["verdict"] == "success" and note["input"]["note"] == "trials came in cheap"
        assert len(await all_rows(stack.container.db, Run, Run.agent_id == ceo.id)) == 1


async def test_the_webhook_door_never_answers_5xx(container: Container, caplog: Any) -> None:
    """Random bodies, keys, tokens and paths (hypothesis): a clean 4xx or a 202, never a 5xx,
    and every 202 names a run that exists."""
    import json
    import logging

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.test_fuzz import FUZZ, any_json, content_types, no_tracebacks, run_on, send

    caplog.set_level(logging.WARNING)
    async with stack_with(container, {"acme/cmo": {"webhook": True}, "acme/ceo": {"webhook": True, "max_runs_per_hour": 3}}) as stack:
        loop = asyncio.get_running_loop()
        floats = st.floats(allow_nan=True, allow_infinity=True)
        bodies = (
            st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(st.text(max_size=8), any_json | floats | st.text(max_size=30), max_size=5))
            | st.builds(lambda d: json.dumps(d).encode(), any_json)
            | st.binary(max_size=200)
        )
        paths = st.sampled_from(["acme/cmo", "acme/ceo", "brightbox/ceo", "acme/cfo", "nosuch/cmo"]) | st.text(
            alphabet="abcdefghijklmnopqrstuvwxyz-_%.", min_size=1, max_size=12
        ).map(lambda t: f"{t}/cmo")
        keys = st.none() | st.sampled_from(["evt_1", "evt_2"]) | st.text(max_size=30)
        auth = st.sampled_from([f"Bearer {TOKEN}"] * 4 + ["Bearer nope", ""]) | st.text(max_size=20)
        answered: list[int] = []

        @settings(FUZZ, max_examples=150)
        @given(body=bodies, path=paths, key=keys, authorization=auth, content_type=content_types)
        def call(body: bytes, path: str, key: str | None, authorization: str, content_type: str) -> None:
            headers = {"Authorization": authorization, "Content-Type": content_type, "Idempotency-Key": key or ""}
            headers = {k: v for k, v in headers.items() if v and v.isascii() and v.isprintable()}
            status, text = run_on(loop, send(f"{stack.app_url}/api/triggers/{path}", body, headers))
            assert status < 500, (status, path, body[:200], text[:200])
            answered.append(status)
            if status == 202:
                assert json.loads(text)["run_id"] > 0

        await asyncio.to_thread(call)
        assert {202, 401, 400, 404} <= set(answered), sorted(set(answered))
        no_tracebacks(caplog)
