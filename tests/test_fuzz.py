"""Fuzzing the three doors with hypothesis: Slack's endpoint (unsigned and signed random
bodies and headers) and POST /api/outcomes never answer 5xx nor log a traceback; lumen.yml
only ever fails with a ConfigError. Each test stays under ~20 s (max_examples, no deadline).

The replica runs on the test's event loop; hypothesis runs in a worker thread and hands each
request to that loop, so every example is a real HTTP request to the real app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from devslack import Workspace
from devslack.signing import signature
from lumen.config import parse_config
from lumen.container import Container
from lumen.devmode import DevStack, dev_stack
from lumen.engine import drain, inbox, worker
from lumen.errors import ConfigError
from lumen.render.approvals import APPROVE_ACTION, APPROVE_MODAL, REJECT_ACTION, REJECT_MODAL
from lumen.render.answers import SHOW_ALL_ACTION
from lumen.render.decisions import TRAIL_ACTION
from lumen.render.outcomes import OUTCOME_MODAL, RECORD_ACTION
from lumen.slack import middleware
from lumen.slack.listeners import ask, commands
from tests.support.logs import LogRecorder, record_logs

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,  # no .hypothesis folder in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
API_TOKEN = "lumen-fuzz-token"
EXAMPLE = Path(__file__).parents[1] / "src" / "lumen" / "templates" / "lumen.example.yml"

# --- values shaped like Slack's, and not -----------------------------------------------------

KEYS = ("type", "user", "team", "channel", "view", "actions", "event", "trigger_id", "response_url", "container",
        "message", "state", "values", "private_metadata", "callback_id", "action_id", "value", "id", "text", "ts",
        "thread_ts", "authorizations", "enterprise", "api_app_id", "event_id", "user_id", "channel_id", "command")
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=30)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=15,
)
ids = st.sampled_from(["U0ALICE", "U0BOB", "1", "999999999999999999999", "-1", "abc", "", "١٢", "1e3"]) | st.text(max_size=8)
maybe = lambda strategy: strategy | any_json  # noqa: E731

action = st.fixed_dictionaries(
    {"action_id": st.sampled_from([APPROVE_ACTION, REJECT_ACTION, RECORD_ACTION, TRAIL_ACTION, SHOW_ALL_ACTION])},
    optional={"value": maybe(ids), "block_id": maybe(st.text(max_size=5)), "action_ts": maybe(st.just("1.2")), "type": st.just("button")},
)
state = st.fixed_dictionaries(
    {"values": st.dictionaries(st.sampled_from(["reason", "verdict", "before", "after", "note", "metric"]),
                               st.dictionaries(st.sampled_from(["reason_input", "verdict", "before", "after", "note", "metric"]),
                                               st.fixed_dictionaries({"type": st.sampled_from(["plain_text_input", "static_select"])},
                                                                     optional={"value": maybe(st.text(max_size=12)),
                                                                               "selected_option": maybe(st.fixed_dictionaries({"value": ids}))}),
                                               max_size=2), max_size=4)}
)
metadata = st.text(max_size=20) | st.builds(json.dumps, any_json) | st.builds(lambda i, r: f"{i}|{r}|C1", ids, st.sampled_from(["0", "1", ""]))
view = st.fixed_dictionaries(
    {"type": st.just("modal"), "callback_id": st.sampled_from([APPROVE_MODAL, REJECT_MODAL, OUTCOME_MODAL, "other"])},
    optional={"id": maybe(st.just("V1")), "private_metadata": maybe(metadata), "state": maybe(state)},
)
user = maybe(st.fixed_dictionaries({"id": ids}))
interaction = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "other"])},
    optional={"user": user, "actions": maybe(st.lists(action, max_size=2)), "view": maybe(view), "trigger_id": maybe(st.just("T1")),
              "container": maybe(st.fixed_dictionaries({"channel_id": ids, "message_ts": st.just("1.000100")})),
              "channel": maybe(st.fixed_dictionaries({"id": ids})), "team": maybe(st.fixed_dictionaries({"id": st.just("T0DEV")}))},
)
event = st.fixed_dictionaries(
    {"type": st.sampled_from(["app_mention", "message", "app_home_opened", "assistant_thread_started", "other"])},
    optional={"user": maybe(ids), "channel": maybe(ids), "text": maybe(st.text(max_size=200)), "ts": maybe(st.just("1.000200")),
              "channel_type": maybe(st.sampled_from(["im", "channel"])), "subtype": maybe(st.text(max_size=5)),
              "assistant_thread": any_json, "tab": st.just("home")},
)
event_callback = st.fixed_dictionaries(
    {"type": st.just("event_callback"), "event": maybe(event)},
    optional={"event_id": st.builds(lambda n: f"EvFUZZ{n}", st.integers(0, 10**9)), "team_id": st.just("T0DEV"),
              "authorizations": maybe(st.lists(any_json, max_size=2))},
)
command_text = st.sampled_from(["status", "help", "ask what did acme try?", "ask the payload", "outcome 1 success",
                                "outcome 99999999999999999999 success", "brain acme v1", "brain acme v99999999999", "brain acme v١", "budget", "approvals", "x"]) | st.text(max_size=60)
content_types = st.sampled_from([
    "application/x-www-form-urlencoded", "application/json", "application/json; charset=utf-8", "text/plain",
    "application/x-www-form-urlencoded; charset=latin-1", "application/json; charset=bogus", "multipart/form-data", "",
])


@st.composite
def signed_bodies(draw: st.DrawFn, response_url: str) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["command", "interaction", "event", "form", "json", "bytes"]))
    if kind == "command":
        form = {"command": draw(st.sampled_from(["/lumen", "/other", "lumen"])), "text": draw(command_text),
                "user_id": draw(st.sampled_from(["U0ALICE", "U0BOB"]) | st.text(max_size=5)),
                "channel_id": draw(st.sampled_from(["C0ACME", "C0NOPE"]) | st.text(max_size=5)),
                "response_url": response_url, "trigger_id": draw(st.text(max_size=10))}
        form = {k: v for k, v in form.items() if draw(st.integers(0, 9))}  # now and then a field is missing
        return urlencode(form).encode(), draw(st.sampled_from(["application/x-www-form-urlencoded"]) | content_types)
    if kind == "interaction":
        return urlencode({"payload": json.dumps(draw(interaction))}).encode(), "application/x-www-form-urlencoded"
    if kind == "event":
        return json.dumps(draw(event_callback)).encode(), "application/json"
    if kind == "form":
        fields = draw(st.dictionaries(st.sampled_from(["payload", "command", "text", "ssl_check"]) | st.text(max_size=5),
                                      st.text(max_size=40) | st.builds(json.dumps, any_json), max_size=4))
        return urlencode(fields).encode(), draw(content_types)
    if kind == "json":
        return json.dumps(draw(any_json)).encode(), draw(content_types)
    return draw(st.binary(max_size=300)), draw(content_types)


def run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


async def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


def no_tracebacks(caplog: pytest.LogCaptureFixture, logs: LogRecorder | None = None) -> None:
    """Nothing at ERROR from Bolt or aiohttp (standard logging), nor from Lumen's listeners."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage()[:300] for r in errors][:5]
    assert [e for e in logs or [] if e["log_level"] == "error"] == []


