"""`/lumen …`: ack at once, answer through the response_url after the ack.

Each subcommand opens its transaction (or read session), calls one service, and renders
the answer with a pure builder.

An answer that is ready without any I/O (help, and a status another asker loaded within the
last second) goes in the ack itself, as Slack allows: the person sees it with the ack, and
neither a second request to Slack nor a task is needed. Anything else is answered after the ack.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from lumen.agents import service as agents
from lumen.approvals import questions as asked
from lumen.approvals import service as approvals
from lumen.brain import service as brain
from lumen.container import Container
from lumen.costs import service as costs
from lumen.db.base import utcnow
from lumen.domain import questions
from lumen.engine import outbox, ratelimit
from lumen.engine.slack_calls import RESPONSE_URL
from lumen.domain.permissions import Action
from lumen.errors import LumenError, Reported
from lumen.log import get_logger
from lumen.metrics import COMMANDS
from lumen.render import messages
from lumen.render.agents import agents_changed_text, budget_blocks
from lumen.render.common import escape
from lumen.render.brain import brain_blocks
from lumen.render.costs import chart_follow_up, chart_missing, costs_blocks, costs_text
from lumen.render.help import help_blocks, help_text
from lumen.render.questions import waiting_for_you_blocks, waiting_for_you_text
from lumen.render.status import StatusReport, status_blocks, status_text
from lumen.slack import payloads
from lumen.slack.commands import Command, parse_command
from lumen.slack.direct_writes import respond as respond_on
from lumen.slack.listeners.ask import answer_in_thread
from lumen.ventures import service as ventures
from lumen.ventures.status import venture_status

log = get_logger(__name__)

Respond = Callable[..., Awaitable[None]]
Handler = Callable[[Container, Command, dict[str, Any], Respond], Awaitable[None]]


def _status_scope(cmd: Command, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(venture ref, channel): a venture's channel asks about that venture; elsewhere, or with
    `all`, every venture."""
    everything = cmd.raw.lower() == "all"
    ref = None if everything else (cmd.raw or None)
    return ref, (None if everything or ref else body.get("channel_id"))


def _reader(body: dict[str, Any]) -> ventures.Reader:
    """Who reads a command's answer: the person, where they typed it (replies are ephemeral,
    but a private venture's answer still stays out of channels its members do not own)."""
    return ventures.Reader(user_id=body.get("user_id"), channel_id=body.get("channel_id"))


async def _hidden(c: Container, body: dict[str, Any]) -> frozenset[str]:
    async with c.db.sessions() as session:
        return await ventures.hidden_from(session, c.directory, _reader(body))


