"""Every bad request to Slack's endpoint gets a clean 4xx (or an ack and a warning), never a
500 or a traceback; the signature is checked over the raw bytes before anything parses them;
a replayed command runs once; a question over the cap is refused before any work on it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

import lumen.slack.http as slack_http
from lumen.db.models import SlackEventReceipt
from lumen.devmode import DevStack
from lumen.domain.questions import MAX_QUESTION_CHARS
from lumen.render.approvals import APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_MODAL
from lumen.render.decisions import TRAIL_ACTION
from lumen.render.outcomes import OUTCOME_MODAL, RECORD_ACTION
from lumen.slack.listeners import actions as action_listeners, approvals as approval_listeners, outcomes as outcome_listeners
from tests.slack.raw import command_form, interaction_form, post
from tests.slack.support import all_response_url_payloads
from tests.support.logs import record_logs

SIDE_EFFECTS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish", "views.open")


async def receipts(stack: DevStack) -> int:
    async with stack.container.db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(SlackEventReceipt))).scalar_one()


def side_effects(stack: DevStack) -> list[str]:
    return [c.method for c in stack.workspace.calls if c.method in SIDE_EFFECTS]


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """Bolt's and aiohttp's loggers are standard logging: nothing at ERROR may reach them."""
    caplog.set_level(logging.WARNING)
    yield caplog
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


def interaction(stack: DevStack, kind: str, **fields: object) -> dict:
    ws = stack.workspace
    return {
        "type": kind,
        "user": {"id": "U0ALICE", "username": "alice", "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "team": {"id": ws.team_id, "domain": ws.domain},
        "trigger_id": ws.triggers.issue("U0ALICE"),
        **fields,
    }


async def test_bad_timestamps_and_signatures_get_401_before_the_body_is_read(stack: DevStack, no_tracebacks, monkeypatch) -> None:
    logs = record_logs(monkeypatch, slack_http)
    form = command_form(stack, "status all")
    now = int(time.time())
    for timestamp in ("abc", "1700000000.5", "9" * 40, "-5", " 12", "+1", "١٢٣", "", str(now + 600), str(now - 600)):
        answer = await post(stack, form, timestamp=timestamp)
        assert answer.status == 401, (timestamp, answer)
        assert answer.json()["error"] in ("invalid_timestamp", "stale_request")
    # Signed, then altered; unsigned; a signature that is not hex.
    signed = await post(stack, form, headers={"X-Slack-Request-Timestamp": str(now)}, timestamp=str(now))
    assert signed.status == 200
    altered = command_form(stack, "status all")
    from devslack.signing import signature

    good = signature(stack.workspace.signing_secret, str(now), altered)
    for headers in (
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": good},  # for other bytes below
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "é" * 64},
        {"X-Slack-Request-Timestamp": str(now)},
    ):
        answer = await post(stack, altered.replace("status", "wake_"), sign=False, headers=headers)
        assert (answer.status, answer.json()["error"]) == (401, "invalid_signature")
    assert len(logs.named("lumen.slack.request_refused")) == 13
    await stack.workspace.wait_for(lambda: all_response_url_payloads(stack.workspace), timeout=5)
    assert len(all_response_url_payloads(stack.workspace)) == 1  # the one good command


async def test_bodies_slack_never_sends_get_a_clean_4xx(stack: DevStack, no_tracebacks) -> None:
    ws = stack.workspace
    deep = '{"type": "event_callback", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    cases: list[tuple[bytes | str, str, int, str]] = [
        (b"command=%2Flumen&text=\xff\xfe", "application/x-www-form-urlencoded", 400, "invalid_utf8"),
        ("command=%2Flumen&text=%FF", "application/x-www-form-urlencoded", 400, "invalid_form"),
        (command_form(stack, "status"), "application/x-www-form-urlencoded; charset=latin-1", 415, "unsupported_charset"),
        (command_form(stack, "status"), "application/x-www-form-urlencoded; charset=x-nothing", 415, "unsupported_charset"),
        (command_form(stack, "status"), "text/plain", 415, "unsupported_content_type"),
        (urlencode({"payload": "[]"}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (urlencode({"payload": "1"}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (urlencode({"payload": "null"}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (urlencode({"payload": "{not json"}), "application/x-www-form-urlencoded", 400, "invalid_json"),
        (urlencode({"payload": "{}"}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        ("text=hello", "application/x-www-form-urlencoded", 400, "invalid_form"),
        ("", "application/x-www-form-urlencoded", 400, "invalid_form"),
        ("[]", "application/json", 400, "invalid_payload"),
        (deep, "application/json", 400, "invalid_json"),
        (json.dumps({"type": "event_callback", "event": "hi"}), "application/json", 400, "invalid_payload"),
        (json.dumps({"type": "event_callback", "event": {"type": "message", "text": 5}}), "application/json", 400, "invalid_payload"),
        (json.dumps({"type": "event_callback", "authorizations": 5, "event": {"type": "app_mention"}}), "application/json", 400, "invalid_payload"),
        (interaction_form({**interaction(stack, "block_actions", actions=[]), "user": None}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (interaction_form(interaction(stack, "block_actions", actions=[])), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (interaction_form(interaction(stack, "block_actions", actions=[{"action_id": APPROVE_ACTION, "value": 7}])), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (interaction_form(interaction(stack, "view_submission", view="x")), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (interaction_form({**interaction(stack, "view_submission", view={"type": "modal", "callback_id": REJECT_MODAL}), "user": 5}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (urlencode({"command": "/lumen", "text": "status"}), "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (interaction_form(interaction(stack, "workflow_step_edit", callback_id="x")), "application/x-www-form-urlencoded", 400, "invalid_payload"),
    ]
    for body, content_type, status, error in cases:
        answer = await post(stack, body, content_type=content_type)
        assert (answer.status, answer.json()["error"]) == (status, error), (body[:120], answer.text[:200])
        assert answer.json()["detail"]
    too_big = command_form(stack, "ask " + "x" * (slack_http.MAX_BODY_BYTES + 10))
    answer = await post(stack, too_big)
    assert (answer.status, answer.json()["error"]) == (413, "body_too_large")
    assert await receipts(stack) == 0
    assert side_effects(stack) == [] and all_response_url_payloads(ws) == []


async def test_malformed_clicks_and_modals_are_acked_with_a_warning(stack: DevStack, no_tracebacks, monkeypatch) -> None:
    logs = record_logs(monkeypatch, approval_listeners, outcome_listeners, action_listeners)
    channel = {"id": stack.workspace._channel("venture-acme").id}
    container = {"type": "message", "message_ts": "1.000100", "channel_id": channel["id"]}
    for action, value in ((APPROVE_ACTION, "abc"), (REJECT_ACTION, "99999999999999999999"), (RECORD_ACTION, "-3"), (TRAIL_ACTION, "1e3")):
        body = interaction(stack, "block_actions", channel=channel, container=container,
                           actions=[{"action_id": action, "block_id": "b", "value": value, "type": "button", "action_ts": "1.2"}])
        answer = await post(stack, interaction_form(body))
        assert (answer.status, answer.text) == (200, ""), (action, answer)
    reason = {"values": {REASON_BLOCK: {REASON_INPUT: {"type": "plain_text_input", "value": "not worth it"}}}}
    for metadata in ("", "not json", "[1]", '{"approval_id": 1e999}', '{"approval_id": 99999999999999999999}', '{"approval_id": true}'):
        view = {"id": "V1", "type": "modal", "callback_id": REJECT_MODAL, "private_metadata": metadata, "state": reason}
        answer = await post(stack, interaction_form(interaction(stack, "view_submission", view=view)))
        assert answer.status == 200 and answer.json()["response_action"] == "errors", (metadata, answer)
    number = {"type": "plain_text_input", "value": "nan"}
    for metadata, state in (
        ("abc|0|C1", {}),
        ("99999999999999999999|1|C1", {}),
        ("", {}),
        ("1|0|C1", {"before": {"before": number}, "after": {"after": {"type": "plain_text_input", "value": "1e999"}}}),
    ):
        view = {"id": "V2", "type": "modal", "callback_id": OUTCOME_MODAL, "private_metadata": metadata, "state": {"values": state}}
        answer = await post(stack, interaction_form(interaction(stack, "view_submission", view=view)))
        assert answer.status == 200 and answer.json()["response_action"] == "errors", (metadata, answer)
        if state:
            assert set(answer.json()["errors"]) == {"before", "after"}
    await stack.workspace.settle()
    warned = logs.named("lumen.slack.bad_click") + logs.named("lumen.slack.bad_view")
    assert len(warned) == 4 + 6 + 3 and logs.tracebacks() == []  # each click, each modal


async def test_ask_with_the_word_payload_is_answered(stack: DevStack, no_tracebacks) -> None:
    ws = stack.workspace
    delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "ask what was in the payload of the last pricing test?")
    assert (delivery.status, delivery.body) == (200, "")
    asked = await ws.wait_for(lambda: [m for m in ws.messages("venture-acme") if "payload" in m.text], timeout=10)
    channel_id = ws.resolve_channel("venture-acme").id
    replies = await ws.wait_for(
        lambda: [m for m in ws.thread(channel_id, asked[0].ts) if m.ts != asked[0].ts and m.user == ws.bot.id], timeout=20
    )
    assert replies and "unhandled" not in replies[0].text


async def test_a_replayed_command_or_modal_runs_once(stack: DevStack, no_tracebacks, monkeypatch) -> None:
    ws = stack.workspace
    logs = record_logs(monkeypatch, slack_http)
    form = command_form(stack, "status all")
    timestamp = str(int(time.time()))
    first = await post(stack, form, timestamp=timestamp)
    again = await post(stack, form, timestamp=timestamp)
    assert (first.status, again.status, again.text) == (200, 200, "")
    await ws.wait_for(lambda: all_response_url_payloads(ws), timeout=5)
    fresh = await post(stack, command_form(stack, "status all"), timestamp=timestamp)  # a new trigger: not a replay
    assert fresh.status == 200
    in_ack = 1 if fresh.text else 0  # a status loaded a moment ago comes in the ack itself
    await ws.wait_for(lambda: len(all_response_url_payloads(ws)) + in_ack >= 2, timeout=5)
    await ws.settle()
    assert len(all_response_url_payloads(ws)) + in_ack == 2
    # A modal submitted twice: the second one is acked empty, not judged again.
    view = {"id": "V3", "type": "modal", "callback_id": OUTCOME_MODAL, "private_metadata": "abc|0|", "state": {"values": {}}}
    submission = interaction_form(interaction(stack, "view_submission", view=view))
    answers = [await post(stack, submission, timestamp=timestamp) for _ in range(2)]
    assert answers[0].json()["response_action"] == "errors" and (answers[1].status, answers[1].text) == (200, "")
    assert len(logs.named("lumen.slack.replay_refused")) == 2


async def test_a_late_replay_sent_to_another_replica_runs_once(stack: DevStack, no_tracebacks) -> None:
    """A replica that never saw the request looks a late one up in the inbox, where the
    replica that took it recorded it after its ack."""
    ws = stack.workspace
    form = command_form(stack, "status all")
    timestamp = str(int(time.time()) - 20)  # signed 20 s ago: a capture replayed, not Slack
    first = await post(stack, form, timestamp=timestamp)
    assert (first.status, first.text) == (200, "")
    await ws.wait_for(lambda: all_response_url_payloads(ws), timeout=5)
    for _ in range(50):
        if await receipts(stack):
            break
        await asyncio.sleep(0.1)
    assert await receipts(stack) == 1
    stack.replica.web_app[slack_http.SEEN].clear()  # as another replica, or this one restarted, would be
    again = await post(stack, form, timestamp=timestamp)
    assert (again.status, again.text) == (200, "")
    await ws.settle()
    assert len(all_response_url_payloads(ws)) == 1


async def test_a_question_over_the_cap_is_refused_before_any_work(stack: DevStack, no_tracebacks) -> None:
    ws = stack.workspace
    long_question = "what did acme try " * (MAX_QUESTION_CHARS // 10)
    delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", f"ask {long_question}")
    assert delivery.status == 200
    notes = await ws.wait_for(lambda: [m for m in ws.ephemeral_messages("venture-acme", "U0ALICE") if "characters" in m.text], timeout=10)
    assert f"up to {MAX_QUESTION_CHARS:,} characters" in notes[0].text
    assert not [m for m in ws.messages("venture-acme") if "what did acme try" in m.text]  # not posted to the channel
    # A 120k-character DM gets the same explanation in its thread.
    dm = ws.dm_with("U0ALICE")
    asked = await ws.send_message("U0ALICE", dm.id, "x" * 120_000)
    replies = await ws.wait_for(lambda: [m for m in ws.thread(dm.id, asked.ts) if m.ts != asked.ts and m.user == ws.bot.id], timeout=20)
    assert "120,000 characters" in replies[0].text


async def test_numbers_beyond_the_columns_get_an_explanation(stack: DevStack, no_tracebacks) -> None:
    """Postgres refuses an INTEGER or BIGINT out of range: such a number names nothing, and
    the command says how to use it instead of failing."""
    ws = stack.workspace
    for text, says in (
        ("brain acme v99999999999", "Usage: `/lumen brain <venture> [version]`"),
        ("outcome 99999999999999999999 success", "No decision #"),
    ):
        before = len(ws.ephemeral_messages("venture-acme", "U0ALICE"))
        delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", text)
        assert delivery.status == 200
        notes = await ws.wait_for(lambda: ws.ephemeral_messages("venture-acme", "U0ALICE")[before:], timeout=10)
        assert notes[0].text.startswith(says), notes[0].text


async def test_what_slack_sends_besides_still_gets_its_answer(stack: DevStack, no_tracebacks) -> None:
    """The URL check when the request URL is saved, and the certificate check."""
    challenge = await post(stack, json.dumps({"type": "url_verification", "token": "x", "challenge": "c-123"}), content_type="application/json")
    assert challenge.status == 200 and "c-123" in challenge.text
    ssl = await post(stack, urlencode({"ssl_check": "1", "token": "x"}))
    assert ssl.status == 200