@pytest.fixture
async def fuzz_stack(container: Container) -> Any:
    settings_ = container.settings.model_copy(update={"api_token": API_TOKEN})
    async with dev_stack(settings_, container.config, workspace=Workspace.demo(retry_delays=(0.05,))) as running:
        yield running


async def test_slack_endpoint_never_answers_5xx(fuzz_stack: DevStack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.WARNING)
    # Where a listener's failure is logged (the outbox's dead letters are not: a signed event may
    # name a channel that does not exist, and Slack says so).
    logs = record_logs(monkeypatch, drain, middleware, commands, ask, worker, inbox)
    stack, loop = fuzz_stack, asyncio.get_running_loop()
    ws, url = stack.workspace, f"{fuzz_stack.app_url}/slack/events"
    channel = ws._channel("venture-acme")
    response_url = ws.response_url_for(ws.response_urls.issue("U0ALICE", channel.id).token)
    header_text = st.text(max_size=20) | st.sampled_from(["1", "1.5", "9" * 30, "-1", str(int(time.time()))])
    statuses: list[int] = []
    unsigned_statuses: list[int] = []

    @FUZZ
    @given(body=st.binary(max_size=400), ts=header_text, sig=header_text, content_type=content_types)
    def unsigned(body: bytes, ts: str, sig: str, content_type: str) -> None:
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": content_type}
        headers = {k: v for k, v in headers.items() if v.isascii() and v.isprintable()}
        status, text = run_on(loop, send(url, body, headers))
        unsigned_statuses.append(status)
        assert status < 500 and status in (401, 413, 415, 400), (status, text[:200])

    @FUZZ
    @given(drawn=signed_bodies(response_url), skew=st.sampled_from([0, 0, 0, -30, 299, -400]))
    def signed(drawn: tuple[bytes, str], skew: int) -> None:
        body, content_type = drawn
        ts = str(int(time.time()) + skew)
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(ws.signing_secret, ts, body)}
        if content_type:
            headers["Content-Type"] = content_type
        status, text = run_on(loop, send(url, body, headers))
        statuses.append(status)
        assert status < 500, (status, body[:300], text[:300])

    started = time.monotonic()
    await asyncio.to_thread(unsigned)
    await asyncio.to_thread(signed)
    await ws.settle()
    await asyncio.sleep(0.5)  # what the listeners started after their acks
    assert any(s == 200 for s in statuses) and any(s == 400 for s in statuses)  # both doors were reached
    assert len(statuses) >= 200 and len(unsigned_statuses) >= 200, (len(statuses), len(unsigned_statuses))
    no_tracebacks(caplog, logs)
    assert time.monotonic() - started < 60


