"""`/lumen …`: ack at once, answer through the response_url after the ack.

Each subcommand opens its transaction (or read session), calls one service, and renders
the answer with a pure builder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

from lumen.agents import service as agents
from lumen.approvals import service as approvals
from lumen.brain import service as brain
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.engine import outbox
from lumen.errors import LumenError, Reported
from lumen.log import get_logger
from lumen.metrics import COMMANDS
from lumen.render import messages
from lumen.render.agents import agents_changed_text, budget_blocks
from lumen.render.approvals import pending_list_blocks
from lumen.render.brain import brain_blocks
from lumen.render.help import help_blocks, help_text
from lumen.render.status import StatusReport, status_blocks, status_text
from lumen.slack.commands import Command, parse_command
from lumen.slack.direct_writes import respond as respond_on
from lumen.slack.listeners import ack_first
from lumen.slack.listeners.ask import answer_in_thread
from lumen.ventures import service as ventures
from lumen.ventures.status import venture_status

log = get_logger(__name__)

Respond = Callable[..., Awaitable[None]]
Handler = Callable[[Container, Command, dict[str, Any], Respond], Awaitable[None]]


async def _status(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    async def load() -> StatusReport:
        async with c.db.sessions() as session:
            return await venture_status(session, venture_ref=cmd.raw or None, workspace_tz=c.workspace_tz)

    report = await c.status_cache.get((cmd.raw.lower() or None, c.workspace_tz), load)
    await respond(text=status_text(report), blocks=status_blocks(report), response_type="ephemeral")


async def _help(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    unknown = None if cmd.name == "help" else cmd.name
    await respond(text=help_text(unknown), blocks=help_blocks(unknown), response_type="ephemeral")


async def _wake(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if len(cmd.args) != 2:
        await respond(text="Usage: `/lumen wake <venture> <role>`", response_type="ephemeral")
        return
    async with c.db.transaction() as session:
        woken = await agents.wake(session, cmd.args[0], cmd.args[1], requested_by=body["user_id"], request_id=body.get("trigger_id"))
    c.signals.runs.notify()
    await respond(text=messages.woken(woken.venture, woken.role, woken.run_id), response_type="ephemeral")


async def _pause_or_resume(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if not 1 <= len(cmd.args) <= 2:
        await respond(text=f"Usage: `/lumen {cmd.name} <venture> [role]`", response_type="ephemeral")
        return
    role = cmd.args[1] if len(cmd.args) == 2 else None
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
    await respond(
        text=f"{len(cards)} approval{'s' if len(cards) != 1 else ''} waiting for you",
        blocks=pending_list_blocks(cards, heading="Waiting for your approval"),
        response_type="ephemeral",
    )


async def _outcome(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    args = list(cmd.args)
    replace = "--replace" in args
    args = [a for a in args if a != "--replace"]
    if len(args) < 2 or not args[0].lstrip("#").isdigit():
        await respond(text="Usage: `/lumen outcome <decision> <success|failure|mixed> [note] [--replace]`", response_type="ephemeral")
        return
    report = brain.OutcomeReport(
        decision_id=int(args[0].lstrip("#")),
        verdict=args[1],
        note=" ".join(args[2:]) or None,
        reported_by=body["user_id"],
        replace=replace,
    )
    async with c.db.transaction() as session:
        recorded = await brain.record_outcome(session, report, source="slack")
    c.signals.outbox.notify()
    superseded = f" (supersedes outcome #{recorded.superseded})" if recorded.superseded else ""
    await respond(
        text=f"Recorded outcome #{recorded.outcome_id} for decision #{recorded.decision_id}: {report.verdict}{superseded}.",
        response_type="ephemeral",
    )


async def _brain(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if not cmd.args or len(cmd.args) > 2 or (len(cmd.args) == 2 and not cmd.args[1].lstrip("v").isdigit()):
        await respond(text="Usage: `/lumen brain <venture> [version]`", response_type="ephemeral")
        return
    version = int(cmd.args[1].lstrip("v")) if len(cmd.args) == 2 else None
    async with c.db.sessions() as session:
        view = await brain.brain_view(session, cmd.args[0], version)
    await respond(text=f"{view.venture_name} brain v{view.version}", blocks=brain_blocks(view), response_type="ephemeral")


async def _ask(c: Container, cmd: Command, body: dict[str, Any], respond: Respond) -> None:
    if len(cmd.raw) < 3:
        await respond(text="Usage: `/lumen ask <question>`, e.g. `/lumen ask what did Acme try last quarter?`", response_type="ephemeral")
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
    async with c.db.sessions() as session:
        lines = await ventures.budget_lines(session, cmd.raw or None, now, c.workspace_tz)
    rows = [(line.venture, line.role, line.status, line.spent_usd, line.budget_usd) for line in lines]
    month = now.astimezone(ZoneInfo(c.workspace_tz)).strftime("%B %Y")
    await respond(text=f"Spend this month ({month})", blocks=budget_blocks(rows, month), response_type="ephemeral")


HANDLERS: dict[str, Handler] = {
    "budget": _budget,
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


def register(app: AsyncApp, c: Container) -> None:
    async def answer(body: dict[str, Any]) -> None:
        replies = 0

        async def respond(**message: Any) -> None:
            nonlocal replies
            replies += 1  # a command may answer twice (an error after a first answer)
            key = f"reply:{body.get('trigger_id') or body.get('response_url')}:{replies}"
            await respond_on(c, body["response_url"], message, key=key[:200])

        cmd = parse_command(body.get("text", ""))
        handler = HANDLERS.get(cmd.name, _help)
        COMMANDS.labels(subcommand=cmd.name if cmd.known else "unknown").inc()
        try:
            await handler(c, cmd, body, respond)
        except LumenError as exc:
            await respond(text=str(exc), response_type="ephemeral")
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            await respond(text=f"That didn't work: {reason}.", response_type="ephemeral")
        except Exception as exc:
            log.exception("lumen.slack.command_failed", text=body.get("text"))
            await respond(text=messages.command_failed(), response_type="ephemeral")
            raise Reported("the command failed") from exc  # the inbox tries it again

    app.command("/lumen")(ack_first(answer, c.inflight))