def _status_key(c: Container, cmd: Command, body: dict[str, Any], hidden: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    ref, channel = _status_scope(cmd, body)
    scope = f"venture:{ref.lower()}" if ref else f"channel:{channel}" if channel else None
    return scope, c.workspace_tz, hidden


def _status_message(report: StatusReport) -> dict[str, Any]:
    return {"text": status_text(report), "blocks": status_blocks(report), "response_type": "ephemeral"}


def _status_loader(
    c: Container, cmd: Command, body: dict[str, Any], hidden: frozenset[str] = frozenset()
) -> Callable[[], Awaitable[StatusReport]]:
    ref, channel = _status_scope(cmd, body)

    async def load() -> StatusReport:
        async with c.db.sessions() as session:
            return await venture_status(session, venture_ref=ref, workspace_tz=c.workspace_tz, channel_id=channel, hidden=hidden)

    return load


async def _status(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    hidden = await _hidden(c, body)
    report = await c.status_cache.get(_status_key(c, cmd, body, hidden), _status_loader(c, cmd, body, hidden))
    await respond(**_status_message(report))


async def _help(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    unknown = None if cmd.name == "help" else cmd.name
    await respond(text=help_text(unknown), blocks=help_blocks(unknown), response_type="ephemeral")


async def _acting_on(c: Container, ref: str, body: dict[str, Any], *actions: Action) -> None:
    """The venture `ref` names, if the person may see it and take every one of `actions`."""
    async with c.db.sessions() as session:
        venture = await ventures.find_venture(session, ref, await ventures.hidden_from(session, c.directory, _reader(body)))
    for action in actions:
        await ventures.require(c.directory, c.config, venture, venture.name, venture.channel, body["user_id"], action)


async def _wake(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    args = [a for a in cmd.args if a != "--force"]
    force = len(args) != len(cmd.args)
    if len(args) != 2:
        await respond(text="Usage: `/lumen wake <venture> <role> [--force]`", response_type="ephemeral")
        return
    await _acting_on(c, args[0], body, "wake", *(("force",) if force else ()))
    async with c.db.transaction() as session:
        woken = await agents.wake(
            session, args[0], args[1], requested_by=body["user_id"], request_id=body.get("trigger_id"), force=force, coalesce=True
        )
    c.signals.runs.notify()
    text = messages.already_queued if woken.already_queued else messages.woken
    await respond(text=text(woken.venture, woken.role, woken.run_id), response_type="ephemeral")


async def _pause_or_resume(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if not 1 <= len(cmd.args) <= 2:
        await respond(text=f"Usage: `/lumen {cmd.name} <venture> [role]`", response_type="ephemeral")
        return
    role = cmd.args[1] if len(cmd.args) == 2 else None
    await _acting_on(c, cmd.args[0], body, "pause" if cmd.name == "pause" else "resume")
    async with c.db.transaction() as session:
        venture, changed = await agents.set_paused(session, cmd.args[0], role, paused=cmd.name == "pause", by=body["user_id"])
    verb = "paused" if cmd.name == "pause" else "resumed"
    if not changed:
        await respond(text=messages.nothing_to(verb, venture.name), response_type="ephemeral")
        return
    await respond(text=agents_changed_text(verb, venture.name, changed, body["user_id"]), response_type="in_channel")


async def _approvals(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    async with c.db.sessions() as session:
        cards = await approvals.pending_for(session, c.directory, body["user_id"])
        questions_open = await asked.pending_for(session, c.directory, body["user_id"])  # agents' questions (ask_human)
    await respond(
        text=waiting_for_you_text(len(cards), len(questions_open)),
        blocks=waiting_for_you_blocks(cards, questions_open),
        response_type="ephemeral",
    )


async def _outcome(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    args = list(cmd.args)
    replace = "--replace" in args
    args = [a for a in args if a != "--replace"]
    if len(args) < 2 or not args[0].lstrip("#").isdigit():
        await respond(text="Usage: `/lumen outcome <decision> <success|failure|mixed> [note] [--replace]`", response_type="ephemeral")
        return
    decision_id = int(args[0].lstrip("#")) if len(args[0].lstrip("#")) < 19 else 0
    async with c.db.sessions() as session:
        venture = await ventures.venture_of_decision(session, decision_id, c.directory, _reader(body))
    if venture is None:
        await respond(text=f"No decision #{decision_id}.", response_type="ephemeral")
        return
    await ventures.require(c.directory, c.config, venture, venture.name, venture.channel, body["user_id"], "outcomes")
    report = brain.OutcomeReport(
        decision_id=decision_id,
        verdict=args[1],
        note=" ".join(args[2:]) or None,
        reported_by=body["user_id"],
        replace=replace,
    )
    async with c.db.transaction() as session:
        recorded = await agents.record_outcome(session, report, source="slack", limits=agents.limits_from(c.settings))
    c.signals.outbox.notify()
    c.signals.runs.notify()
    superseded = f" (supersedes outcome #{recorded.superseded})" if recorded.superseded else ""
    await respond(
        text=f"Recorded outcome #{recorded.outcome_id} for decision #{recorded.decision_id}: {report.verdict}{superseded}.",
        response_type="ephemeral",
    )


async def _brain(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    version = payloads.positive_id(cmd.args[1].lstrip("v")) if len(cmd.args) == 2 else None
    # A version is an INTEGER column: a bigger number names none (and Postgres would refuse it).
    if not cmd.args or len(cmd.args) > 2 or (len(cmd.args) == 2 and (version is None or version > 2**31 - 1)):
        await respond(text="Usage: `/lumen brain <venture> [version]`", response_type="ephemeral")
        return
    hidden = await _hidden(c, body)
    async with c.db.sessions() as session:
        view = await brain.brain_view(session, cmd.args[0], version, tz=c.workspace_tz, hidden=hidden)
    await respond(text=f"{view.venture_name} brain v{view.version}", blocks=brain_blocks(view), response_type="ephemeral")


async def _ask(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if len(cmd.raw) < 3:
        await respond(text="Usage: `/lumen ask <question>`, e.g. `/lumen ask what did Acme try last quarter?`", response_type="ephemeral")
        return
    if questions.too_long(cmd.raw):  # not posted to the channel, not read: see domain/questions.py
        await respond(text=questions.too_long_reply(cmd.raw), response_type="ephemeral")
        return
    key = f"ask:{body['channel_id']}:{body.get('trigger_id', body['user_id'])}"
    async with c.db.transaction() as session:
        # The question goes to the channel so the answer can sit in its thread.
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": body["channel_id"], "text": messages.asked_in_channel(body["user_id"], cmd.raw)},
            dedupe_key=f"{key}:question",
        )
    await answer_in_thread(
        c, cmd.raw, user_id=body["user_id"], channel_id=body["channel_id"], thread_of=f"{key}:question", key=key
    )


async def _budget(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    now = utcnow()
    hidden = await _hidden(c, body)
    async with c.db.sessions() as session:
        lines = await ventures.budget_lines(session, cmd.raw or None, now, c.workspace_tz, hidden)
    rows = [(line.venture, line.role, line.status, line.spent_usd, line.budget_usd) for line in lines]
    month = now.astimezone(ZoneInfo(c.workspace_tz)).strftime("%B %Y")
    await respond(text=f"Spend this month ({month})", blocks=budget_blocks(rows, month), response_type="ephemeral")


async def _costs(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    now = utcnow()
    async with c.db.sessions() as session:
        hidden = await ventures.hidden_from(session, c.directory, _reader(body))
        report = await costs.costs_report(
            session, cmd.raw or None, now, c.gateway.ledger.platform, costs.wake_pricing(c.gateway, c.settings.context_tokens),
            hidden=hidden,
        )
        chart = await costs.report_chart(session, report, hidden, now)
    if chart is not None and chart.file_id:  # drawn and up within the hour: in the reply itself
        await respond(text=costs_text(report), blocks=costs_blocks(report, chart.block), response_type="ephemeral")
        return
    await respond(text=costs_text(report), blocks=costs_blocks(report), response_type="ephemeral")
    if chart is None or not body.get("response_url"):
        return
    # The chart follows the report once it is up (the response_url takes five replies).
    async with c.db.transaction() as session:
        await costs.queue_uploads(session, [chart])
        message = {"response_type": "ephemeral", "replace_original": False, "text": chart.alt_text, "blocks": chart_follow_up(chart.block, report.simulated)}
        await outbox.enqueue(
            session,
            RESPONSE_URL,
            {"url": body["response_url"], "message": message, "files_of": costs.files_of([chart]), "fallback_blocks": chart_missing()},
            dedupe_key=f"costs-chart-reply:{body.get('trigger_id') or body['response_url']}",
        )
    c.signals.outbox.notify()


HANDLERS: dict[str, Handler] = {
    "budget": _budget,
    "costs": _costs,
    "ask": _ask,
    "outcome": _outcome,
    "brain": _brain,
    "approvals": _approvals,
    "status": _status,
    "help": _help,
    "wake": _wake,
    "pause": _pause_or_resume,
    "resume": _pause_or_resume,
}


class ReadyAnswers:
    """The `/lumen` answers that need no I/O (help, an unknown subcommand, a status loaded in
    the last seconds), each rendered and serialised once per report.

    The HTTP front door gives them before Bolt sees the request (slack/http.py): Bolt's
    per-request machinery (a Web API client, authorization, middleware, argument injection)
    was most of what such an ack cost, and none of it is needed to answer from memory. The
    Socket Mode listener asks the same object."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self._rendered: dict[tuple[Any, ...], tuple[StatusReport, dict[str, Any], bytes]] = {}

    def __call__(self, body: dict[str, Any]) -> tuple[dict[str, Any], bytes] | None:
        """(the message, as JSON) if the command in `body` can be answered now; counted."""
        if body.get("command") != "/lumen":
            return None
        cmd = parse_command(body.get("text", ""))
        ready = self._answer(cmd, body)
        if ready is not None:
            COMMANDS.labels(subcommand=cmd.name if cmd.known else "unknown").inc()
        return ready

    def _answer(self, cmd: Command, body: dict[str, Any]) -> tuple[dict[str, Any], bytes] | None:
        c = self.c
        if cmd.name == "help" or not cmd.known:
            unknown = None if cmd.name == "help" else cmd.name
            message = {"text": help_text(unknown), "blocks": help_blocks(unknown), "response_type": "ephemeral"}
            return message, json.dumps(message).encode()
        if cmd.name != "status" or any(v.private for v in c.config.ventures):
            return None  # whether a private venture may be shown needs the directory: after the ack
        key = _status_key(c, cmd, body)
        report, due = c.status_cache.ready(key)
        if report is None:
            return None
        if due:  # answer from memory now; a later asker gets the new one
            load = _status_loader(c, cmd, body)
            c.status_cache.refresh_when_quiet(
                key, lambda: c.inflight.spawn(c.status_cache.get(key, load), name="lumen-status-refresh")
            )
        memo = self._rendered.get(key)
        if memo is None or memo[0] is not report:  # a burst renders each report once
            message = _status_message(report)
            memo = self._rendered[key] = (report, message, json.dumps(message).encode())
        return memo[1], memo[2]


def register(app: AsyncApp, c: Container) -> ReadyAnswers:
    """The `/lumen` listener; returns its ready answers, for the HTTP front door."""
    ready_answers = ReadyAnswers(c)

    async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
        ready = ready_answers(body)
        if ready is not None:
            await ack(**ready[0])
            return
        cmd = parse_command(body.get("text", ""))
        await ack()
        c.inflight.spawn(answer(body, cmd), name="lumen-listener:command")

    async def answer(body: dict[str, Any], cmd: Command) -> None:
        replies = 0

        async def respond(**message: Any) -> None:
            nonlocal replies
            replies += 1  # a command may answer twice (an error after a first answer)
            key = f"reply:{body.get('trigger_id') or body.get('response_url')}:{replies}"
            await respond_on(c, body["response_url"], message, key=key[:200])

        handler = HANDLERS.get(cmd.name, _help)
        COMMANDS.labels(subcommand=cmd.name if cmd.known else "unknown").inc()
        try:
            async with c.db.transaction() as session:
                allowance = await ratelimit.take(session, "command", body["user_id"], c.settings.commands_per_minute, utcnow())
            if not allowance.allowed:
                await respond(text=messages.slow_down("commands", allowance.limit, allowance.retry_after_s), response_type="ephemeral")
                return
            await handler(c, cmd, body, respond)
        except LumenError as exc:
            await respond(text=escape(str(exc)), response_type="ephemeral")
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            await respond(text=f"That didn't work: {reason}.", response_type="ephemeral")
        except Exception as exc:
            log.exception("lumen.slack.command_failed", text=body.get("text"))
            await respond(text=messages.command_failed(), response_type="ephemeral")
            raise Reported("the command failed") from exc  # the inbox tries it again

    app.command("/lumen")(listener)
    return ready_answers