async def test_outcomes_api_never_answers_5xx(fuzz_stack: DevStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop, url = asyncio.get_running_loop(), f"{fuzz_stack.app_url}/api/outcomes"
    fields = st.fixed_dictionaries(
        {},
        optional={"decision_id": maybe(st.integers(min_value=-(2**70), max_value=2**70)), "verdict": maybe(st.sampled_from(["success", "failure", "mixed", "x"])),
                  "metric": maybe(st.text(max_size=100)), "before": maybe(st.floats()), "after": maybe(st.floats()),
                  "note": maybe(st.text(max_size=50)), "reported_by": maybe(st.text(max_size=100)), "replace": maybe(st.booleans()),
                  "extra": any_json},
    )
    bodies = st.builds(lambda d: json.dumps(d).encode(), fields) | st.builds(lambda d: json.dumps(d).encode(), any_json) | st.binary(max_size=200)
    auth = st.sampled_from([f"Bearer {API_TOKEN}"] * 4 + ["Bearer nope", "", "Basic x"]) | st.text(max_size=20)

    @FUZZ
    @given(body=bodies, authorization=auth, content_type=content_types)
    def outcome(body: bytes, authorization: str, content_type: str) -> None:
        headers = {"Authorization": authorization.encode("utf-8").decode("latin-1"), "Content-Type": content_type}
        headers = {k: v for k, v in headers.items() if v and v.isprintable()}
        status, text = run_on(loop, send(url, body, headers))
        assert status < 500, (status, body[:200], text[:200])
        assert json.loads(text)["ok"] is (status == 201)
        answered.append(status)

    answered: list[int] = []
    started = time.monotonic()
    await asyncio.to_thread(outcome)
    assert len(answered) >= 200 and {401, 400, 422} <= set(answered), sorted(set(answered))
    no_tracebacks(caplog)
    assert time.monotonic() - started < 30


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    """The example lumen.yml with a few of its values replaced by anything at all."""
    raw: Any = yaml.safe_load(EXAMPLE.read_text())
    for _ in range(draw(st.integers(1, 3))):
        node, path = raw, []
        while isinstance(node, (dict, list)) and node and draw(st.integers(0, 3)):
            key = draw(st.sampled_from(sorted(node, key=str) if isinstance(node, dict) else list(range(len(node)))))
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(any_json | st.sampled_from(["0 9 30 2 *", "61 * * * *", "", "#x", 7, None, [], {}]))
    return yaml.safe_dump(raw, allow_unicode=True)


def test_lumen_yml_fails_only_with_a_config_error() -> None:
    yaml_text = st.text(alphabet=st.sampled_from(list("ventures:slug-[]{}&*!|>'\"#\n\t 0123acme\\%@`,?")), max_size=200)

    @FUZZ
    @given(text=mutated_configs() | yaml_text | st.builds(lambda v: yaml.safe_dump(v), any_json))
    def parse(text: str) -> None:
        try:
            parse_config(text, "lumen.yml")
        except ConfigError as refused:
            assert str(refused).startswith("lumen.yml"), str(refused)

    started = time.monotonic()
    parse()
    assert time.monotonic() - started < 30
